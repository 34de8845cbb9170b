"""Verifying an identity provider's JWT access tokens (an OAuth 2.0 resource server).

[`OIDCVerifier`][backendkit.auth.OIDCVerifier] checks, in order: the compact form and its
header (no embedded or remote keys, ``alg`` in the issuer's allowlist, a ``typ`` an access
token may carry), the signature with the key the ``kid`` selects from the provider's
published set (bound to one algorithm; the token's ``alg`` must equal it), then the claims:
``iss`` exactly the issuer, ``aud`` naming this API, ``exp`` required and ``nbf``/``iat``
not in the future (with ``leeway``), ``azp``/``client_id`` among ``client_ids`` where both
are set, and nothing that marks an ID token. Opaque tokens (RFC 7662 introspection) are
not supported: a token that is not a JWS is refused.

**ID tokens are refused** (an ID token says who logged in to a client; it grants nothing
to an API, RFC 9068 §4). With ``require_at_jwt=True`` the header ``typ`` must be
``at+jwt`` (or ``application/at+jwt``), which only access tokens carry. Whatever the
setting, a token is refused when it carries an ID token's claims (``nonce``, ``at_hash``,
``c_hash``), when Cognito's ``token_use`` is not ``access``, when Keycloak's payload ``typ``
is not ``Bearer``, and, unless its ``typ`` is ``at+jwt``, when its one audience is the
client it was issued to (``aud`` equal to ``azp``: the shape of an ID token).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from backendkit.auth._claims import MAX_TIME
from backendkit.auth._claims_map import ClaimsMapping
from backendkit.auth._jwt import (
    ParsedToken,
    Rejected,
    check_header_basics,
    decode_payload,
    parse_compact,
    verify_signature,
)
from backendkit.auth._oidc_jwks import is_provider_kid
from backendkit.auth._oidc_provider import OIDCProvider
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError, InvalidToken
from backendkit.logging import security_event

__all__ = ["ACCESS_TOKEN_TYPES", "OIDCVerifier", "ProviderClaims"]

#: The header ``typ`` of an RFC 9068 JWT access token (compared case-insensitively).
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_PLAIN_TYPES = frozenset({"jwt", "application/jwt"})
# Claims only an ID token carries (OpenID Connect Core §2, §3.1.3.6, §3.3.2.11).
_ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")
_MAX_SUBJECT = 255


@dataclass(frozen=True, slots=True)
class ProviderClaims:
    """The verified content of a provider's access token.

    Attributes:
        iss: the issuer.
        sub: the subject, in the issuer's namespace (never a local user id by itself).
        aud: the audience (a string or a list; ``None`` for Cognito's access tokens).
        exp: expiry, seconds since the epoch.
        client_id: the client the token was issued to (``client_id``, else ``azp``), if any.
        roles: the local roles the mapping grants.
        scopes: the local scopes the mapping grants.
        claims: every claim of the token, read-only.
    """

    iss: str
    sub: str
    aud: str | list[str] | None
    exp: int | float
    client_id: str | None = None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, name: str) -> Any:
        """A claim by name (``claims["email"]``).

        Raises:
            KeyError: the token has no such claim.
        """
        return self.claims[name]

    def get(self, name: str, default: Any = None) -> Any:
        """A claim by name, or ``default`` when the token has none."""
        return self.claims.get(name, default)


class OIDCVerifier:
    """Verifies one issuer's JWT access tokens for this API.

    Args:
        provider: the issuer's [`OIDCProvider`][backendkit.auth.OIDCProvider], or its
            issuer URL (a provider with the default settings: discovery, ``RS256``).
        audience: this API's identifier as the provider writes it in ``aud`` (one, or
            several accepted values). Without it, a token the provider issued for any
            other API would be accepted here, so it may be ``None`` only with
            ``client_ids``, for providers whose access tokens carry no ``aud`` (Amazon
            Cognito): a token is then accepted only without ``aud`` and with a
            ``client_id`` among ``client_ids``.
        mapping: which provider roles and scopes grant local ones (default: none).
        client_ids: when given, a token naming its client (``azp`` or ``client_id``) must
            name one of these.
        require_at_jwt: require the RFC 9068 header ``typ: at+jwt`` (set it for
            providers that write it, e.g. Auth0, Okta custom servers, Curity).
        leeway: seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat`` (default 30).
        max_token_bytes: longer tokens are refused unread (default 16384).
        clock: the time source for the claims.

    Raises:
        ConfigurationError: neither an audience nor client ids, or an invalid option.

    Example:
        >>> verifier = OIDCVerifier("https://idp.example.com/", audience="https://api.example.com")
        >>> verifier.issuer
        'https://idp.example.com/'
    """

    def __init__(
        self,
        provider: OIDCProvider | str,
        *,
        audience: str | Collection[str] | None,
        mapping: ClaimsMapping | None = None,
        client_ids: Collection[str] = (),
        require_at_jwt: bool = False,
        leeway: float = 30.0,
        max_token_bytes: int = 16384,
        clock: Clock = system_clock,
    ) -> None:
        self.provider = provider if isinstance(provider, OIDCProvider) else OIDCProvider(provider)
        audiences = frozenset(
            () if audience is None else [audience] if isinstance(audience, str) else audience
        )
        self.client_ids = frozenset([client_ids] if isinstance(client_ids, str) else client_ids)
        if not all(isinstance(a, str) and a for a in audiences | self.client_ids) or not (
            audiences or self.client_ids
        ):
            raise ConfigurationError(
                "OIDCVerifier needs the API's audience (non-empty strings), or client_ids "
                "for a provider whose access tokens carry no aud"
            )
        if audience is not None and not audiences:
            raise ConfigurationError("OIDCVerifier audience is empty: pass None to omit it")
        self.audiences = audiences
        self.mapping = mapping if mapping is not None else ClaimsMapping()
        self.require_at_jwt = bool(require_at_jwt)
        if isinstance(leeway, bool) or not isinstance(leeway, int | float) or not leeway >= 0:
            raise ConfigurationError("OIDCVerifier leeway must be a number of seconds >= 0")
        self.leeway = float(leeway)
        if not isinstance(max_token_bytes, int) or max_token_bytes < 256:
            raise ConfigurationError("OIDCVerifier max_token_bytes must be an integer >= 256")
        self.max_token_bytes = max_token_bytes
        self._clock = clock

    def __repr__(self) -> str:
        return f"OIDCVerifier(issuer={self.issuer!r}, audiences={sorted(self.audiences)})"

    @property
    def issuer(self) -> str:
        """The issuer this verifier accepts (its provider's)."""
        return self.provider.issuer

    def verify(self, token: str | bytes) -> ProviderClaims:
        """Verify an access token and return its claims.

        Raises:
            InvalidToken: the token does not verify (401; the reason is logged).
            ServiceUnavailable: its key is not cached and the provider cannot be reached
                (503 with ``Retry-After``).
        """
        try:
            parsed = self._parse(token)
            verify_signature(parsed, self.provider.key_for(parsed.header.get("kid")))
            return self._claims(parsed)
        except Rejected as exc:
            raise self._reject(exc.reason) from None

    async def averify(self, token: str | bytes) -> ProviderClaims:
        """Async twin of [`verify`][backendkit.auth.OIDCVerifier.verify] (keys fetched
        without blocking the event loop)."""
        try:
            parsed = self._parse(token)
            verify_signature(parsed, await self.provider.akey_for(parsed.header.get("kid")))
            return self._claims(parsed)
        except Rejected as exc:
            raise self._reject(exc.reason) from None

    # -- the steps ---------------------------------------------------------------------------

    def _reject(self, reason: str) -> InvalidToken:
        security_event("provider_token_rejected", reason=reason, issuer=self.issuer)
        return InvalidToken()

    def _parse(self, token: str | bytes) -> ParsedToken:
        return parse_compact(
            token,
            max_bytes=self.max_token_bytes,
            algorithms=self.provider.algorithms,
            header_check=self._check_header,
        )

    def _check_header(self, header: dict[str, Any], algorithms: frozenset[str]) -> None:
        check_header_basics(header, algorithms)
        typ = header.get("typ")
        if typ is not None and not isinstance(typ, str):
            raise Rejected("bad_header")
        kind = None if typ is None else typ.lower()
        if self.require_at_jwt and kind not in ACCESS_TOKEN_TYPES:
            raise Rejected("not_an_access_token")
        if kind is not None and kind not in ACCESS_TOKEN_TYPES | _PLAIN_TYPES:
            raise Rejected("bad_header")
        kid = header.get("kid")
        if kid is not None and not is_provider_kid(kid):
            raise Rejected("malformed_kid")

    def _claims(self, parsed: ParsedToken) -> ProviderClaims:
        payload = decode_payload(parsed)
        if payload.get("iss") != self.issuer:
            raise Rejected("wrong_issuer")
        sub = payload.get("sub")
        if not isinstance(sub, str) or not 0 < len(sub) <= _MAX_SUBJECT:
            raise Rejected("missing_claim" if sub is None else "bad_claim")
        aud = payload.get("aud")
        if not self._audience_ok(aud):
            raise Rejected("wrong_audience")
        exp = _time(payload, "exp")
        if exp is None:
            raise Rejected("missing_claim")
        now, leeway = self._clock.now(), self.leeway
        if exp <= now - leeway:
            raise Rejected("expired")
        nbf, iat = _time(payload, "nbf"), _time(payload, "iat")
        if nbf is not None and nbf > now + leeway:
            raise Rejected("not_yet_valid")
        if iat is not None and iat > now + leeway:
            raise Rejected("issued_in_future")
        at_jwt = str(parsed.header.get("typ", "")).lower() in ACCESS_TOKEN_TYPES
        _refuse_id_token(payload, at_jwt)
        client = _client_of(payload)
        # Without an audience, the client is the only thing that names this API.
        named = client is not None or not self.audiences
        if self.client_ids and named and client not in self.client_ids:
            raise Rejected("wrong_client")
        return ProviderClaims(
            iss=self.issuer,
            sub=sub,
            aud=aud,
            exp=exp,
            client_id=client,
            roles=self.mapping.roles(payload),
            scopes=self.mapping.scopes(payload),
            claims=MappingProxyType(payload),
        )

    def _audience_ok(self, aud: Any) -> bool:
        if not self.audiences:
            return aud is None  # a token addressed to someone is not for this verifier
        if isinstance(aud, str):
            return aud in self.audiences
        if isinstance(aud, list) and aud and all(isinstance(item, str) for item in aud):
            return not self.audiences.isdisjoint(aud)
        return False


def _time(payload: Mapping[str, Any], name: str) -> int | float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("bad_claim")
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= MAX_TIME:
        raise Rejected("bad_claim")
    return value


def _client_of(payload: Mapping[str, Any]) -> str | None:
    for name in ("client_id", "azp"):
        value = payload.get(name)
        if value is not None:
            if not isinstance(value, str):
                raise Rejected("bad_claim")
            return value
    return None


def _refuse_id_token(payload: Mapping[str, Any], at_jwt: bool) -> None:
    if any(name in payload for name in _ID_TOKEN_CLAIMS):
        raise Rejected("id_token")
    use = payload.get("token_use")  # Amazon Cognito
    if use is not None and use != "access":
        raise Rejected("id_token")
    kind = payload.get("typ")  # Keycloak writes "Bearer", "ID" or "Refresh" here
    if kind is not None and (not isinstance(kind, str) or kind.lower() != "bearer"):
        raise Rejected("id_token")
    aud, azp = payload.get("aud"), payload.get("azp")
    if not at_jwt and azp is not None and (aud == azp or aud == [azp]):
        raise Rejected("id_token")
