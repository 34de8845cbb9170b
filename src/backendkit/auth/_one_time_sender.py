"""How a one-time token reaches its owner: the sender interface and the development sender.

The [`OneTimeTokens`][backendkit.auth.OneTimeTokens] service hands each new token to a
sender and never returns it, so the caller's answer is the same whether the email has an
account or not. Production senders put the token in a link and mail it (or queue the
mail: a send that waits on SMTP makes a known email answer more slowly than an unknown
one). ``LoggingTokenSender`` logs it instead, for local work, and refuses to exist
anywhere else.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from backendkit.errors import ConfigurationError
from backendkit.logging import get_logger

if TYPE_CHECKING:
    from backendkit.settings import Settings

__all__ = ["AsyncTokenSender", "LoggingTokenSender", "TokenSender"]

_log = get_logger("backendkit.auth.one_time")
_ALLOWED_ENVS = frozenset({"development", "test"})


@runtime_checkable
class TokenSender(Protocol):
    """Delivers a one-time token to the address it was issued for."""

    def send(self, email: str, purpose: str, token: str) -> None:
        """Deliver ``token`` (for ``purpose``) to ``email``; never log the token."""


@runtime_checkable
class AsyncTokenSender(Protocol):
    """The async twin of [`TokenSender`][backendkit.auth.TokenSender]."""

    async def asend(self, email: str, purpose: str, token: str) -> None:
        """Deliver ``token`` (for ``purpose``) to ``email``; never log the token."""


class LoggingTokenSender:
    """Logs each token (event ``one_time_token_issued``, field ``code``) instead of
    sending it: for development, where there is no mail server.

    Args:
        settings: settings whose ``env`` decides; by default ``BACKENDKIT_ENV``.

    Raises:
        ConfigurationError: the environment is neither ``development`` nor ``test``
            (a token in a production log is a way into any account).

    Example:
        >>> from backendkit.settings import Settings
        >>> sender = LoggingTokenSender(Settings(env="development"))
    """

    def __init__(self, settings: Settings | None = None) -> None:
        env = settings.env if settings is not None else os.environ.get("BACKENDKIT_ENV", "")
        if env.strip().lower() not in _ALLOWED_ENVS:
            raise ConfigurationError(
                "LoggingTokenSender logs one-time tokens and is refused outside development: "
                "set BACKENDKIT_ENV=development, or give the service a sender that mails them"
            )

    def send(self, email: str, purpose: str, token: str) -> None:
        """Log the token with its purpose and address."""
        _log.warning("one_time_token_issued", purpose=purpose, email=email, code=token)

    async def asend(self, email: str, purpose: str, token: str) -> None:
        """Async twin of ``send`` (logging does no I/O worth a thread)."""
        self.send(email, purpose, token)
