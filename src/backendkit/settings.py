"""Settings, parsed once, from code or ``BACKENDKIT_*`` environment variables.

One [`Settings`][backendkit.settings.Settings] describes a service; each component builds
itself from it with ``from_settings`` (the token service, the limiters, the cache, the Redis
connectors, the client-address resolver, the cursor codec), and ``WebKit.from_settings``
builds those a web app needs in one call. Invalid values are a
[`ConfigurationError`][backendkit.errors.ConfigurationError] that names the variable and
never repeats its value (settings hold secrets).

Example:
    >>> s = Settings(env="development", secret_key=["k1-new-0123456789", "k0-old-0123456789"])
    >>> s.is_production
    False
    >>> len(s.derive_keys("cursor"))
    2
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from backendkit.errors import DEFAULT_RETRY_AFTER, ConfigurationError

__all__ = ["ENV_PREFIX", "Settings"]

#: Prefix of every environment variable backendkit reads.
ENV_PREFIX = "BACKENDKIT_"

# Fields whose environment form is a comma-separated list.
_LIST_FIELDS = frozenset({"secret_key", "trusted_proxies"})


class Settings(BaseModel):
    """Every setting backendkit's components and adapters read.

    Build it in code (``Settings(secret_key=[...])``) or from the environment
    (``Settings.from_env()``); adapters take the object and never re-read the environment.
    Invalid values raise [`ConfigurationError`][backendkit.errors.ConfigurationError]
    naming the variable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    env: Literal["production", "development", "test"] = Field(
        "production",
        description="Deployment environment. Production is the default and refuses unsafe "
        "configurations; `development` and `test` relax only what the docs list.",
    )
    secret_key: tuple[SecretStr, ...] = Field(
        (),
        description="Secret keys, newest first: the first signs, all verify. "
        "Purpose-specific keys are derived from them. Required in production.",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        description="HMAC key for JWTs; when unset, one is derived from each `secret_key` "
        "(with neither, development and test sign with a publicly known key and warn).",
    )
    api_key_secret: SecretStr | None = Field(
        None,
        description="HMAC key for API key digests (at least 32 bytes); when unset, one is "
        "derived from each `secret_key`.",
    )
    jwt_issuer: str | None = Field(None, description="`iss` claim issued and required.")
    jwt_audience: str | None = Field(None, description="`aud` claim issued and required.")
    jwt_access_ttl: float = Field(900.0, gt=0, le=86400, description="Access token lifetime (s).")
    jwt_refresh_ttl: float = Field(
        1_209_600.0, gt=0, le=31_536_000, description="Refresh token lifetime (s)."
    )
    jwt_max_session_lifetime: float = Field(
        2_592_000.0,
        gt=0,
        le=31_536_000,
        description="Cap on a refresh family's lifetime however often it is refreshed (s).",
    )
    jwt_leeway: float = Field(0.0, ge=0, le=300, description="Clock-skew allowance (s).")
    password_bcrypt_cost: int = Field(
        12, ge=4, le=31, description="bcrypt cost; below 10 only outside production."
    )
    database_url: str | None = Field(None, description="SQLAlchemy database URL.")
    redis_url: str | None = Field(
        None,
        description="Redis URL shared by the token store, limiter and cache "
        "(`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://`). "
        "Unset: in-memory backends (one process only).",
    )
    redis_connect_timeout: float = Field(0.25, gt=0, le=30, description="Seconds.")
    redis_command_timeout: float = Field(0.25, gt=0, le=30, description="Seconds.")
    redis_breaker_threshold: int = Field(
        1, ge=1, le=1000, description="Consecutive failures that open the circuit breaker."
    )
    redis_breaker_cooldown: float = Field(
        5.0, gt=0, le=3600, description="Seconds the breaker stays open before a trial call."
    )
    redis_warn_interval: float = Field(
        30.0, gt=0, le=86400, description="At most one outage warning per this many seconds."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1, le=1_073_741_824, description="Largest accepted request body."
    )
    rate_limit_default: str | None = Field(
        None, description='Default rate limit for API routes, e.g. "100/15 minutes".'
    )
    refresh_grace_seconds: float = Field(
        5.0,
        ge=0,
        le=60,
        description="Window in which a concurrent refresh of the same token gets the same pair.",
    )
    retry_after: float = Field(
        DEFAULT_RETRY_AFTER,
        gt=0,
        le=3600,
        description="Retry-After (s) of a 503 that names no time itself (a database outage).",
    )
    trusted_proxies: tuple[str, ...] = Field(
        (),
        description="Addresses or networks (CIDR) of proxies whose X-Forwarded-For is trusted.",
    )
    error_format: Literal["envelope", "problem"] = Field(
        "envelope",
        description="`problem` renders errors as RFC 9457 application/problem+json.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="`auto`: console in development, JSON lines elsewhere."
    )

    def __init__(self, **data: Any) -> None:
        # pydantic's own error text quotes the input, which here would be a secret: invalid
        # settings become a ConfigurationError that names each variable and never its value.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigurationError(_describe(exc)) from None

    @field_validator("secret_key", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str | SecretStr):
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        # BACKENDKIT_LOG_LEVEL=debug is as clear as DEBUG; logging's names are upper-case.
        return value.upper() if isinstance(value, str) else value

    @field_validator("secret_key")
    @classmethod
    def _keys_long_enough(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for key in value:
            if len(key.get_secret_value().encode()) < 16:
                raise ValueError("each secret key must be at least 16 bytes long")
        return value

    @field_validator("jwt_secret", "api_key_secret")
    @classmethod
    def _jwt_secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # HS256 needs a key at least as long as its output to keep its full strength.
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("this HMAC secret must be at least 32 bytes long")
        return value

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.env == "production" and not self.secret_key:
            raise ValueError(
                "a secret key is required in production (set BACKENDKIT_SECRET_KEY, "
                "or BACKENDKIT_ENV=development for local work)"
            )
        if self.env == "production" and self.password_bcrypt_cost < 10:
            raise ValueError("a bcrypt cost below 10 is refused in production")
        return self

    @property
    def is_production(self) -> bool:
        """True unless ``env`` is ``development`` or ``test``."""
        return self.env == "production"

    @property
    def resolved_log_format(self) -> Literal["json", "console"]:
        """The log format after resolving ``auto``."""
        if self.log_format != "auto":
            return self.log_format
        return "console" if self.env == "development" else "json"

    def derive_keys(self, purpose: str) -> list[bytes]:
        """Return one 32-byte key per secret key for ``purpose`` (the first one signs).

        Keys for different purposes (cursor signing, CSRF, tokens) are independent, so a
        leak of one derived key reveals neither the secret nor the others. Without a
        configured secret (development and test only) the keys are derived from a constant
        published in this source: anyone can compute them.
        """
        secrets = [k.get_secret_value().encode() for k in self.secret_key] or [
            b"backendkit-insecure-development-key"
        ]
        label = b"backendkit:" + purpose.encode()
        return [hmac.new(secret, label, hashlib.sha256).digest() for secret in secrets]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``BACKENDKIT_*`` variables (``os.environ`` by default).

        ``overrides`` win over the environment. Lists (``BACKENDKIT_SECRET_KEY``,
        ``BACKENDKIT_TRUSTED_PROXIES``) are comma-separated.

        Raises:
            ConfigurationError: a variable is invalid; the message names it, never its value.
        """
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = source.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update(overrides)
        return cls(**values)


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = error["loc"][0] if error["loc"] else ""
        var = ENV_PREFIX + str(loc).upper() if loc else "settings"
        problems.append(f"{var}: {error['msg']}")
    return "invalid settings: " + "; ".join(problems)
