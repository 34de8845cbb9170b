"""Without the ``metrics`` extra in use nothing of prometheus-client is loaded, and a
request costs one attribute check; without the extra installed the package says which."""

from __future__ import annotations

from tests.unit.test_import_cost import loaded_after

from backendkit.settings import Settings
from backendkit.web import Pipeline, WebKit

_FLASK_REQUEST = """
from flask import Flask
from backendkit.adapters.flask import BackendKit
from backendkit.settings import Settings
from backendkit.web import WebKit
kit = WebKit.from_settings(Settings(env="test", secret_key="k" * 32){metrics})
app = Flask("x")
BackendKit(app, kit=kit)
app.add_url_rule("/api/x", "x", lambda: {{"ok": True}})
assert app.test_client().get("/api/x").status_code == 200
"""


def _prometheus(loaded: set[str]) -> set[str]:
    return {name for name in loaded if name.split(".")[0] == "prometheus_client"}


def test_a_bare_import_loads_no_prometheus_module() -> None:
    """``import backendkit`` imports neither prometheus-client nor the metrics package."""
    loaded = loaded_after("import backendkit")
    assert _prometheus(loaded) == set()
    assert "backendkit.metrics" not in loaded


def test_a_request_without_metrics_loads_no_prometheus_module() -> None:
    """A request through the pipeline of a kit without metrics loads none of it."""
    loaded = loaded_after(_FLASK_REQUEST.format(metrics=""))
    assert "backendkit.web._pipeline" in loaded
    assert _prometheus(loaded) == set()
    assert "backendkit.metrics" not in loaded


def test_a_request_with_metrics_loads_prometheus() -> None:
    """The valid twin: a kit with ``Metrics`` does load it, so the check above bites."""
    setup = "from backendkit.metrics import Metrics\n"
    loaded = loaded_after(setup + _FLASK_REQUEST.format(metrics=", metrics=Metrics()"))
    assert "prometheus_client" in loaded


def test_a_kit_without_metrics_leaves_every_cycle_unobserved() -> None:
    """No observer: the cycle carries ``None`` and finishing it records nothing."""
    pipeline = Pipeline(WebKit.from_settings(Settings(env="test", secret_key="k" * 32)))
    cycle = pipeline.start(method="GET", path="/api/x", request_id=None)
    assert cycle.observer is None
    cycle.unobserve()  # nothing to drop
    cycle.finish(200)
    assert cycle.route is None
    assert cycle.error_code is None


def test_without_the_extra_the_package_names_it() -> None:
    """``import backendkit.metrics`` without prometheus-client asks for ``backendkit[metrics]``."""
    statement = (
        "import sys\n"
        "sys.modules['prometheus_client'] = None\n"
        "try:\n"
        "    import backendkit.metrics\n"
        "except ImportError as exc:\n"
        '    assert "backendkit[metrics]" in str(exc), exc\n'
        "else:\n"
        "    raise SystemExit('imported')"
    )
    assert "backendkit.metrics" not in loaded_after(statement)
