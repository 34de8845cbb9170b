"""The memory cache needs no extra; a Redis cache without redis-py names the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_memory_cache_works_without_redis_and_redis_url_names_the_extra() -> None:
    """Hiding redis-py: memory:// caches; redis:// raises MissingDependencyError."""
    result = _run(
        """
        import sys
        sys.modules["redis"] = None
        from backendkit.cache import Cache

        cache = Cache("memory://")

        @cache.cached(ttl=5)
        def f(x: int) -> int:
            return x

        print(f(1), f.call_detailed(1).outcome.value)
        try:
            Cache("redis://localhost:6379/0")
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1 hit"
    assert lines[1].startswith("MissingDependencyError")
    assert "pip install 'backendkit[redis]'" in lines[1]
