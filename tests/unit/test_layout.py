"""The package layout: no module dependency cycle, no private name used across modules.

Every import counts, wherever it is written: at the top, under ``if TYPE_CHECKING:`` (a
cycle hidden from the interpreter is still one for the reader) and inside functions.
``from pkg import sub`` is an edge to the submodule ``pkg.sub``; any other import of a
package is an edge to its ``__init__``. A package importing its own private modules is
normal; a private module importing its package back closes a cycle through the
``__init__``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import backendkit

SRC = Path(backendkit.__file__).parent

#: Cycles still present, each as the set of its modules. Empty: keep it so.
ALLOWED_CYCLES: frozenset[frozenset[str]] = frozenset()

#: ``(importing module, imported name)`` pairs still using a private name of another
#: module. Empty: keep it so.
ALLOWED_PRIVATE: frozenset[tuple[str, str]] = frozenset()


def _modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``), for every file under root."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from, relative forms resolved."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _imports(
    modules: dict[str, tuple[Path, bool]], module: str
) -> Iterator[tuple[str, str | None, ast.AST]]:
    """``(target module, name imported from it or None, node)`` for each import of ``module``.

    The target is a module of the tree (the submodule for ``from pkg import sub``, the
    longest known prefix for ``import a.b.c``); imports of anything else are skipped.
    """
    path, is_package = modules[module]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    yield target, None, node
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in modules:
                    yield submodule, None, node
                elif base in modules:
                    yield base, alias.name, node


def module_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of the tree -> the modules of the tree it imports (itself left out)."""
    modules = _modules(root, package)
    return {
        module: {target for target, _, _ in _imports(modules, module) if target != module}
        for module in modules
    }


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One cycle inside ``component``, from its first module back to it (breadth first)."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle in component {component}")  # pragma: no cover


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per group of modules that import each other, as a closed path."""
    return [_cycle_through(graph, component) for component in _components(graph)]


def private_imports(root: Path, package: str) -> list[tuple[str, str, int]]:
    """``(module, "source._name", line)`` for each private name one module takes from another.

    Both ``from pkg.mod import _name`` and ``mod._name`` on a module bound by an import
    count; a private *submodule* (``from pkg import _mod``) is a module, not a name.
    """
    modules = _modules(root, package)
    found = []
    for module, (path, _) in modules.items():
        bound: dict[str, str] = {}  # local name -> module of the tree it stands for
        for target, name, node in _imports(modules, module):
            if target == module:
                continue
            if name is not None:
                if name.startswith("_") and not name.startswith("__"):
                    found.append((module, f"{target}.{name}", node.lineno))
                continue
            assert isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names:
                if isinstance(node, ast.ImportFrom) or alias.asname:
                    bound[alias.asname or alias.name] = target
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append((module, f"{bound[node.value.id]}.{node.attr}", node.lineno))
    return sorted(found)


# --------------------------------------------------------------------------- the package


def test_package_graph_is_read() -> None:
    """The graph holds the package's modules and their edges, so the checks cannot pass idle."""
    graph = module_graph(SRC, "backendkit")
    assert {"backendkit", "backendkit.errors", "backendkit.cache._cache"} <= set(graph)
    assert "backendkit.errors" in graph["backendkit._extras"]
    assert "backendkit.cache._cache" in graph["backendkit.cache"]


def test_no_module_cycle() -> None:
    """No group of modules imports each other, counting TYPE_CHECKING and function imports."""
    cycles = [
        cycle
        for cycle in find_cycles(module_graph(SRC, "backendkit"))
        if frozenset(cycle) not in ALLOWED_CYCLES
    ]
    assert not cycles, "module cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_name_used_across_modules() -> None:
    """No module takes a ``_private`` name from another; shared helpers get public names."""
    offenders = [
        f"{module}:{line} uses {name}"
        for module, name, line in private_imports(SRC, "backendkit")
        if (module, name) not in ALLOWED_PRIVATE
    ]
    assert not offenders, "\n".join(offenders)


def test_allowlists_hold_only_what_is_still_there() -> None:
    """An entry goes from the allowlists as soon as its cycle or private import is gone."""
    cycles = {frozenset(c) for c in find_cycles(module_graph(SRC, "backendkit"))}
    assert not ALLOWED_CYCLES - cycles, f"gone, remove: {ALLOWED_CYCLES - cycles}"
    used = {(module, name) for module, name, _ in private_imports(SRC, "backendkit")}
    assert not ALLOWED_PRIVATE - used, f"gone, remove: {ALLOWED_PRIVATE - used}"


# --------------------------------------------------------------------------- the detectors


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


#: A package whose __init__ imports its private modules, which import each other only
#: one way, in every import form the detector reads.
ACYCLIC = {
    "__init__.py": "from pkg._a import A\nfrom pkg.sub import thing\n",
    "_a.py": "from . import _b\nfrom ._b import B\nimport pkg.sub.mod as m\n",
    "_b.py": "import os\nB = 1\n",
    "sub/__init__.py": "from .mod import thing\n",
    "sub/mod.py": "from .. import _b\nthing = _b.B\n",
}


def test_detector_reads_every_import_form(tmp_path: Path) -> None:
    """Relative, submodule and dotted imports become edges to the right modules."""
    graph = module_graph(_tree(tmp_path, ACYCLIC), "pkg")
    assert graph == {
        "pkg": {"pkg._a", "pkg.sub"},
        "pkg._a": {"pkg._b", "pkg.sub.mod"},
        "pkg._b": set(),
        "pkg.sub": {"pkg.sub.mod"},
        "pkg.sub.mod": {"pkg._b"},
    }
    assert find_cycles(graph) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {
                "a.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.b import B\n",
                "b.py": "def f():\n    from pkg import a\n",
            },
            ["pkg.a", "pkg.b", "pkg.a"],
            id="type-checking-and-function-import",
        ),
        pytest.param(
            {"__init__.py": "from pkg._x import X\n", "_x.py": "import pkg\nX = 1\n"},
            ["pkg", "pkg._x", "pkg"],
            id="private-module-imports-its-package",
        ),
        pytest.param(
            {
                "a.py": "from .b import f\n",
                "b.py": "from .c import g\n",
                "c.py": "def g():\n    from . import a\n",
            },
            ["pkg.a", "pkg.b", "pkg.c", "pkg.a"],
            id="three-modules",
        ),
    ],
)
def test_detector_finds_a_cycle(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    """The twin of test_no_module_cycle: a synthetic cycle is found and printed as a path."""
    assert find_cycles(module_graph(_tree(tmp_path, files), "pkg")) == [expected]


def test_private_detector(tmp_path: Path) -> None:
    """Private names taken from another module are found; private submodules are not."""
    root = _tree(
        tmp_path,
        {
            "__init__.py": "",
            "_a.py": "_x = 1\ny = 2\n",
            "b.py": "from pkg._a import _x, y\n",
            "c.py": "from pkg import _a\nprint(_a.y, _a._x)\n",
            "d.py": "from pkg import _a\nimport pkg._a as a\nprint(_a.y, a.y, a.__name__)\n",
        },
    )
    assert private_imports(root, "pkg") == [("pkg.b", "pkg._a._x", 1), ("pkg.c", "pkg._a._x", 2)]
