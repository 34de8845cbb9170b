"""The SQL token store on the Django ORM: an installable app with its models and migrations.

Add ``"backendkit.adapters.django.tokenstore"`` to ``INSTALLED_APPS``, run ``manage.py
migrate``, and give the token service a
[`DjangoTokenStore`][backendkit.adapters.django.tokenstore.DjangoTokenStore]::

    from backendkit.adapters.django.tokenstore import DjangoTokenStore

    tokens = TokenService(key, store=DjangoTokenStore())

It keeps the guarantees of the Redis and SQLAlchemy stores (atomic rotation with reuse
detection, the grace window, revocation of a session, a token or a user) with the same
decisions (``backendkit.auth._store_rules``). ``manage.py purge_tokens`` deletes expired
rows; the store also does so itself after logins and refreshes, once per
``purge_interval``.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._lazy import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from backendkit.adapters.django.tokenstore._store import DjangoTokenStore

__all__ = ["DjangoTokenStore"]

# The store imports the models, which Django allows only once the app registry is
# ready: importing this package (as INSTALLED_APPS does) must not load them.
__getattr__, __dir__ = _lazy_exports(
    globals(), {"DjangoTokenStore": "backendkit.adapters.django.tokenstore._store"}
)
