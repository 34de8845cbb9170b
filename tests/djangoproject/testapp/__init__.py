"""Models used by the Django tests."""
