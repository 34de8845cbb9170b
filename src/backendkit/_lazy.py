"""Package attributes imported from their module on first use.

A package whose modules build pydantic models as they load (or import a costly library)
lists those names here instead of importing them, so importing the package does not pay
for what a program never touches. `from package import Name` and ``package.Name`` work
as before; a type checker reads the same names from an ``if TYPE_CHECKING:`` import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: MutableMapping[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package that imports ``homes`` on first use.

    Args:
        namespace: the package's ``globals()``; a name, once imported, is stored there so
            later lookups no longer reach ``__getattr__``.
        homes: each lazy name -> the module it is imported from.

    A module of the package that ``homes`` names is an attribute too, imported on first
    use, as it was when the package imported it (``backendkit.validation.ApiModel`` after
    a bare ``import backendkit``). ``__dir__`` lists the package's ``__all__``, imported or
    not, so the namespace a user explores is the same before and after first use.

    Example:
        >>> namespace = {"__name__": "pkg", "__all__": ["dumps"]}
        >>> getattr_, dir_ = lazy_exports(namespace, {"dumps": "json"})
        >>> getattr_("dumps")({"a": 1}), "dumps" in namespace, dir_()
        ('{"a": 1}', True, ['dumps'])
    """
    package = namespace["__name__"]
    submodules = {home for home in homes.values() if home.rpartition(".")[0] == package}

    def module_getattr(name: str) -> object:
        module = homes.get(name)
        value: object
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif f"{package}.{name}" in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return list(namespace["__all__"])

    return module_getattr, module_dir
