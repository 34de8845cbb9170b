"""The number formatting of the benchmark pages (benchmarks/_format.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fmt() -> ModuleType:
    """benchmarks/ is a directory of scripts, not a package."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import _format
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return _format


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (999.7, "1,000 µs"),
        (999.5, "1,000 µs"),
        (-999.9, "-1,000 µs"),
        (999.4, "999 µs"),
        (12.345, "12.3 µs"),
        (0.5, "0.5 µs"),
        (1000.0, "1,000 µs"),
        (12345.6, "12,346 µs"),
    ],
)
def test_num_never_prints_exponents_near_a_thousand(
    fmt: ModuleType, value: float, text: str
) -> None:
    assert fmt.num(value, "µs") == text


def test_us_of_a_value_just_under_a_millisecond(fmt: ModuleType) -> None:
    assert fmt.us(0.0009997) == "1,000 µs"
    assert fmt.us(None) == fmt.DASH
