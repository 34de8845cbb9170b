"""The framework-free web core every adapter is built on.

Nothing here imports Flask, FastAPI, Starlette or Django: the adapters translate their
framework's request and response objects into calls to these functions, so the three
frameworks behave identically and a new adapter is a few hundred lines of translation
(see *Integrations → Custom adapter* in the docs).

- the bundle: `WebKit`, `CookieAuth`, `UserLoader`, `DEFAULT_API_PREFIXES`;
- the pipeline: `Pipeline` (every decision about a request, in order: start, admit,
  authenticate, charge limits, render errors), over the `RequestFacts` an adapter reads,
  and `Offload` for a blocking call from async code;
- one request: `RequestCycle` (request id, log context, response headers, access log),
  and `AsgiCycle`, the same for an ASGI middleware (body counted against the cap);
  `RequestObserver`, what request metrics and tracing are told of each request, and
  `HeaderReader`, how they read its headers;
- errors: `render_error`, `error_for_status`, and for a framework's own errors
  `framework_error` and `request_validation_error`;
- bodies: `BodyBudget`, `check_content_length`, `read_body`, `aread_body`,
  `require_json`, `parse_body`;
- API keys beside tokens: `request_credential` (a `Credential`), `api_key_from`,
  `API_KEY_HEADER`, `authenticate_credential`, `aauthenticate_credential`,
  `principal_from_api_key`;
- auth: `bearer_token`, `credentials`, `Principal`, `authenticate`, `aauthenticate`,
  `principal_from_claims`, `principal_from_provider`, `provider_for`, `LinkedUser`,
  `check_roles`, `check_scopes`, `check_csrf`, `new_csrf_token`,
  `auth_cookie_headers`;
- rate limits: `RouteLimit` and `LimitOptions` (what a route charges: key kind, function
  or literal bucket), `KeyKind`, `KeyFunc`,
  `client_key`, `limit_key`, `route_rule`, `rule_name`, `enforce_limit`,
  `aenforce_limit`, `limit_headers` and `most_restrictive` (one set of headers for
  several rules);
- HTTP caching: `etag_for`, `etag_matches`, `conditional`, `conditional_response`,
  `cache_control`;
- health: `HealthRoute` (a health route kept out of the default limit), `check_health`,
  `acheck_health`, `HealthReport`, `health_response`.
"""

from backendkit.web._answers import HealthRoute, conditional_response
from backendkit.web._api_key_auth import (
    API_KEY_HEADER,
    Credential,
    aauthenticate_credential,
    api_key_from,
    authenticate_credential,
    principal_from_api_key,
    request_credential,
)
from backendkit.web._asgi import AsgiCycle
from backendkit.web._auth import (
    aauthenticate,
    auth_cookie_headers,
    authenticate,
    bearer_token,
    check_csrf,
    check_roles,
    check_scopes,
    credentials,
    new_csrf_token,
    principal_from_claims,
    principal_from_provider,
    provider_for,
)
from backendkit.web._body import (
    BodyBudget,
    aread_body,
    check_content_length,
    is_json_media_type,
    parse_body,
    read_body,
    require_json,
)
from backendkit.web._caching import cache_control, conditional, etag_for, etag_matches
from backendkit.web._cycle import HeaderReader, RequestCycle, RequestObserver
from backendkit.web._errors import error_for_status, render_error
from backendkit.web._framework_errors import framework_error, request_validation_error
from backendkit.web._headers import (
    JSON_CONTENT_TYPE,
    NO_STORE,
    REQUEST_ID_HEADER,
    SECURITY_HEADERS,
)
from backendkit.web._health import HealthReport, acheck_health, check_health, health_response
from backendkit.web._kit import DEFAULT_API_PREFIXES, CookieAuth, UserLoader, WebKit
from backendkit.web._limit_headers import limit_headers, most_restrictive
from backendkit.web._limits import (
    KeyFunc,
    KeyKind,
    LimitOptions,
    RouteLimit,
    aenforce_limit,
    enforce_limit,
    limit_key,
    route_rule,
    rule_name,
)
from backendkit.web._pipeline import Offload, Pipeline, RequestFacts, client_key
from backendkit.web._principal import LinkedUser, Principal

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_API_PREFIXES",
    "JSON_CONTENT_TYPE",
    "NO_STORE",
    "REQUEST_ID_HEADER",
    "SECURITY_HEADERS",
    "AsgiCycle",
    "BodyBudget",
    "CookieAuth",
    "Credential",
    "HeaderReader",
    "HealthReport",
    "HealthRoute",
    "KeyFunc",
    "KeyKind",
    "LimitOptions",
    "LinkedUser",
    "Offload",
    "Pipeline",
    "Principal",
    "RequestCycle",
    "RequestFacts",
    "RequestObserver",
    "RouteLimit",
    "UserLoader",
    "WebKit",
    "aauthenticate",
    "aauthenticate_credential",
    "acheck_health",
    "aenforce_limit",
    "api_key_from",
    "aread_body",
    "auth_cookie_headers",
    "authenticate",
    "authenticate_credential",
    "bearer_token",
    "cache_control",
    "check_content_length",
    "check_csrf",
    "check_health",
    "check_roles",
    "check_scopes",
    "client_key",
    "conditional",
    "conditional_response",
    "credentials",
    "enforce_limit",
    "error_for_status",
    "etag_for",
    "etag_matches",
    "framework_error",
    "health_response",
    "is_json_media_type",
    "limit_headers",
    "limit_key",
    "most_restrictive",
    "new_csrf_token",
    "parse_body",
    "principal_from_api_key",
    "principal_from_claims",
    "principal_from_provider",
    "provider_for",
    "read_body",
    "render_error",
    "request_credential",
    "request_validation_error",
    "require_json",
    "route_rule",
    "rule_name",
]
