"""The shared Django project of the test suite (settings, URLs and a test app)."""
