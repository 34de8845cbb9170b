"""Each public package's namespace is exactly its `__all__`, as httpx checks its own.

A public name a package binds without exporting it (``annotations`` from a ``__future__``
import, ``TYPE_CHECKING``, a helper it calls) is still reachable, and users come to rely on
what they can reach. The one exception is a submodule of the package itself: importing
``backendkit.clock`` binds ``clock`` on ``backendkit`` whatever ``__init__`` says.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest
from tests.unit.test_exports import DJANGO_APP_PARTS

import backendkit


def _public_packages() -> list[str]:
    names = ["backendkit"]
    for info in pkgutil.walk_packages(backendkit.__path__, prefix="backendkit."):
        parts = info.name.split(".")
        # Django app packages named by Django (migrations, management commands) are skipped.
        if info.ispkg and not any(p.startswith("_") or p in DJANGO_APP_PARTS for p in parts):
            names.append(info.name)
    return sorted(names)


PUBLIC_PACKAGES = _public_packages()


def _is_own_submodule(package: str, attr: str, obj: object) -> bool:
    return isinstance(obj, ModuleType) and obj.__name__ == f"{package}.{attr}"


def _unexported(package: ModuleType) -> list[str]:
    """Public names bound in the package that `__all__` does not list."""
    exported = set(package.__all__)
    return sorted(
        attr
        for attr, obj in vars(package).items()
        if not attr.startswith("_")
        and attr not in exported
        and not _is_own_submodule(package.__name__, attr, obj)
    )


def test_packages_found() -> None:
    """The walk finds nested packages, so the check below cannot pass vacuously."""
    assert {"backendkit", "backendkit.auth", "backendkit.responses"} <= set(PUBLIC_PACKAGES)


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_namespace_is_exactly_all(name: str) -> None:
    """No public name beyond `__all__`; every name in it resolves (lazily ones included)."""
    package = importlib.import_module(name)
    assert isinstance(getattr(package, "__all__", None), list), f"{name} has no __all__ list"
    assert _unexported(package) == [], f"{name} binds public names missing from __all__"
    for attr in package.__all__:
        # A name the package imports on first use (module __getattr__) is not in vars yet.
        assert hasattr(package, attr), f"{name}.__all__ lists missing name {attr!r}"


def test_a_leaked_name_is_caught() -> None:
    """The check flags a helper bound in a package, and not the package's own submodule."""
    package = ModuleType("backendkit_sample")
    clock = ModuleType("backendkit_sample.clock")
    vars(package).update(__all__=["exported"], exported=1, clock=clock, _helper=len)
    assert _unexported(package) == []
    vars(package).update(annotations=object(), stranger=importlib)
    assert _unexported(package) == ["annotations", "stranger"]
