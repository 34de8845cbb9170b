"""What must never reach the performance page: a script's raw output.

The page is rendered from the scripts' JSON results only; their stdout and stderr stay in
``build/bench/<area>.log``. These patterns catch what would show that a run's raw output
got onto the page anyway: a traceback, a machine's absolute path, a warning, a log line.
[`find_leaks`][] is run on every page before it is written (a page that fails it is not
written, and the run fails) and by the tests on the committed page.
"""

from __future__ import annotations

import re

__all__ = ["LEAKS", "PageLeakError", "find_leaks"]

#: (what it is, pattern). Paths: a leading "/" not preceded by a word, dot or "~"
#: character, so relative paths such as ``build/bench/cache.log`` pass.
LEAKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a traceback", re.compile(r"Traceback|\bFile \"[^\"]*\", line \d+")),
    (
        "an absolute path",
        re.compile(r"(?<![\w.~-])/(?:work|home|tmp|root|Users|opt|usr|var|srv|mnt)/"),
    ),
    ("an installed package's path", re.compile(r"site-packages|dist-packages")),
    ("a source location", re.compile(r"\.py:\d+")),
    ("a warning", re.compile(r"Warning:")),
    ("an exception", re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b:")),
    ("a log line", re.compile(r"\[\s*(?:debug|info|warning|error|critical)\s*\]", re.I)),
)


class PageLeakError(ValueError):
    """The page would show a script's raw output; it is not written."""


def find_leaks(text: str) -> list[str]:
    """Every leak in ``text``, as "line N: what it is" (empty when the text is clean).

    Example:
        >>> find_leaks("| backendkit | 1.2 µs |")
        []
        >>> find_leaks("ok\\nTraceback (most recent call last):")
        ['line 2: a traceback']
    """
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        found += [f"line {number}: {what}" for what, pattern in LEAKS if pattern.search(line)]
    return found
