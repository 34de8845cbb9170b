"""One-time tokens on the Django ORM: an installable app with its model and migrations.

Add ``"backendkit.adapters.django.onetime"`` to ``INSTALLED_APPS``, run ``manage.py
migrate``, and give [`OneTimeTokens`][backendkit.auth.OneTimeTokens] a
[`DjangoOneTimeTokenStore`][backendkit.adapters.django.onetime.DjangoOneTimeTokenStore]::

    from backendkit.adapters.django.onetime import DjangoOneTimeTokenStore

    tokens = OneTimeTokens.from_settings(settings, DjangoOneTimeTokenStore(), sender=mailer)

The table (``bk_dj_one_time_tokens``) has the fields of the SQLAlchemy one
(``bk_one_time_tokens``); a token is found by its digest, which is the primary key.
``manage.py backendkit_purge_one_time_tokens`` deletes expired rows.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._lazy import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from backendkit.adapters.django.onetime._store import DjangoOneTimeTokenStore

__all__ = ["DjangoOneTimeTokenStore"]

# The store imports the model, which Django allows only once the app registry is
# ready: importing this package (as INSTALLED_APPS does) must not load it.
__getattr__, __dir__ = _lazy_exports(
    globals(), {"DjangoOneTimeTokenStore": "backendkit.adapters.django.onetime._store"}
)
