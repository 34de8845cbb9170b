"""The users service on Flask: an app factory, blueprints, sync SQLAlchemy.

Start it under gunicorn (see ``examples/README.md``)::

    gunicorn -b 127.0.0.1:8000 'examples.flask_app:create_app()'
"""

from examples.flask_app.app import create_app

__all__ = ["create_app"]
