"""The adapters' duplicate-code check finds a copied block under other names, and only that."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_duplicates.py"

ORIGINAL = '''
def charge(request, kit):
    """Charge the limit."""
    limiter = kit.limiter
    if limiter is None:
        raise ValueError("no limiter")
    rule = make_rule(kit.limits, "default")
    bucket = f"ip:{request.peer}"
    result = limiter.hit(rule, bucket)
    return result.headers()
'''

# The same logic under other names and strings (what a copy to a second adapter looks like).
RENAMED = """
def acharge(req, app_kit):
    lim = app_kit.async_limiter
    if lim is None:
        raise RuntimeError("needs an async limiter")
    r = build(app_kit.default, "main")
    key = f"addr:{req.client}"
    outcome = lim.hit(r, key)
    return outcome.headers()
"""

DIFFERENT = """
def render(cycle, exc):
    body = exc.to_json()
    for name in cycle.headers:
        body.headers.append(name)
    while cycle.pending:
        cycle.pending.pop()
    return body
"""


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_duplicates", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree(tmp_path: Path, flask: str, django: str) -> Path:
    (tmp_path / "django").mkdir()
    (tmp_path / "flask.py").write_text(flask)
    (tmp_path / "django" / "_limits.py").write_text(django)
    return tmp_path


def test_a_renamed_copy_in_another_adapter_is_found(tmp_path: Path) -> None:
    """Names, strings and the docstring differ; the shape is the same: reported, exit 1."""
    root = tree(tmp_path, ORIGINAL, RENAMED)
    check = load()
    found = check.find(root, 6)
    assert len(found) == 1
    assert found[0].startswith("django/_limits.py:")
    assert check.main([str(root)]) == 1


def test_different_code_passes(tmp_path: Path) -> None:
    """The valid twin: two adapters with code of another shape, exit 0."""
    root = tree(tmp_path, ORIGINAL, DIFFERENT)
    check = load()
    assert check.find(root, 6) == []
    assert check.main([str(root)]) == 0


def test_imports_and_signatures_do_not_count(tmp_path: Path) -> None:
    """The same keyword vocabulary in two adapters is the point, not a copy."""
    signature = (
        "from a import (\n    b,\n    c,\n    d,\n    e,\n    f,\n    g,\n)\n"
        "def rate_limit(\n    limits,\n    *,\n    key=None,\n    bucket=None,\n"
        "    name=None,\n    cost=1,\n):\n    return limits\n"
    )
    root = tree(tmp_path, signature, signature)
    assert load().find(root, 6) == []


def test_generated_migrations_do_not_count(tmp_path: Path) -> None:
    """makemigrations writes the same shapes for every model; a migrations folder is skipped."""
    root = tree(tmp_path, ORIGINAL, DIFFERENT)
    migrations = root / "django" / "store" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0001_initial.py").write_text(ORIGINAL + RENAMED)
    assert load().find(root, 6) == []
    (root / "django" / "store" / "models.py").write_text(RENAMED)  # outside: still found
    assert len(load().find(root, 6)) == 1
