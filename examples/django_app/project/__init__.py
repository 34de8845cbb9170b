"""The Django project of the example: settings, root URLconf, WSGI and ASGI entry points."""
