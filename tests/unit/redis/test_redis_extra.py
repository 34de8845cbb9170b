"""backendkit.redis without redis-py installed names the extra to install."""

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


def test_import_without_redis_names_the_extra() -> None:
    """Hiding redis-py: ImportError (MissingDependencyError) naming backendkit[redis]."""
    result = _run(
        """
        import sys
        sys.modules["redis"] = None
        try:
            import backendkit.redis
        except ImportError as exc:
            print(type(exc).__name__, exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MissingDependencyError")
    assert "pip install 'backendkit[redis]'" in result.stdout


def test_import_with_redis_succeeds() -> None:
    """The valid twin: with redis-py present the package imports and exports its API."""
    result = _run(
        """
        import backendkit.redis
        print(sorted(backendkit.redis.__all__))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "'RedisConnector'" in result.stdout
