"""What a bare `import backendkit` loads: the modules, not the time (benchmarks/ times it).

The package imports the errors, the clock and logging with itself and every other top-level
name on first use; `backendkit.responses` and `backendkit.listing` do the same with the
models they hold. A service pays for pydantic models, parameters and settings only when it
touches them, and never for an extra's library. Each check runs in a fresh interpreter:
this process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: The backendkit modules a bare import may load.
ALLOWED_OWN = frozenset(
    {
        "backendkit",
        "backendkit._lazy",
        "backendkit.clock",
        "backendkit.errors",
        "backendkit.logging",
        "backendkit.logging._config",
        "backendkit.logging._context",
        "backendkit.logging._loggers",
        "backendkit.logging._pipeline",
        "backendkit.logging._redact",
        "backendkit.logging._servers",
        "backendkit.logging._trace",
        "backendkit.logging._urls",
    }
)

#: Third-party modules a bare import must not load: pydantic's model machinery and its
#: plugin scan (pydantic-core alone is allowed), and every optional extra's library.
DENIED_THIRD_PARTY = frozenset(
    {
        "pydantic.main",
        "pydantic.fields",
        "pydantic.plugin._loader",
        "email_validator",
        "sqlalchemy",
        "redis",
        "jwt",
        "bcrypt",
        "cryptography",
        "limits",
        "flask",
        "werkzeug",
        "fastapi",
        "starlette",
        "django",
        "rest_framework",
        "opentelemetry",
    }
)


def loaded_after(statement: str) -> set[str]:
    """The names in ``sys.modules`` of a fresh interpreter after running ``statement``."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return set(loaded)


def unexpected_own(loaded: set[str]) -> list[str]:
    """The backendkit modules loaded beyond the allowlist."""
    own = {name for name in loaded if name == "backendkit" or name.startswith("backendkit.")}
    return sorted(own - ALLOWED_OWN)


def denied(loaded: set[str]) -> list[str]:
    """The denied third-party modules loaded (a package counts with any of its submodules)."""
    return sorted(
        name
        for name in loaded
        if name in DENIED_THIRD_PARTY or name.split(".")[0] in DENIED_THIRD_PARTY
    )


@pytest.fixture(scope="module")
def bare() -> set[str]:
    return loaded_after("import backendkit")


def test_bare_import_loads_only_the_eager_core(bare: set[str]) -> None:
    """No validation, fields, listing, responses, settings, web or extra package is loaded."""
    assert unexpected_own(bare) == []


def test_bare_import_loads_what_its_eager_names_need(bare: set[str]) -> None:
    """The valid twin: the eager modules and their libraries are there, so the check bites."""
    assert {"backendkit.errors", "backendkit.clock", "backendkit.logging", "structlog"} <= bare


def test_bare_import_loads_no_heavy_third_party_module(bare: set[str]) -> None:
    """No pydantic model machinery, no plugin scan, no extra's library."""
    assert denied(bare) == []


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("Page", "backendkit.listing._pages"),
        ("ApiModel", "backendkit.validation"),
        ("Email", "backendkit.fields"),
        ("success", "backendkit.responses._envelopes"),
        ("Settings", "backendkit.settings"),
    ],
)
def test_a_lazy_name_loads_its_module_on_first_use(name: str, module: str) -> None:
    """Touching a lazy name imports its module, whichever way it is reached."""
    assert module in loaded_after(f"import backendkit; backendkit.{name}")
    assert module in loaded_after(f"from backendkit import {name}")


def test_a_model_name_loads_pydantic_models() -> None:
    """The other side of the denylist: using `ApiModel` does load pydantic's model machinery."""
    loaded = loaded_after("from backendkit import ApiModel")
    assert {"pydantic.main", "pydantic.fields"} <= loaded


def test_the_checks_flag_a_module_outside_the_lists() -> None:
    """An extra's package and its library are reported when something does import them."""
    loaded = loaded_after("import backendkit.repository")
    assert "backendkit.repository" in unexpected_own(loaded)
    assert "sqlalchemy" in denied(loaded)


def test_writing_envelopes_builds_no_model() -> None:
    """The envelope builders need neither the OpenAPI models nor the page parameters."""
    loaded = loaded_after("from backendkit import error_response, paginated, success")
    assert "backendkit.responses._envelopes" in loaded
    assert not {"backendkit.responses._openapi", "backendkit.listing._params"} & loaded
    assert denied(loaded) == []


def test_the_openapi_models_load_when_asked_for() -> None:
    """The valid twin: naming an envelope model imports its module, from either package."""
    assert "backendkit.responses._openapi" in loaded_after("from backendkit import Envelope")
    loaded = loaded_after("from backendkit.responses import ERROR_RESPONSES")
    assert "backendkit.responses._openapi_errors" in loaded


def test_a_module_the_package_used_to_import_is_still_an_attribute() -> None:
    """`backendkit.validation` after a bare import works as when the package imported it."""
    statement = (
        "import backendkit\n"
        "assert backendkit.validation.ApiModel is backendkit.ApiModel\n"
        "assert backendkit.responses._openapi.Envelope is backendkit.Envelope"
    )
    assert "backendkit.validation" in loaded_after(statement)


def test_an_unknown_name_is_an_attribute_error() -> None:
    """The twin: a name that is neither exported nor a known module is not invented."""
    statement = (
        "import backendkit\n"
        "assert not hasattr(backendkit, 'Nope')\n"
        "assert not hasattr(backendkit, 'web')\n"
        "from backendkit import web"
    )
    assert "backendkit.web" in loaded_after(statement)


#: A request served by a kit without tracing, through the pipeline every adapter uses. The
#: kit holds no service: redis-py 8 imports the OpenTelemetry SDK itself when installed.
_UNTRACED_REQUEST = (
    "from backendkit.logging import configure_logging\n"
    "from backendkit.settings import Settings\n"
    "from backendkit.web import Pipeline, WebKit\n"
    "configure_logging(fmt='json')\n"
    "kit = WebKit(settings=Settings(env='test', secret_key='k' * 32){tracing})\n"
    "cycle = Pipeline(kit).start(method='GET', path='/api/x', request_id=None,\n"
    "                            headers=lambda name: None)\n"
    "cycle.route = '/api/x'\n"
    "cycle.finish(200)\n"
)


def test_an_untraced_request_imports_no_opentelemetry() -> None:
    """Logging configured and a request served without tracing: no opentelemetry module."""
    loaded = loaded_after(_UNTRACED_REQUEST.format(tracing=""))
    assert not [name for name in loaded if name.startswith("opentelemetry.")]
    assert "backendkit.tracing" not in loaded
    assert "backendkit.web._pipeline" in loaded


def test_a_traced_request_imports_the_api() -> None:
    """The twin: with ``tracing=Tracing()`` the same request loads the API (not the SDK)."""
    statement = "from backendkit.tracing import Tracing\n" + _UNTRACED_REQUEST.format(
        tracing=", tracing=Tracing()"
    )
    loaded = loaded_after(statement)
    assert {"opentelemetry.trace", "opentelemetry.propagate"} <= loaded
    assert "opentelemetry.sdk" not in loaded
