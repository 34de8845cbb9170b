"""API keys beside the app's own tokens: one service on a store, handed to the kit."""

from backendkit.auth import ApiKeyService, MemoryApiKeyStore
from backendkit.settings import Settings
from backendkit.web import WebKit


def build_kit(settings: Settings) -> WebKit:
    # The stored digests are keyed by BACKENDKIT_API_KEY_SECRET (else a key derived from
    # BACKENDKIT_SECRET_KEY). In production the store is SQLApiKeyStore(engine)
    # (backendkit.auth.sql) or DjangoApiKeyStore() (backendkit.adapters.django.apikeys).
    api_keys = ApiKeyService.from_settings(settings, MemoryApiKeyStore())
    return WebKit.from_settings(settings, api_keys=api_keys)
