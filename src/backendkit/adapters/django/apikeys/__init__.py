"""API keys on the Django ORM: an installable app with its model and migrations.

Add ``"backendkit.adapters.django.apikeys"`` to ``INSTALLED_APPS``, run ``manage.py
migrate``, and give the kit an [`ApiKeyService`][backendkit.auth.ApiKeyService] over a
[`DjangoApiKeyStore`][backendkit.adapters.django.apikeys.DjangoApiKeyStore]::

    from backendkit.adapters.django.apikeys import DjangoApiKeyStore

    api_keys = ApiKeyService.from_settings(settings, DjangoApiKeyStore())

The table (``bk_dj_api_keys``) has the fields of the SQLAlchemy one (``bk_api_keys``);
a key is looked up by its public id, which is the primary key.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._lazy import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from backendkit.adapters.django.apikeys._store import DjangoApiKeyStore

__all__ = ["DjangoApiKeyStore"]

# The store imports the model, which Django allows only once the app registry is
# ready: importing this package (as INSTALLED_APPS does) must not load it.
__getattr__, __dir__ = _lazy_exports(
    globals(), {"DjangoApiKeyStore": "backendkit.adapters.django.apikeys._store"}
)
