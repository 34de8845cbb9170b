"""The ``users`` Django app: the model, its migration, the API views."""
