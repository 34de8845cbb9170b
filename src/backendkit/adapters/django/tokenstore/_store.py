"""`DjangoTokenStore`: refresh rotation and revocation on the Django ORM.

Each operation is one ``transaction.atomic`` block on the configured database alias.
Rotation locks the session row before reading it: ``select_for_update()`` on PostgreSQL
and MySQL/MariaDB; SQLite ignores that, so there an ``UPDATE`` that changes nothing takes
the database's write lock first (waiting up to the connection's ``timeout``). Racing
refreshes of one token are thereby serialized: one rotates, the others see the rotated row
and get the grace pair or are treated as reuse.

An unreachable database is [`BackendUnavailable`][backendkit.errors.BackendUnavailable]
(503): refresh and the revocation check fail closed.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from asgiref.sync import sync_to_async
from django.db import (  # type: ignore[import-untyped]
    IntegrityError,
    connections,
    transaction,
)
from django.db.models import F, FloatField, Value  # type: ignore[import-untyped]
from django.db.models.functions import Greatest  # type: ignore[import-untyped]

from backendkit._db_errors import database_error_code
from backendkit.adapters.django._db import atomic_on
from backendkit.adapters.django.tokenstore.models import DeniedToken, TokenSession, UserCutoff
from backendkit.auth._store import NewSession, RotationRequest, RotationResult
from backendkit.auth._store_rules import (
    REVOKED_VALUES,
    SESSION_FIELDS,
    PurgeSchedule,
    SessionState,
    check_reason,
    decide_rotation,
    new_session_values,
    rotation_values,
)
from backendkit.clock import Clock, system_clock
from backendkit.errors import AppError, BackendUnavailable
from backendkit.logging import get_logger

__all__ = ["DjangoTokenStore"]

_log = get_logger("backendkit.auth")

#: How often a transaction chosen as a deadlock victim is run again.
_DEADLOCK_ATTEMPTS = 5
#: Deadlock and serialization failures: MySQL/MariaDB error 1213, PostgreSQL 40P01 and 40001.
_DEADLOCKS = frozenset({1213, "40P01", "40001"})


def _is_deadlock(exc: BaseException | None) -> bool:
    return exc is not None and database_error_code(exc) in _DEADLOCKS


class DjangoTokenStore:
    """Token store on the Django ORM (app ``backendkit.adapters.django.tokenstore``).

    The ``a``-prefixed methods run the sync ones through ``sync_to_async``, as Django's own
    async ORM calls do.

    Args:
        using: the database alias.
        clock: the clock of `purge_expired` when it is called without ``now``.
        purge_interval: seconds (of the times the service passes) between the clean-ups
            the store runs itself after a login or a refresh; ``None`` leaves clean-up to
            ``manage.py backendkit_purge_tokens`` or `purge_expired`.

    Example:
        ```python
        tokens = TokenService(key, store=DjangoTokenStore())
        ```
    """

    def __init__(
        self,
        using: str = "default",
        *,
        clock: Clock = system_clock,
        purge_interval: float | None = 60.0,
    ) -> None:
        self._using = using
        self._clock = clock
        self._purge = PurgeSchedule("DjangoTokenStore", purge_interval)

    def _atomic(self) -> AbstractContextManager[None]:
        return atomic_on(self._using)

    def _upsert(self, model: Any, key: dict[str, Any], values: dict[str, float]) -> None:
        """`_raise_to` in its own transaction, retried when the database picks it as a
        deadlock victim: MariaDB's gap locks make racing first writes of one key deadlock."""
        for attempt in range(_DEADLOCK_ATTEMPTS):
            try:
                with self._atomic():
                    self._raise_to(model, key, values)
                return
            except BackendUnavailable as exc:
                if attempt + 1 == _DEADLOCK_ATTEMPTS or not _is_deadlock(exc.__cause__):
                    raise

    def _objects(self, model: Any) -> Any:
        return model.objects.using(self._using)

    def _raise_to(self, model: Any, key: dict[str, Any], values: dict[str, float]) -> None:
        """Insert a row, or raise each of ``values`` on the existing one (never lower it)."""
        rows = self._objects(model).filter(**key)
        raised = {n: Greatest(F(n), Value(v, output_field=FloatField())) for n, v in values.items()}
        if rows.update(**raised):
            return
        try:
            with transaction.atomic(using=self._using):  # a savepoint: the race may lose
                self._objects(model).create(**key, **values)
        except IntegrityError:
            rows.update(**raised)  # another transaction inserted it first

    def _maybe_purge(self, now: float) -> None:
        if self._purge.due(now):
            try:
                self.purge_expired(now)
            except AppError as exc:
                # Clean-up is best effort: the login or refresh already succeeded.
                _log.warning("token_store_purge_failed", error=exc.code)

    # -- TokenStore -----------------------------------------------------------------------

    def create_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        values = new_session_values(
            session.sub, session.sid, session.refresh_jti, session.now, session.expires_at
        )
        with self._atomic():
            self._objects(TokenSession).create(**values)
        self._maybe_purge(session.now)

    def rotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse, under the session row's lock."""
        with self._atomic():
            rows = self._objects(TokenSession).filter(sub=request.sub, sid=request.sid)
            if connections[self._using].vendor == "sqlite":
                rows.update(sid=F("sid"))
            row = rows.select_for_update().values(*SESSION_FIELDS).first()
            state = None if row is None else SessionState(**row)
            denied = (
                state is not None
                and self._objects(DeniedToken)
                .filter(sub=request.sub, jti=request.old_jti, expires_at__gt=request.now)
                .exists()
            )
            result, write = decide_rotation(state, denied, request)
            if write == "rotate":
                rows.update(**rotation_values(request))
            elif write == "revoke":
                rows.update(**REVOKED_VALUES)
        self._maybe_purge(request.now)
        return result

    def check(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        with self._atomic():
            denied = (
                jti is not None
                and self._objects(DeniedToken).filter(sub=sub, jti=jti, expires_at__gt=now).exists()
            )
            revoked = not_before = None
            if not denied and sid is not None:
                revoked = (
                    self._objects(TokenSession)
                    .filter(sub=sub, sid=sid, expires_at__gt=now)
                    .values_list("revoked", flat=True)
                    .first()
                )
            elif not denied:
                not_before = (
                    self._objects(UserCutoff)
                    .filter(sub=sub, expires_at__gt=now)
                    .values_list("not_before", flat=True)
                    .first()
                )
        return check_reason(
            denied=denied, sid=sid, session_revoked=revoked, not_before=not_before, iat=iat
        )

    def revoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        if expires_at > now:
            self._upsert(DeniedToken, {"sub": sub, "jti": jti}, {"expires_at": expires_at})

    def revoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        with self._atomic():
            self._objects(TokenSession).filter(sub=sub, sid=sid).update(**REVOKED_VALUES)

    def revoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        with self._atomic():
            self._objects(TokenSession).filter(sub=sub).update(**REVOKED_VALUES)
        self._upsert(UserCutoff, {"sub": sub}, {"not_before": now, "expires_at": until})

    def purge_expired(self, now: float | None = None) -> int:
        """Delete expired rows and clear grace pairs past their window.

        Safe at any time, from any number of processes: every read already ignores
        expired rows. ``manage.py backendkit_purge_tokens`` calls it.

        Args:
            now: the time to purge up to (default: the store's clock).

        Returns:
            The number of rows deleted or cleared.
        """
        when = self._clock.now() if now is None else now
        with self._atomic():
            count = 0
            for model in (TokenSession, DeniedToken, UserCutoff):
                deleted, _ = self._objects(model).filter(expires_at__lte=when).delete()
                count += deleted
            stale = self._objects(TokenSession).filter(grace_until__lte=when)
            count += int(stale.update(grace_pair=None, grace_until=None))
        return count

    def ping(self) -> None:
        """Check that the database answers (``SELECT 1``).

        Raises:
            BackendUnavailable: the database cannot be reached (503).
        """
        with self._atomic(), connections[self._using].cursor() as cursor:
            cursor.execute("SELECT 1")

    # -- AsyncTokenStore ------------------------------------------------------------------

    async def acreate_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        await sync_to_async(self.create_session)(session)

    async def arotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse."""
        result: RotationResult = await sync_to_async(self.rotate)(request)
        return result

    async def acheck(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        reason: str | None = await sync_to_async(self.check)(sub, jti, sid, iat, now)
        return reason

    async def arevoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        await sync_to_async(self.revoke_token)(sub, jti, expires_at, now)

    async def arevoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        await sync_to_async(self.revoke_session)(sub, sid, now)

    async def arevoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        await sync_to_async(self.revoke_user)(sub, now, until)

    async def aping(self) -> None:
        """Async twin of `ping`."""
        await sync_to_async(self.ping)()

    def __repr__(self) -> str:
        return f"DjangoTokenStore(using={self._using!r})"
