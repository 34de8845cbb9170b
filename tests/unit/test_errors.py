"""The exception tree and error catalogue match DESIGN.md; internals never leak."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendkit import errors
from backendkit.errors import (
    ERROR_CATALOGUE,
    AppError,
    BackendKitError,
    BackendUnavailable,
    BadRequest,
    ConfigurationError,
    Conflict,
    ErrorDetail,
    Forbidden,
    InternalError,
    InvalidToken,
    MethodNotAllowed,
    MissingDependencyError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    to_app_error,
)

# The catalogue exactly as DESIGN.md states it (code -> status).
DESIGN_CATALOGUE = {
    "VALIDATION_ERROR": 400,
    "BAD_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "INVALID_TOKEN": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}

CLASSES: list[tuple[type[AppError], str, int]] = [
    (ValidationFailed, "VALIDATION_ERROR", 400),
    (BadRequest, "BAD_REQUEST", 400),
    (Unauthenticated, "UNAUTHENTICATED", 401),
    (InvalidToken, "INVALID_TOKEN", 401),
    (Forbidden, "FORBIDDEN", 403),
    (NotFound, "NOT_FOUND", 404),
    (MethodNotAllowed, "METHOD_NOT_ALLOWED", 405),
    (Conflict, "CONFLICT", 409),
    (PayloadTooLarge, "PAYLOAD_TOO_LARGE", 413),
    (UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415),
    (RateLimited, "RATE_LIMITED", 429),
    (InternalError, "INTERNAL_ERROR", 500),
    (ServiceUnavailable, "SERVICE_UNAVAILABLE", 503),
    (BackendUnavailable, "SERVICE_UNAVAILABLE", 503),
]


def test_catalogue_matches_design() -> None:
    """ERROR_CATALOGUE holds every code of DESIGN.md with its status, nothing else."""
    assert dict(ERROR_CATALOGUE) == DESIGN_CATALOGUE


@pytest.mark.parametrize(("cls", "code", "status"), CLASSES)
def test_each_class_has_its_code_status_and_message(
    cls: type[AppError], code: str, status: int
) -> None:
    """Every error class carries its wire code, HTTP status and a default message."""
    err = cls()
    assert (err.code, err.status) == (code, status)
    assert err.message == cls.default_message
    assert err.message
    assert err.details == ()
    assert str(err) == err.message
    assert isinstance(err, AppError)
    assert isinstance(err, BackendKitError)


def test_every_app_error_subclass_is_in_the_catalogue() -> None:
    """No public AppError subclass uses a code missing from the catalogue."""
    public = [getattr(errors, n) for n in errors.__all__]
    subclasses = [c for c in public if isinstance(c, type) and issubclass(c, AppError)]
    for cls in subclasses:
        assert ERROR_CATALOGUE[cls.code] == cls.status, cls


def test_message_details_and_headers_can_be_given() -> None:
    """An instance may override the message and add details and headers."""
    detail = ErrorDetail(field="email", message="Email is required")
    err = ValidationFailed("Email is required", details=[detail], headers={"X-A": "1"})
    assert err.message == "Email is required"
    assert err.details == (detail,)
    assert err.headers == {"X-A": "1"}
    assert repr(err) == "ValidationFailed(code='VALIDATION_ERROR', message='Email is required')"


def test_error_detail_wire_form_and_immutability() -> None:
    """ErrorDetail renders as {field, message} and cannot be changed."""
    detail = ErrorDetail(field=None, message="Body is not valid JSON")
    assert detail.to_dict() == {"field": None, "message": "Body is not valid JSON"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.field = "x"  # type: ignore[misc]


def test_unauthenticated_sends_www_authenticate() -> None:
    """401 UNAUTHENTICATED carries WWW-Authenticate: Bearer."""
    assert Unauthenticated().headers == {"WWW-Authenticate": "Bearer"}


def test_invalid_token_sends_invalid_token_challenge() -> None:
    """401 INVALID_TOKEN carries the RFC 6750 invalid_token challenge."""
    assert InvalidToken().headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    assert isinstance(InvalidToken(), Unauthenticated)


def test_401_headers_can_be_overridden() -> None:
    """A caller-supplied WWW-Authenticate wins over the default."""
    err = Unauthenticated(headers={"WWW-Authenticate": 'Bearer realm="api"'})
    assert err.headers == {"WWW-Authenticate": 'Bearer realm="api"'}


def test_method_not_allowed_lists_allowed_methods() -> None:
    """405 carries Allow with the methods upper-cased, de-duplicated and sorted."""
    assert MethodNotAllowed(allowed=["post", "GET", "get"]).headers == {"Allow": "GET, POST"}


def test_method_not_allowed_without_methods_has_no_allow_header() -> None:
    """Without a list of methods no Allow header is invented."""
    assert MethodNotAllowed().headers == {}


@pytest.mark.parametrize(
    ("retry_after", "header"), [(0, "1"), (1, "1"), (1.2, "2"), (59.999, "60"), (-3, "1")]
)
def test_rate_limited_retry_after_is_whole_seconds_rounded_up(
    retry_after: float, header: str
) -> None:
    """429 carries Retry-After in whole seconds, rounded up, at least 1 (0 invites a storm)."""
    err = RateLimited(retry_after=retry_after)
    assert err.headers == {"Retry-After": header}
    assert err.retry_after == retry_after


def test_rate_limited_without_retry_after() -> None:
    """Without a retry_after no Retry-After header is invented."""
    assert RateLimited().headers == {}


def test_backend_unavailable_is_a_503_service_unavailable() -> None:
    """A storage outage is SERVICE_UNAVAILABLE on the wire."""
    err = BackendUnavailable()
    assert isinstance(err, ServiceUnavailable)
    assert (err.code, err.status) == ("SERVICE_UNAVAILABLE", 503)


def test_non_wire_errors_are_rooted_too() -> None:
    """Non-wire errors share the root; MissingDependencyError is also an ImportError."""
    assert issubclass(ConfigurationError, BackendKitError)
    assert not issubclass(ConfigurationError, AppError)
    assert issubclass(MissingDependencyError, ImportError)
    assert issubclass(MissingDependencyError, BackendKitError)


def test_to_app_error_keeps_app_errors() -> None:
    """An AppError is returned unchanged (same object)."""
    err = NotFound("User not found")
    assert to_app_error(err) is err


@pytest.mark.parametrize(
    "exc",
    [
        KeyError("secret_column"),
        RuntimeError("password=hunter2 at db.internal:5432"),
        ZeroDivisionError(),
        ConfigurationError("BACKENDKIT_SECRET_KEY missing"),
        KeyboardInterrupt(),
    ],
)
def test_to_app_error_hides_everything_else(exc: BaseException) -> None:
    """Any other exception becomes a generic 500 INTERNAL_ERROR with no detail."""
    err = to_app_error(exc)
    assert isinstance(err, InternalError)
    assert (err.code, err.status) == ("INTERNAL_ERROR", 500)
    assert err.message == "An unexpected error occurred"
    assert err.details == ()
    assert err.headers == {}


@given(st.text())
def test_to_app_error_never_leaks_the_original_message(text: str) -> None:
    """Whatever an exception says, none of it reaches the client-facing error."""
    internal = f"<<{text}>>"
    err = to_app_error(ValueError(internal))
    assert err.message == "An unexpected error occurred"
    assert err.details == ()
    assert internal not in repr(err)
    assert internal not in str(err)
