"""The examples' sign-in settings and shared helpers: provider users, reset senders, token
stores (no server needed)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from examples._shared import auth_extras
from examples._shared.auth_extras import (
    PROVIDER_USER_NAME,
    acting_principal,
    api_key_service,
    invalid_reset_token,
    keys_newest_first,
    no_password,
    oidc_verifier,
    password_reset_sender,
    password_reset_tokens,
    provider_email,
    provider_identity_key,
    provider_user_name,
    provider_user_values,
    require_reset,
    reset_email,
    session_claims,
)
from examples._shared.config import load_config
from examples._shared.schemas import PasswordResetConfirmIn, PasswordResetIn

from backendkit.auth import LoggingTokenSender
from backendkit.auth.sql import SQLApiKeyStore, SQLTokenStore, auth_metadata
from backendkit.errors import (
    BadRequest,
    ConfigurationError,
    Forbidden,
    InvalidToken,
    ServiceUnavailable,
)
from backendkit.settings import Settings
from backendkit.testing import capture_logs
from backendkit.web import Principal

DEV = {"BACKENDKIT_ENV": "development"}
PROD = {"BACKENDKIT_SECRET_KEY": "s" * 32, "BACKENDKIT_JWT_SECRET": "j" * 40}
ISSUER = "https://login.example.com/realms/main"


class Outbox:
    """A sender a deployment would name in BACKENDKIT_PASSWORD_RESET_SENDER."""

    def send(self, email: str, purpose: str, token: str) -> None:
        raise AssertionError("never called here")


def make_outbox() -> Outbox:
    return Outbox()


def not_a_sender() -> object:
    return object()


# ---------------------------------------------------------------- environment


def test_oidc_issuer_needs_an_audience() -> None:
    """An issuer without an audience stops the start; with one, both are kept."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_OIDC_AUDIENCE"):
        load_config("fastapi", {**DEV, "BACKENDKIT_OIDC_ISSUER": ISSUER})
    config = load_config(
        "fastapi",
        {**DEV, "BACKENDKIT_OIDC_ISSUER": ISSUER, "BACKENDKIT_OIDC_AUDIENCE": " api "},
    )
    assert (config.oidc_issuer, config.oidc_audience) == (ISSUER, "api")
    verifier = oidc_verifier(config)
    assert verifier is not None
    assert verifier.issuer == ISSUER


def test_oidc_is_off_by_default_and_refuses_half_or_bad_settings() -> None:
    """Unset: no verifier. An audience alone, or an issuer that is no URL, is refused."""
    config = load_config("flask", DEV)
    assert config.oidc_issuer is None
    assert oidc_verifier(config) is None
    with pytest.raises(ConfigurationError, match="without BACKENDKIT_OIDC_ISSUER"):
        load_config("flask", {**DEV, "BACKENDKIT_OIDC_AUDIENCE": "api"})
    with pytest.raises(ConfigurationError, match="BACKENDKIT_OIDC_ISSUER"):
        load_config(
            "flask",
            {**DEV, "BACKENDKIT_OIDC_ISSUER": "login.example", "BACKENDKIT_OIDC_AUDIENCE": "a"},
        )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "memory"),
        ({"BACKENDKIT_REDIS_URL": "redis://127.0.0.1:6379/0"}, "redis"),
        ({"BACKENDKIT_TOKEN_STORE": " SQL "}, "sql"),
        (
            {
                "BACKENDKIT_REDIS_URL": "redis://127.0.0.1:6379/0",
                "BACKENDKIT_TOKEN_STORE": "memory",
            },
            "memory",
        ),
    ],
)
def test_token_store_default_and_choice(environ: dict[str, str], expected: str) -> None:
    """Redis when a Redis URL is set, else memory; BACKENDKIT_TOKEN_STORE chooses."""
    assert load_config("fastapi", {**DEV, **environ}).token_store == expected


@pytest.mark.parametrize(
    ("value", "message"), [("redis", "needs BACKENDKIT_REDIS_URL"), ("disk", "must be one of")]
)
def test_token_store_refusals(value: str, message: str) -> None:
    """Redis without a Redis URL, or an unknown store, stops the start."""
    with pytest.raises(ConfigurationError, match=message):
        load_config("fastapi", {**DEV, "BACKENDKIT_TOKEN_STORE": value})


