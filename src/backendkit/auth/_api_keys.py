"""`ApiKeyService`: create, list, revoke and check API keys for machine clients.

Every decision is made here once, in pure helpers; the sync methods and their async twins
(``a`` prefix) only differ in how they call the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from backendkit.auth._api_key_core import (
    LAST_USED_INTERVAL,
    ApiKey,
    ApiKeyDigester,
    ApiKeyRecord,
    KeyCreator,
    NewApiKey,
    ParsedKey,
    check_prefix,
    needs_touch,
    new_key_parts,
    parse_key,
    scopes_of,
)
from backendkit.auth._api_key_store import ApiKeyStore, AsyncApiKeyStore
from backendkit.clock import Clock, system_clock
from backendkit.errors import (
    ConfigurationError,
    ErrorDetail,
    Forbidden,
    InvalidToken,
    NotFound,
    ValidationFailed,
)
from backendkit.logging import get_logger, security_event

if TYPE_CHECKING:
    from backendkit.settings import Settings

__all__ = ["ApiKeyService"]

_log = get_logger("backendkit.auth")
_MAX_NAME = 100
# The challenge of a refused key names the scheme it was presented with.
_CHALLENGE = {"WWW-Authenticate": 'ApiKey error="invalid_key"'}
_dev_key_warned = False


class ApiKeyService:
    """Issues API keys to signed-in users and checks the keys machine clients present.

    A key is shown once, when created ([`NewApiKey`][backendkit.auth.NewApiKey]); the store
    keeps only an HMAC of it. Keys are scoped (a subset of the creator's scopes), may
    expire, may be revoked, and record when they were last used (at most one write per key
    per minute). Only a caller who signed in with one of ``creator_methods`` may create
    keys, so a key can never mint another key.

    Args:
        store: an [`ApiKeyStore`][backendkit.auth.ApiKeyStore] (sync methods), an
            [`AsyncApiKeyStore`][backendkit.auth.AsyncApiKeyStore] (``a`` methods), or
            one that is both (the memory store).
        keys: the server keys, newest first, each at least 32 bytes (``str`` is UTF-8
            encoded): the first computes digests of new keys, all are tried.
        clock: the time source (expiry, ``last_used_at``).
        prefix: the keys' leading label (``bk`` gives ``bk_<id>_<secret>``): 1-16
            lower-case letters or digits; a distinct prefix lets secret scanners find
            leaked keys.
        creator_methods: the ``Principal.method`` values allowed to create keys (the
            app's own bearer tokens only, by default).

    Raises:
        ConfigurationError: a missing or short server key, or a bad prefix.

    Example:
        ```python
        service = ApiKeyService(MemoryApiKeyStore(), keys=[b"k" * 32])
        new = service.create(principal, name="ci", scopes=["read"])  # show new.secret once
        service.authenticate(new.secret).user_id  # principal.user_id
        ```
    """

    __slots__ = ("_creators", "_digester", "clock", "prefix", "store")

    def __init__(
        self,
        store: ApiKeyStore | AsyncApiKeyStore,
        *,
        keys: Sequence[bytes | str],
        clock: Clock = system_clock,
        prefix: str = "bk",
        creator_methods: Iterable[str] = ("bearer",),
    ) -> None:
        self.store = store
        self.clock = clock
        self.prefix = check_prefix(prefix)
        self._digester = ApiKeyDigester([k.encode() if isinstance(k, str) else k for k in keys])
        self._creators = frozenset(creator_methods)

    @classmethod
    def from_settings(
        cls, settings: Settings, store: ApiKeyStore | AsyncApiKeyStore, **options: Any
    ) -> ApiKeyService:
        """Build a service whose server keys come from ``settings``.

        ``api_key_secret`` (``BACKENDKIT_API_KEY_SECRET``) when set, else one key derived
        from each ``secret_key`` (rotation follows the secret keys). With neither
        (development and test only: production requires ``secret_key``) the key is derived
        from a publicly known constant and one ``development_api_key_secret`` warning is
        logged per process. ``options`` go to the constructor.
        """
        global _dev_key_warned
        if settings.api_key_secret is not None:
            keys = [settings.api_key_secret.get_secret_value().encode()]
        else:
            keys = settings.derive_keys("api-keys")
            if not settings.secret_key and not _dev_key_warned:
                _dev_key_warned = True
                _log.warning(
                    "development_api_key_secret",
                    env=settings.env,
                    detail="neither BACKENDKIT_API_KEY_SECRET nor BACKENDKIT_SECRET_KEY is "
                    "set: API key digests use a PUBLICLY KNOWN key",
                )
        return cls(store, keys=keys, **options)

    # ---------------------------------------------------------------- create

    def create(
        self,
        creator: KeyCreator,
        *,
        name: str,
        scopes: Iterable[str] | None = None,
        expires_in: float | None = None,
    ) -> NewApiKey:
        """Create a key for ``creator`` (a [`Principal`][backendkit.web.Principal]).

        Args:
            creator: who asks; the key acts as this user.
            name: a label, 1-100 characters.
            scopes: what the key grants; ``None`` grants all the creator's scopes.
            expires_in: lifetime in seconds; ``None`` for a key that does not expire.

        Returns:
            The new key, with its full text (``.secret``), which is never shown again.

        Raises:
            Forbidden: the creator did not sign in with a session token (an API key
                cannot create keys), or asked for a scope it does not hold.
            ValidationFailed: an empty or long name, or a lifetime that is not positive.
        """
        new, record = self._plan(creator, name, scopes, expires_in)
        self._sync().add(record)
        _created(new.key)
        return new

    async def acreate(
        self,
        creator: KeyCreator,
        *,
        name: str,
        scopes: Iterable[str] | None = None,
        expires_in: float | None = None,
    ) -> NewApiKey:
        """Async twin of [`create`][backendkit.auth.ApiKeyService.create]."""
        new, record = self._plan(creator, name, scopes, expires_in)
        await self._async().aadd(record)
        _created(new.key)
        return new

    # ---------------------------------------------------------------- list and revoke

    def list_keys(self, user_id: str) -> list[ApiKey]:
        """The user's keys that are not revoked (expired ones included), oldest first."""
        return self._sync().list_for(str(user_id))

    async def alist_keys(self, user_id: str) -> list[ApiKey]:
        """Async twin of [`list_keys`][backendkit.auth.ApiKeyService.list_keys]."""
        return await self._async().alist_for(str(user_id))

    def revoke(self, user_id: str, key_id: str) -> None:
        """Revoke the user's key: it is refused from the next request on.

        Raises:
            NotFound: the user has no such key (another user's key looks the same).
        """
        _revoked(self._sync().revoke(key_id, str(user_id), self.clock.now()), user_id, key_id)

    async def arevoke(self, user_id: str, key_id: str) -> None:
        """Async twin of [`revoke`][backendkit.auth.ApiKeyService.revoke]."""
        done = await self._async().arevoke(key_id, str(user_id), self.clock.now())
        _revoked(done, user_id, key_id)

    # ---------------------------------------------------------------- authenticate

    def authenticate(self, presented: str) -> ApiKey:
        """Check a presented key; return its public fields.

        Raises:
            InvalidToken: malformed, unknown, wrong secret, revoked or expired (one 401 for
                all; the reason goes to the logs as an ``api_key_rejected`` event).
        """
        parts = self._parse(presented)
        now = self.clock.now()
        key = self._accept(parts, self._sync().get(parts.id), now)
        if needs_touch(key, now):
            self._sync().touch(key.id, now, now - LAST_USED_INTERVAL)
        return key

    async def aauthenticate(self, presented: str) -> ApiKey:
        """Async twin of [`authenticate`][backendkit.auth.ApiKeyService.authenticate]."""
        parts = self._parse(presented)
        now = self.clock.now()
        key = self._accept(parts, await self._async().aget(parts.id), now)
        if needs_touch(key, now):
            await self._async().atouch(key.id, now, now - LAST_USED_INTERVAL)
        return key

    def supports(self, flavour: str) -> bool:
        """True when the store serves ``flavour`` (``"sync"`` or ``"async"``) calls: its
        own ``supports(flavour)`` when it has one (a SQL store with one engine), else
        whether it has that flavour's methods."""
        own = getattr(self.store, "supports", None)
        if callable(own):
            return bool(own(flavour))
        kind = ApiKeyStore if flavour == "sync" else AsyncApiKeyStore
        return isinstance(self.store, kind)

    # ---------------------------------------------------------------- shared logic

    def _plan(
        self, creator: KeyCreator, name: str, scopes: Iterable[str] | None, expires_in: float | None
    ) -> tuple[NewApiKey, ApiKeyRecord]:
        if creator.method not in self._creators:
            security_event("api_key_create_refused", reason="method", method=creator.method)
            raise Forbidden("API keys can only be created from a signed-in session")
        granted = scopes_of(scopes, creator)
        if granted is None:
            security_event("api_key_create_refused", reason="scopes", user_id=creator.user_id)
            raise Forbidden("An API key cannot grant scopes its creator does not hold")
        problems = []
        if not 1 <= len(name.strip()) <= _MAX_NAME:
            problems.append(ErrorDetail("name", f"Must be 1 to {_MAX_NAME} characters"))
        if expires_in is not None and not expires_in > 0:
            problems.append(ErrorDetail("expiresIn", "Must be positive"))
        if problems:
            raise ValidationFailed(details=problems)
        now = self.clock.now()
        parts = new_key_parts(self.prefix)
        key = ApiKey(
            id=parts.id,
            prefix=f"{parts.prefix}_{parts.id}",
            name=name.strip(),
            user_id=str(creator.user_id),
            scopes=granted,
            created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
        )
        secret = f"{parts.prefix}_{parts.id}_{parts.secret}"
        return NewApiKey(key, secret), ApiKeyRecord(key, self._digester.digest(parts))

    def _parse(self, presented: str) -> ParsedKey:
        parts = parse_key(presented, self.prefix)
        if parts is None:
            security_event("api_key_rejected", reason="malformed")
            raise InvalidToken("The API key is invalid, expired or revoked", headers=_CHALLENGE)
        return parts

    def _accept(self, parts: ParsedKey, record: ApiKeyRecord | None, now: float) -> ApiKey:
        # The digest is computed even for an unknown id: each refusal costs the same.
        matches = self._digester.matches(parts, record.digest if record else "0" * 64)
        reason = None
        if record is None:
            reason = "unknown"
        elif not matches:
            reason = "secret"
        elif record.key.revoked_at is not None:
            reason = "revoked"
        elif not record.key.is_active(now):
            reason = "expired"
        if record is None or reason is not None:
            security_event("api_key_rejected", reason=reason, key_id=parts.id)
            raise InvalidToken("The API key is invalid, expired or revoked", headers=_CHALLENGE)
        return record.key

    def _sync(self) -> ApiKeyStore:
        if not isinstance(self.store, ApiKeyStore):
            raise ConfigurationError("this API-key store is async: call the a-prefixed methods")
        return self.store

    def _async(self) -> AsyncApiKeyStore:
        if not isinstance(self.store, AsyncApiKeyStore):
            raise ConfigurationError("this API-key store is sync: call the methods without 'a'")
        return self.store


def _created(key: ApiKey) -> None:
    _log.info("api_key_created", key_id=key.id, user_id=key.user_id, scopes=sorted(key.scopes))


def _revoked(done: bool, user_id: str, key_id: str) -> None:
    if not done:
        raise NotFound("API key not found")
    _log.info("api_key_revoked", key_id=key_id, user_id=str(user_id))
