"""mkdocs hooks for the backendkit site (registered in mkdocs.yml under ``hooks:``).

One rule is enforced while the site builds: every Python code block in the Markdown
sources must be an include of a tested file (``--8<-- "docs/snippets/x.py"`` through
pymdownx.snippets), never inline code that no test runs. A violation is logged as a
warning, which ``strict: true`` turns into a failed build; ``tests/docs/test_docs_check.py``
runs the same scan without building, so ``pytest`` reports it too.

A second hook keeps the site offline: Material's header links to ``repo_url`` and, when the
link is marked as its "source" component, its JavaScript asks api.github.com for star and
fork counts on every page load. ``on_post_page`` removes that marker, so the link stays a
plain link and no page makes a request off the machine (the browser test checks this).

The scanner is plain Python with no mkdocs import at module level, so the test can import
it cheaply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "INCLUDE_ROOTS",
    "PYTHON_LANGUAGES",
    "UntestedBlock",
    "included_files",
    "on_page_markdown",
    "on_post_page",
    "scan_markdown",
]

#: Info-string languages treated as Python.
PYTHON_LANGUAGES = frozenset({"python", "python3", "py", "py3", "pycon", "python-console"})

#: Where included Python may come from: files that tests execute (docs snippets, example apps).
INCLUDE_ROOTS = ("docs/snippets/", "examples/")

_log = logging.getLogger("mkdocs.hooks.backendkit_docs")

# An opening fence: indentation, ``` or ~~~ (3+), then an info string such as
# "python", "py title=x.py", "{.python .copy}" or "python hl_lines="2 3"".
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
# One include line: --8<-- "path" (either quote); a path may carry ":start:end" or ":section".
_INCLUDE_LINE = re.compile(r"""^;?--8<--[ \t]+(?P<q>["'])(?P<path>[^"']+)(?P=q)[ \t]*$""")
# The block form: a bare --8<-- line, file names one per line, a closing bare --8<--.
_INCLUDE_MARK = re.compile(r"^;?--8<--[ \t]*$")
_LINE_RANGE = re.compile(r"(:-?\d*)+$")


@dataclass(frozen=True)
class UntestedBlock:
    """A Python code block that is not (only) an include of a tested file.

    Attributes:
        line: 1-based line of the opening fence.
        reason: why the block is refused.
    """

    line: int
    reason: str


def _language(info: str) -> str:
    info = info.strip()
    if info.startswith("{"):
        # Attribute-list form: {.python .copy} or { .py title="x" }
        match = re.search(r"\.([A-Za-z0-9_+-]+)", info)
        return match.group(1).lower() if match else ""
    return info.split(" ", 1)[0].split("\t", 1)[0].lower()


def _strip_target(path: str) -> str:
    """Drop pymdownx.snippets' line selections (``:3:9``) and sections (``:name``)."""
    path = _LINE_RANGE.sub("", path)
    head, sep, tail = path.rpartition(":")
    # "file.py:section" -> "file.py" (a Windows drive letter never appears here).
    return head if sep and "/" not in tail and "." not in tail else path


def _check_block(body: list[str]) -> tuple[list[str], str | None]:
    """The files a Python block includes, or the reason it is not a pure include."""
    lines = [line.strip() for line in body if line.strip()]
    if not lines:
        return [], "empty Python block"
    paths: list[str] = []
    in_block_form = False
    for line in lines:
        if _INCLUDE_MARK.match(line):
            in_block_form = not in_block_form
            continue
        if in_block_form:
            paths.append(line)
            continue
        match = _INCLUDE_LINE.match(line)
        if match is None:
            return [], "inline Python code (include a tested file with --8<-- instead)"
        paths.append(match.group("path"))
    if in_block_form:
        return [], "unterminated --8<-- block"
    files = [_strip_target(p) for p in paths]
    for file in files:
        if not file.startswith(INCLUDE_ROOTS):
            return [], f"includes {file!r}, which is outside {', '.join(INCLUDE_ROOTS)}"
    return files, None


def _python_blocks(markdown: str) -> list[tuple[int, list[str]]]:
    """Every fenced block with a Python info string: (opening line, body lines)."""
    blocks: list[tuple[int, list[str]]] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening.group("fence")
        start = index
        body: list[str] = []
        index += 1
        # The block closes at a fence of the same character, at least as long, no info string.
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[index])
            index += 1
        index += 1
        if _language(opening.group("info")) in PYTHON_LANGUAGES:
            blocks.append((start + 1, body))
    return blocks


def scan_markdown(markdown: str) -> list[UntestedBlock]:
    """Return the Python blocks of ``markdown`` that are not pure includes of tested files.

    Example:
        >>> scan_markdown('```python\\n--8<-- "docs/snippets/x.py"\\n```\\n')
        []
        >>> scan_markdown("```py\\nprint('hi')\\n```\\n")[0].line
        1
    """
    problems = []
    for line, body in _python_blocks(markdown):
        _, reason = _check_block(body)
        if reason is not None:
            problems.append(UntestedBlock(line, reason))
    return problems


def included_files(markdown: str) -> list[str]:
    """The files the Python blocks of ``markdown`` include (repository-relative paths)."""
    found: list[str] = []
    for _, body in _python_blocks(markdown):
        files, reason = _check_block(body)
        if reason is None:
            found.extend(files)
    return found


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    """mkdocs event: warn (a failure under ``strict``) about untested Python blocks."""
    source = getattr(page.file, "src_uri", None) or str(page.file)
    for problem in scan_markdown(markdown):
        _log.warning(
            "%s:%d: Python code block that no test runs: %s",
            source,
            problem.line,
            problem.reason,
        )
    return markdown


# Material's JavaScript fetches repository facts from the GitHub API for this component.
_SOURCE_COMPONENT = ' data-md-component="source"'


def on_post_page(output: str, *, page: Any, config: Any) -> str:
    """mkdocs event: keep the repository link but stop the GitHub API request it triggers."""
    return output.replace(_SOURCE_COMPONENT, "")