def test_sql_token_store_is_built_on_the_apps_database() -> None:
    """``sql`` takes the app's store; memory builds its own; sql without one is refused."""
    config = load_config("flask", {**DEV, "BACKENDKIT_TOKEN_STORE": "sql"})
    engine = sa.create_engine("sqlite://")
    auth_metadata.create_all(engine)
    try:
        kit = config.web_kit(sql_token_store=lambda: SQLTokenStore(engine))
        assert kit.tokens is not None
        assert isinstance(kit.tokens.store, SQLTokenStore)
        pair = kit.tokens.issue_pair("7")
        kit.tokens.revoke_user("7")
        with pytest.raises(InvalidToken):
            kit.tokens.verify_access(pair.access_token)
        with pytest.raises(ConfigurationError, match="BACKENDKIT_TOKEN_STORE=sql"):
            config.web_kit()
        memory = load_config("flask", DEV).web_kit(sql_token_store=_never)
        assert memory.tokens is not None
        assert not isinstance(memory.tokens.store, SQLTokenStore)
    finally:
        engine.dispose()


def _never() -> Any:
    raise AssertionError("the SQL store is built only for BACKENDKIT_TOKEN_STORE=sql")


def test_reset_sender_spec_must_name_a_callable() -> None:
    """module:callable is kept; anything else stops the start."""
    spec = f"{__name__}:make_outbox"
    assert (
        load_config(
            "fastapi", {**DEV, "BACKENDKIT_PASSWORD_RESET_SENDER": spec}
        ).password_reset_sender
        == spec
    )
    with pytest.raises(ConfigurationError, match="module:callable"):
        load_config("fastapi", {**DEV, "BACKENDKIT_PASSWORD_RESET_SENDER": "a b"})


# ---------------------------------------------------------------- reset sender


def test_reset_sender_logs_in_development_and_test() -> None:
    """Development and test: backendkit's logging sender."""
    for env in ("development", "test"):
        sender = password_reset_sender(load_config("fastapi", {"BACKENDKIT_ENV": env}))
        assert isinstance(sender, LoggingTokenSender)


def test_reset_sender_is_off_in_production_without_a_sender() -> None:
    """Production without BACKENDKIT_PASSWORD_RESET_SENDER: no service, a warning, and the
    routes' 503; with it, the named sender."""
    config = load_config("fastapi", PROD)
    with capture_logs() as logs:
        assert password_reset_tokens(config, object(), limiter=None) is None
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("password_reset_not_configured", "warning")
    ]
    with pytest.raises(ServiceUnavailable, match="password reset is not configured"):
        require_reset(None)
    named = load_config(
        "fastapi", {**PROD, "BACKENDKIT_PASSWORD_RESET_SENDER": f"{__name__}:make_outbox"}
    )
    assert isinstance(password_reset_sender(named), Outbox)
    tokens = password_reset_tokens(named, _memory_store(), limiter=None)
    assert tokens is not None
    assert require_reset(tokens) is tokens


def _memory_store() -> Any:
    from backendkit.auth import MemoryOneTimeTokenStore

    return MemoryOneTimeTokenStore()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (f"{__name__}:not_a_sender", "must return"),
        (f"{__name__}:missing", "cannot import"),
        ("no_such_module_here:make", "cannot import"),
    ],
)
def test_reset_sender_that_is_not_one_is_refused(spec: str, message: str) -> None:
    """A callable that returns no sender, or one that cannot be imported, stops the start."""
    config = load_config("fastapi", {**PROD, "BACKENDKIT_PASSWORD_RESET_SENDER": spec})
    with pytest.raises(ConfigurationError, match=message):
        password_reset_sender(config)


# ---------------------------------------------------------------- provider users


def _provider(claims: dict[str, Any], sub: str = "abc") -> Principal:
    return Principal(
        user_id=f"{ISSUER}#{sub}",
        roles=frozenset({"admin"}),  # whatever a mapping said: the local role decides
        claims=SimpleNamespace(get=claims.get),
        issuer=ISSUER,
        method="provider",
        subject=sub,
    )


def test_provider_email_is_a_keyed_placeholder() -> None:
    """Under .invalid, one per (issuer, subject), and not computable without the secret."""
    settings = Settings(env="test", secret_key=["k" * 32])
    email = provider_email(settings, ISSUER, "abc")
    assert email.endswith("@provider.invalid")
    assert email == provider_email(settings, ISSUER, "abc")
    assert email != provider_email(settings, ISSUER, "abd")
    assert email != provider_email(settings, ISSUER + "x", "abc")
    # The pair is encoded unambiguously: moving a character between the two changes it.
    assert provider_email(settings, "a#", "b") != provider_email(settings, "a", "#b")
    other = Settings(env="test", secret_key=["z" * 32])
    assert email != provider_email(other, ISSUER, "abc")


@pytest.mark.parametrize(
    ("claims", "name"),
    [
        ({"name": "  Ann Lee ", "preferred_username": "ann"}, "Ann Lee"),
        ({"name": "  ", "preferred_username": "ann"}, "ann"),
        ({"name": 7}, PROVIDER_USER_NAME),
        ({}, PROVIDER_USER_NAME),
        ({"name": "x" * 300}, "x" * 100),
    ],
)
def test_provider_user_name(claims: dict[str, Any], name: str) -> None:
    """name, else preferred_username, else "Provider user"; at most 100 characters."""
    assert provider_user_name(SimpleNamespace(get=claims.get)) == name


