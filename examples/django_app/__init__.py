"""The users service on Django: the Django ORM, migrations, backendkit's Django adapter.

Migrate, then start it under gunicorn (see ``examples/README.md``)::

    python -m examples.django_app.manage migrate
    gunicorn -b 127.0.0.1:8000 examples.django_app.project.wsgi
"""
