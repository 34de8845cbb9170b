"""The kit's ``user_loader``: the local user a verified credential acts as.

- The app's own access token names its user in ``sub``: nothing is read (a deleted user's
  sessions were revoked with it).
- An API key acts as its owner, read from the database on each request, so a deleted
  owner's keys stop working at once and the owner's current role authorizes.
- A provider's token names ``(issuer, subject)``: the link table gives the local user;
  seen for the first time, the provider's user gets one (role ``user``, no password, a
  placeholder email: see ``examples._shared.auth_extras``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backendkit.errors import Conflict
from backendkit.logging import get_logger
from backendkit.repository import AsyncUnitOfWork
from backendkit.settings import Settings
from backendkit.web import LinkedUser, Principal
from examples._shared.auth_extras import provider_identity_key, provider_user_values
from examples._shared.schemas import UserOut
from examples.fastapi_app.models import ProviderIdentity, User
from examples.fastapi_app.repository import UserRepository

__all__ = ["UserLinker"]

log = get_logger("examples.fastapi")


def _key(principal: Principal) -> str:
    return provider_identity_key(principal.issuer or "", principal.subject or "")


def _linked_to(user: User) -> LinkedUser:
    return LinkedUser(str(user.id), UserOut.model_validate(user, from_attributes=True))


class UserLinker:
    """``await linker(principal)``: a [`LinkedUser`][backendkit.web.LinkedUser], or ``None``
    when the API key's owner no longer exists (the request is then a ``401``).

    Args:
        settings: the app's settings (they key provider users' placeholder emails).
        sessions: the session factory of the app's database.
    """

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions

    async def __call__(self, principal: Principal) -> LinkedUser | None:
        if principal.method == "bearer":
            return LinkedUser(principal.user_id)
        if principal.method == "provider":
            return await self._provider_user(principal)
        if not principal.user_id.isdigit():  # keys are only created by local users
            return None
        async with AsyncUnitOfWork(self.sessions) as uow:
            user = await UserRepository(uow.session).get_or_none(int(principal.user_id))
        return None if user is None else _linked_to(user)

    async def _provider_user(self, principal: Principal) -> LinkedUser:
        linked = await self._linked(principal)
        if linked is not None:
            return linked
        try:
            async with AsyncUnitOfWork(self.sessions) as uow:
                user = await UserRepository(uow.session).create(
                    provider_user_values(self.settings, principal)
                )
                uow.session.add(
                    ProviderIdentity(
                        key=_key(principal),
                        issuer=principal.issuer,
                        subject=principal.subject,
                        user_id=user.id,
                    )
                )  # inserted on commit: a duplicate link is a Conflict there
                created = _linked_to(user)
        except Conflict:
            # Another worker linked the same provider user first: use its link.
            linked = await self._linked(principal)
            if linked is None:
                raise
            return linked
        log.info("provider_user_created", user_id=created.user_id, issuer=principal.issuer)
        return created

    async def _linked(self, principal: Principal) -> LinkedUser | None:
        query = (
            sa.select(User)
            .join(ProviderIdentity, ProviderIdentity.user_id == User.id)
            .where(ProviderIdentity.key == _key(principal))
        )
        async with AsyncUnitOfWork(self.sessions) as uow:
            user = (await uow.session.execute(query)).scalar_one_or_none()
        return None if user is None else _linked_to(user)
