"""myproject/kit.py: the kit BACKENDKIT["KIT"] points at (token service and limiters)."""

from __future__ import annotations

from backendkit.auth import TokenService
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.web import WebKit


def build_kit(settings: Settings | None = None) -> WebKit:
    """Called once per process by the adapter (``"KIT": "myproject.kit.build_kit"``)."""
    settings = settings or Settings.from_env()
    return WebKit.from_settings(
        settings,
        tokens=TokenService.from_settings(settings),  # Redis token store when REDIS_URL is set
        limiter=RateLimiter.from_settings(settings),  # sync views
        async_limiter=AsyncRateLimiter.from_settings(settings),  # async views
    )
