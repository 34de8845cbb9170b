"""The sign-in variables of the examples' environment, parsed once at start.

``BACKENDKIT_OIDC_ISSUER`` and ``BACKENDKIT_OIDC_AUDIENCE`` (an identity provider whose
access tokens are accepted), ``BACKENDKIT_TOKEN_STORE`` (where sessions live) and
``BACKENDKIT_PASSWORD_RESET_SENDER`` (who delivers password-reset tokens). Every one is
documented in ``examples/README.md``; [`load_config`][examples._shared.config.load_config]
puts what ``read_auth_env`` returns on the
[`ExampleConfig`][examples._shared.config.ExampleConfig].
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal, get_args
from urllib.parse import urlsplit

from backendkit.errors import ConfigurationError

__all__ = ["TOKEN_STORES", "TokenStoreKind", "read_auth_env"]

#: Where the token service keeps refresh sessions and revocations.
TokenStoreKind = Literal["redis", "memory", "sql"]
#: The values ``BACKENDKIT_TOKEN_STORE`` accepts.
TOKEN_STORES: Final = frozenset(get_args(TokenStoreKind))

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_SENDER = re.compile(rf"{_IDENTIFIER}(\.{_IDENTIFIER})*:{_IDENTIFIER}(\.{_IDENTIFIER})*")


def read_auth_env(source: Mapping[str, str], *, redis: bool) -> dict[str, Any]:
    """The ``ExampleConfig`` fields the sign-in variables give (``redis``: whether
    ``BACKENDKIT_REDIS_URL`` is set).

    Raises:
        ConfigurationError: an issuer without an audience (or the reverse), an issuer that
            is not an http(s) URL, an unknown token store, ``redis`` without Redis, or a
            sender that is not ``module:callable``; the message names the variable.
    """
    issuer = _stripped(source.get("BACKENDKIT_OIDC_ISSUER"))
    audience = _stripped(source.get("BACKENDKIT_OIDC_AUDIENCE"))
    if issuer and not audience:
        raise ConfigurationError(
            "BACKENDKIT_OIDC_AUDIENCE is required with BACKENDKIT_OIDC_ISSUER: without it a "
            "token the provider issued for any other API would be accepted here"
        )
    if audience and not issuer:
        raise ConfigurationError("BACKENDKIT_OIDC_AUDIENCE is set without BACKENDKIT_OIDC_ISSUER")
    if issuer:
        parts = urlsplit(issuer)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ConfigurationError("BACKENDKIT_OIDC_ISSUER must be the provider's issuer URL")
    return {
        "oidc_issuer": issuer or None,
        "oidc_audience": audience or None,
        "token_store": _token_store(source.get("BACKENDKIT_TOKEN_STORE"), redis=redis),
        "password_reset_sender": _sender(source.get("BACKENDKIT_PASSWORD_RESET_SENDER")),
    }


def _stripped(raw: str | None) -> str:
    return (raw or "").strip()


def _token_store(raw: str | None, *, redis: bool) -> TokenStoreKind:
    chosen = _stripped(raw).lower() or ("redis" if redis else "memory")
    if chosen not in TOKEN_STORES:
        raise ConfigurationError(
            f"BACKENDKIT_TOKEN_STORE must be one of {', '.join(sorted(TOKEN_STORES))}"
        )
    if chosen == "redis" and not redis:
        raise ConfigurationError("BACKENDKIT_TOKEN_STORE=redis needs BACKENDKIT_REDIS_URL")
    kind: TokenStoreKind = chosen  # type: ignore[assignment]  # checked against TOKEN_STORES
    return kind


def _sender(raw: str | None) -> str | None:
    spec = _stripped(raw)
    if not spec:
        return None
    if _SENDER.fullmatch(spec) is None:
        raise ConfigurationError(
            "BACKENDKIT_PASSWORD_RESET_SENDER must name a callable as module:callable, "
            "e.g. myapp.mail:reset_sender"
        )
    return spec
