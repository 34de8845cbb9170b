"""Provider roles and scopes -> this app's roles and scopes, by explicit mapping only.

An identity provider's groups, app roles and scopes are names in *its* namespace: a
Keycloak realm role ``admin`` may mean "administers the realm", not "administers this
API". So nothing a provider token says becomes a role or a scope here unless the
operator wrote the mapping down: a [`ClaimsMapping`][backendkit.auth.ClaimsMapping] reads
the claims it is told to read (the presets below, or a custom path) and keeps only the
values it maps; everything else is dropped.

The presets cover where the common providers put them:

| preset | provider | shape |
| --- | --- | --- |
| ``scope`` | RFC 9068 / 8693, Auth0, Keycloak, Okta | space-separated string |
| ``scp`` | Entra ID (string), Okta (list) | string or list |
| ``roles`` | Entra ID app roles, custom claims | list |
| ``realm_access.roles`` | Keycloak realm roles | list in an object |
| ``cognito:groups`` | Amazon Cognito | list |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from backendkit.errors import ConfigurationError

__all__ = ["CLAIM_PRESETS", "ClaimSource", "ClaimsMapping"]


@dataclass(frozen=True, slots=True)
class ClaimSource:
    """Where to read a list of names in a token's claims.

    Attributes:
        path: the member names from the top of the payload down (``("realm_access",
            "roles")``); a tuple, because claim names may contain dots
            (``https://example.com/roles``) and colons (``cognito:groups``).

    A string value is split on whitespace (the ``scope`` form); a list keeps its string
    items; anything else (a number, an object, a missing member) reads as no names.

    Example:
        >>> ClaimSource(("realm_access", "roles")).read({"realm_access": {"roles": ["a", 1]}})
        frozenset({'a'})
    """

    path: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.path or not all(isinstance(part, str) and part for part in self.path):
            raise ConfigurationError("a claim path is a non-empty tuple of member names")

    def read(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The names found at this path (an empty set when there are none)."""
        value: Any = claims
        for part in self.path:
            if not isinstance(value, Mapping):
                return frozenset()
            value = value.get(part)
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list):
            return frozenset(item for item in value if isinstance(item, str) and item)
        return frozenset()


#: The claim locations the common providers use, by name (see the module's table).
CLAIM_PRESETS: Mapping[str, ClaimSource] = MappingProxyType(
    {
        "scope": ClaimSource(("scope",)),
        "scp": ClaimSource(("scp",)),
        "roles": ClaimSource(("roles",)),
        "realm_access.roles": ClaimSource(("realm_access", "roles")),
        "cognito:groups": ClaimSource(("cognito:groups",)),
    }
)

#: A preset's name or a custom source.
SourceSpec = str | ClaimSource
#: Provider value -> local name(s), or the provider values kept under their own names.
NameMap = Mapping[str, str | Iterable[str]] | Iterable[str]


def _sources(specs: SourceSpec | Iterable[SourceSpec], kind: str) -> tuple[ClaimSource, ...]:
    items = [specs] if isinstance(specs, str | ClaimSource) else list(specs)
    found = []
    for spec in items:
        if isinstance(spec, ClaimSource):
            found.append(spec)
        elif isinstance(spec, str) and spec in CLAIM_PRESETS:
            found.append(CLAIM_PRESETS[spec])
        else:
            presets = ", ".join(CLAIM_PRESETS)
            raise ConfigurationError(
                f"unknown {kind} source {spec!r}: use a preset ({presets}) or a ClaimSource"
            )
    return tuple(found)


def _names(mapping: NameMap | None, kind: str) -> Mapping[str, frozenset[str]]:
    if mapping is None:
        return MappingProxyType({})
    if isinstance(mapping, str):
        raise ConfigurationError(f"{kind} must be a mapping or a collection of names, not a str")
    if not isinstance(mapping, Mapping):
        mapping = {name: name for name in mapping}
    table: dict[str, frozenset[str]] = {}
    for source, target in mapping.items():
        single = isinstance(target, str) or not isinstance(target, Iterable)
        targets = frozenset([target] if single else target)
        if not isinstance(source, str) or not all(isinstance(t, str) and t for t in targets):
            raise ConfigurationError(f"{kind} maps provider names to local names (strings)")
        table[source] = targets
    return MappingProxyType(table)


class ClaimsMapping:
    """Which provider roles and scopes grant which local ones; nothing else is granted.

    Args:
        roles: provider value -> local role (or several), or a collection of provider
            values kept under their own names. Values not listed grant nothing.
        scopes: the same for scopes.
        role_claims: where provider roles are read: preset names from
            [`CLAIM_PRESETS`][backendkit.auth.CLAIM_PRESETS] or
            [`ClaimSource`][backendkit.auth.ClaimSource] objects.
        scope_claims: where provider scopes are read (default ``("scope", "scp")``).

    Raises:
        ConfigurationError: an unknown preset, or a mapping that is not names to names.

    Example:
        >>> mapping = ClaimsMapping(
        ...     roles={"api-admin": "admin"},
        ...     role_claims="realm_access.roles",
        ...     scopes=["users:read"],
        ... )
        >>> claims = {"realm_access": {"roles": ["api-admin", "offline_access"]},
        ...           "scope": "openid users:read users:write"}
        >>> sorted(mapping.roles(claims)), sorted(mapping.scopes(claims))
        (['admin'], ['users:read'])
        >>> ClaimsMapping().roles(claims)
        frozenset()
    """

    __slots__ = ("_role_map", "_role_sources", "_scope_map", "_scope_sources")

    def __init__(
        self,
        *,
        roles: NameMap | None = None,
        scopes: NameMap | None = None,
        role_claims: SourceSpec | Iterable[SourceSpec] = ("roles",),
        scope_claims: SourceSpec | Iterable[SourceSpec] = ("scope", "scp"),
    ) -> None:
        self._role_map = _names(roles, "roles")
        self._scope_map = _names(scopes, "scopes")
        self._role_sources = _sources(role_claims, "role")
        self._scope_sources = _sources(scope_claims, "scope")

    def __repr__(self) -> str:
        return (
            f"ClaimsMapping(roles={sorted(self._role_map)}, scopes={sorted(self._scope_map)}, "
            f"role_claims={[s.path for s in self._role_sources]}, "
            f"scope_claims={[s.path for s in self._scope_sources]})"
        )

    def roles(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The local roles ``claims`` grant (only mapped values)."""
        return _apply(self._role_sources, self._role_map, claims)

    def scopes(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The local scopes ``claims`` grant (only mapped values)."""
        return _apply(self._scope_sources, self._scope_map, claims)


def _apply(
    sources: tuple[ClaimSource, ...],
    table: Mapping[str, frozenset[str]],
    claims: Mapping[str, Any],
) -> frozenset[str]:
    if not table:
        return frozenset()
    granted: set[str] = set()
    for source in sources:
        for value in source.read(claims):
            granted |= table.get(value, frozenset())
    return frozenset(granted)
