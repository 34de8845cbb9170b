"""Interleaved rounds on a shared machine: medians with their spread, and honest comparisons.

The adapter benchmarks run their apps round by round (A, B, C, A, B, C, ...), so load
that comes and goes on the machine falls on every app alike, and keep every round's
figures: requests per second, and the server's CPU time per request (``cpu_seconds``).
An app is summarised by the median of its rounds and the quartiles around it; two apps
whose quartile ranges overlap are reported as the *same* speed rather than with a ratio
that the noise of the machine could have made.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Comparison", "compare", "compare_apps", "cpu_seconds", "summary"]

#: (ours, compared with, target ratio or None, what the comparison shows).
Comparison = tuple[str, str, "float | None", str]


def cpu_seconds(pids: Iterable[int]) -> float:
    """CPU time so far (user + system) of every thread of ``pids``, in seconds.

    Read from ``/proc/<pid>/task/<tid>/schedstat`` (nanoseconds): a round of a second or
    less is then measured to far better than the 10 ms clock ticks of ``/proc/<pid>/stat``.
    """
    total = 0
    for pid in pids:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[0])
            except (OSError, ValueError, IndexError):  # a thread that just ended
                continue
    return total / 1e9


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, quartiles (``q1``, ``q3``), min and max of one app's rounds, with the rounds."""
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": round(statistics.median(ordered), 2),
        "q1": round(q1, 2),
        "q3": round(q3, 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
        "rounds": [round(v, 2) for v in values],
    }


def compare(
    ours: dict[str, Any], other: dict[str, Any], *, higher_is_better: bool
) -> dict[str, Any]:
    """Our speed relative to ``other`` (> 1: ours faster), or "same" when the spreads overlap.

    Args:
        ours: a ``summary`` of our app's rounds.
        other: a ``summary`` of the app compared with.
        higher_is_better: True for requests per second, False for CPU per request.

    Returns:
        ``{"ratio": r, "verdict": "faster" | "slower" | "same"}``; the ratio is that of the
        medians, kept for the record even when the verdict is "same".
    """
    if higher_is_better:
        ratio = ours["median"] / other["median"]
    else:
        ratio = other["median"] / ours["median"]
    overlap = ours["q1"] <= other["q3"] and other["q1"] <= ours["q3"]
    verdict = "same" if overlap else ("faster" if ratio > 1 else "slower")
    return {"ratio": round(ratio, 3), "verdict": verdict}


def compare_apps(
    apps: dict[str, Any], table: Iterable[Comparison], why: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Each comparison of ``table`` between measured apps (``{"rps": summary, "cpu_us":
    summary}`` each): both measures compared, and ``why(other)`` as the row's note when
    ours is slower on either."""
    out = []
    for ours, other, target, what in table:
        if ours not in apps or other not in apps:
            continue
        row: dict[str, Any] = {"ours": ours, "other": other, "target": target, "what": what}
        row["rps"] = compare(apps[ours]["rps"], apps[other]["rps"], higher_is_better=True)
        row["cpu"] = compare(apps[ours]["cpu_us"], apps[other]["cpu_us"], higher_is_better=False)
        if row["rps"]["verdict"] == "slower" or row["cpu"]["verdict"] == "slower":
            row["note"] = why(other)
        out.append(row)
    return out
