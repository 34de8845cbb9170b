"""The black-box HTTP contract suite of the three example apps."""