def test_provider_user_values_grant_nothing() -> None:
    """A new provider user: role user, no password, the placeholder email."""
    settings = Settings(env="test")
    values = provider_user_values(settings, _provider({"name": "Ann"}))
    assert values == {
        "email": provider_email(settings, ISSUER, "abc"),
        "name": "Ann",
        "role": "user",
        "password_hash": None,
    }


def test_acting_principal_takes_the_local_role() -> None:
    """Provider and API-key callers act with the local user's role; the app's own tokens
    keep their roles."""
    provider = _provider({}).with_user(SimpleNamespace(role="user"))
    assert acting_principal(provider).roles == {"user"}
    key = Principal("7", method="api_key", subject="7", user=SimpleNamespace(role="admin"))
    assert acting_principal(key).roles == {"admin"}
    own = Principal("7", roles=frozenset({"admin"}))
    assert acting_principal(own) is own
    assert acting_principal(Principal("7", method="api_key")).roles == frozenset()


def test_session_claims_refuse_callers_without_a_session() -> None:
    """Logout is for the app's own sessions: a clear 400 for keys and provider tokens."""
    claims = object()
    assert session_claims(Principal("7", claims=claims)) is claims
    for method in ("api_key", "provider"):
        with pytest.raises(BadRequest, match="Only a session"):
            session_claims(Principal("7", method=method))


def test_api_keys_are_created_by_sessions_and_provider_users_only() -> None:
    """Both sign-ins may create keys; a key may not."""
    engine = sa.create_engine("sqlite://")
    auth_metadata.create_all(engine)
    try:
        service = api_key_service(load_config("flask", DEV), SQLApiKeyStore(engine))
        for method in ("bearer", "provider"):
            new = service.create(Principal("7", method=method), name="ci")
            assert service.authenticate(new.secret).user_id == "7"
        with pytest.raises(Forbidden):
            service.create(Principal("7", method="api_key"), name="ci")
    finally:
        engine.dispose()


# ---------------------------------------------------------------- reset bodies


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ann@Example.com ", ("ann@example.com", "ann@example.com")),
        ("not an email", ("not an email", None)),
        ("   ", ("(blank)", None)),
    ],
)
def test_reset_email(raw: str, expected: tuple[str, str | None]) -> None:
    """A valid email is normalized; a malformed one has no account but still a bucket."""
    assert reset_email(raw) == expected


def test_reset_bodies() -> None:
    """camelCase bodies; any string is a token (refused later, on ``token``); the new
    password follows the password policy."""
    assert PasswordResetIn.model_validate({"email": "x"}).email == "x"
    body = PasswordResetConfirmIn.model_validate({"token": "", "password": "a long passphrase"})
    assert body.token == ""
    with pytest.raises(ValueError, match="password"):
        PasswordResetConfirmIn.model_validate({"token": "t", "password": "short"})
    refused = invalid_reset_token()
    assert (refused.status, [d.field for d in refused.details]) == (400, ["token"])
    assert auth_extras.PASSWORD_RESET == "password_reset"


def test_keys_are_listed_newest_first_without_secrets() -> None:
    """The list route's order and fields; a passwordless account's 400 names ``password``."""
    engine = sa.create_engine("sqlite://")
    auth_metadata.create_all(engine)
    try:
        service = api_key_service(load_config("flask", DEV), SQLApiKeyStore(engine))
        first = service.create(Principal("7"), name="first")
        second = service.create(Principal("7"), name="second")
        listed = keys_newest_first(service.list_keys("7"))
        assert [k["id"] for k in listed] == sorted(
            [first.key.id, second.key.id],
            key=lambda i: (first.key.created_at if i == first.key.id else second.key.created_at, i),
            reverse=True,
        )
        assert all("key" not in k for k in listed)
    finally:
        engine.dispose()
    refused = no_password()
    assert (refused.status, [d.field for d in refused.details]) == (400, ["password"])


def test_provider_identity_key_is_exact() -> None:
    """One key per (issuer, subject), telling apart what a case-insensitive collation (or
    a moved separator) would not."""
    key = provider_identity_key(ISSUER, "Ab")
    assert len(key) == 64
    assert key == provider_identity_key(ISSUER, "Ab")
    assert (
        len({key, provider_identity_key(ISSUER, "ab"), provider_identity_key(ISSUER, "Ab ")}) == 3
    )
    assert provider_identity_key("a#", "b") != provider_identity_key("a", "#b")
