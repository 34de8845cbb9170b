"""Fail when two framework adapters share a block of code, even under other names.

The adapters only translate; a decision written twice belongs in ``backendkit.web``. This
check normalises every line of ``src/backendkit/adapters`` (names become ``N``, strings
``S``, numbers ``0``; comments, docstrings, imports, signatures and blank lines drop out)
and reports every run of ``--min-lines`` (default 6) consecutive lines of the same shape
found in two adapters (flask, fastapi, django, drf), or twice inside one.

Usage: ``python scripts/check_duplicates.py [--min-lines N] [ROOT]``; exit status 1 when a
shared block is found.
"""

from __future__ import annotations

import argparse
import io
import keyword
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

#: A normalised line must hold at least this many tokens to count: lone brackets,
#: ``else:`` and ``return N`` are the shape of every program, not a copy.
MIN_TOKENS = 2


def family(path: Path, root: Path) -> str:
    """The adapter a file belongs to: ``django/_x.py`` -> ``django``, ``_fastapi_asgi.py`` ->
    ``fastapi``."""
    first = path.relative_to(root).parts[0]
    return first.removesuffix(".py").lstrip("_").split("_")[0]


def shapes(source: str) -> list[tuple[int, str]]:
    """(line number, normalised text) of each line worth comparing."""
    out: list[tuple[int, str]] = []
    statement: list[tokenize.TokenInfo] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            out.extend(_statement_lines(statement))
            statement = []
        elif tok.type not in _SKIPPED:
            statement.append(tok)
    return out


_SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
_FSTRING_PARTS = {getattr(tokenize, name, -1) for name in ("FSTRING_MIDDLE", "FSTRING_END")}


def _statement_lines(tokens: list[tokenize.TokenInfo]) -> list[tuple[int, str]]:
    if not tokens:
        return []
    first = tokens[0]
    # Imports, ``__all__`` lists, docstrings and signatures are declarations, not logic: the
    # adapters are meant to offer the same keywords (``rate_limit(limits, *, key=...)``).
    if first.string in ("import", "from", "__all__", "def") or (
        len(tokens) == 1 and first.type == tokenize.STRING
    ):
        return []
    if first.string == "async" and tokens[1].string == "def":
        return []
    lines: dict[int, list[str]] = defaultdict(list)
    for tok in tokens:
        if tok.type in _FSTRING_PARTS:
            continue
        if tok.type == tokenize.NAME:
            text = tok.string if keyword.iskeyword(tok.string) else "N"
        elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
            text = "S"
        elif tok.type == tokenize.NUMBER:
            text = "0"
        else:
            text = tok.string
        lines[tok.start[0]].append(text)
    return [
        (number, " ".join(parts))
        for number, parts in sorted(lines.items())
        if len(parts) >= MIN_TOKENS
    ]


def find(root: Path, min_lines: int) -> list[str]:
    """Every shared block, as ``a.py:10-20 ~ b.py:30-40`` lines."""
    windows: dict[tuple[str, ...], list[tuple[Path, int, int]]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        lines = shapes(path.read_text(encoding="utf-8"))
        for i in range(len(lines) - min_lines + 1):
            chunk = lines[i : i + min_lines]
            windows[tuple(text for _, text in chunk)].append((path, chunk[0][0], chunk[-1][0]))
    found: dict[tuple[Path, Path], list[tuple[int, int, int, int]]] = defaultdict(list)
    for places in windows.values():
        for a in range(len(places)):
            for b in range(a + 1, len(places)):
                (pa, sa, ea), (pb, sb, eb) = places[a], places[b]
                if pa == pb and sb <= ea:
                    continue  # an overlapping run of one file (a repeated line)
                found[(pa, pb)].append((sa, ea, sb, eb))
    report = []
    for (pa, pb), runs in sorted(found.items()):
        s1, e1, s2, e2 = min(runs)
        more = f" (+{len(runs) - 1} more windows)" if len(runs) > 1 else ""
        report.append(f"{pa.relative_to(root)}:{s1}-{e1} ~ {pb.relative_to(root)}:{s2}-{e2}{more}")
    return report


def main(argv: list[str] | None = None) -> int:
    """Print the shared blocks; 1 when there is one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="src/backendkit/adapters", type=Path)
    parser.add_argument("--min-lines", type=int, default=6)
    args = parser.parse_args(argv)
    blocks = find(args.root, args.min_lines)
    for block in blocks:
        print(f"same shape: {block}")
    if blocks:
        print(f"{len(blocks)} block(s) of {args.min_lines}+ lines written twice in the adapters")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
