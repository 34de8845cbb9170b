"""The public API is exactly what `__all__` lists, sorted, and every public name is documented."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import types
from types import ModuleType

import django
import pytest

import backendkit

# The installable Django apps' public names (DjangoTokenStore) resolve to their models, which
# Django allows only once configured: the shared test project configures it.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.djangoproject.settings")
django.setup()


#: Packages of the installable Django apps that Django names and loads itself: generated
#: migrations and management commands (checked by the apps' own tests).
DJANGO_APP_PARTS = frozenset({"migrations", "management"})


def _public_modules() -> list[str]:
    names = ["backendkit"]
    for info in pkgutil.walk_packages(backendkit.__path__, prefix="backendkit."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or DJANGO_APP_PARTS.intersection(parts):
            continue
        names.append(info.name)
    return sorted(names)


PUBLIC_MODULES = _public_modules()


def _is_private_home(obj_module: str, public: str) -> bool:
    """True when an object is defined in the public module itself or in one of its privates."""
    return obj_module == public or obj_module.startswith(public + "._")


def _isort_key(attr: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions and the rest."""
    if attr.isupper():
        return (0, attr)
    if attr[:1].isupper():
        return (1, attr)
    return (2, attr)


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def test_public_modules_found() -> None:
    """The walk finds the core modules, so the checks below cannot pass vacuously."""
    assert {"backendkit", "backendkit.errors", "backendkit.settings"} <= set(PUBLIC_MODULES)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_declared_sorted_and_resolvable(name: str) -> None:
    """Each public module declares a sorted `__all__` whose names all exist."""
    module = _module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.__all__ lists missing name {attr!r}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_definition_is_exported(name: str) -> None:
    """A public class or function defined in the module (or its private modules) is exported."""
    module = _module(name)
    exported = set(getattr(module, "__all__", ()))
    missing = []
    for attr, obj in vars(module).items():
        if attr.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        home = getattr(obj, "__module__", "") or ""
        if _is_private_home(home, name) and attr not in exported:
            missing.append(attr)
    assert not missing, f"{name} defines public names missing from __all__: {missing}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_export_has_a_docstring(name: str) -> None:
    """Every exported class and function carries its own docstring, as do public modules."""
    module = _module(name)
    assert inspect.getdoc(module), f"module {name} has no docstring"
    undocumented = []
    for attr in getattr(module, "__all__", ()):
        obj = getattr(module, attr)
        # A type alias such as ``Callable[[X], Y]`` is documented by its ``#:`` comment;
        # Python 3.10 reports it as a class (``isinstance(list[int], type)`` is True there).
        alias = isinstance(obj, types.GenericAlias)
        is_code = (inspect.isclass(obj) and not alias) or inspect.isfunction(obj)
        if is_code and not (obj.__doc__ or "").strip():
            undocumented.append(attr)
    assert not undocumented, f"{name}: exported names without a docstring: {undocumented}"


def test_top_level_reexports_the_core() -> None:
    """`import backendkit` gives the core wire format without any optional extra."""
    for attr in ("AppError", "Settings", "success", "failure", "parse_json", "validate"):
        assert attr in backendkit.__all__, attr
