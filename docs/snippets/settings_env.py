from backendkit.errors import ConfigurationError
from backendkit.settings import Settings

# Parsed once at start-up, from the environment (os.environ when no mapping is given).
settings = Settings.from_env(
    {
        "BACKENDKIT_SECRET_KEY": "new-key-0123456789abcdef,old-key-0123456789abcdef",
        "BACKENDKIT_REDIS_URL": "redis://cache:6379/0",
        "BACKENDKIT_REDIS_COMMAND_TIMEOUT": "0.1",
    }
)
assert settings.is_production  # production is the default environment
assert settings.redis_command_timeout == 0.1

# One 32-byte key per secret, per purpose: the first signs, all of them verify.
signing_key, *verify_only = settings.derive_keys("cursor")
assert len(signing_key) == 32
assert len(verify_only) == 1
assert settings.derive_keys("csrf")[0] != signing_key  # purposes are independent


def startup_error(environ: dict[str, str]) -> str:
    try:
        Settings.from_env(environ)
    except ConfigurationError as exc:
        return str(exc)
    return "started"


# An invalid value fails at start-up, naming the variable (and never echoing a secret).
error = startup_error(
    {"BACKENDKIT_SECRET_KEY": "new-key-0123456789abcdef", "BACKENDKIT_MAX_BODY_BYTES": "1MB"}
)
assert "BACKENDKIT_MAX_BODY_BYTES" in error

# Production refuses to start without a secret key.
assert "BACKENDKIT_SECRET_KEY" in startup_error({})
