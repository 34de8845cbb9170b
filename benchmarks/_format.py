"""Numbers, ratios, tables and row notes for the performance page (used by every area).

Every comparison on the page is shown the same way: absolute numbers in every cell and,
beside a number that is not backendkit's, backendkit's *relative speed* against it
(``1.26x``: backendkit does the same work 1.26 times as fast; ``0.80x``: it is slower).

A note explains one row (or one cell of a row) and is keyed to it: the row carries a
numbered reference, the note sits under that row's table under the same number, and the
"Where backendkit is slower" list at the top of the page links to it. Numbers run over the
whole page, so a reference is never ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DASH",
    "FASTER",
    "SLOWER",
    "Area",
    "Loss",
    "NoteCounter",
    "cell",
    "num",
    "rel",
    "speed",
    "table",
    "us",
]

SLOWER, FASTER = 0.95, 1.05  # within 5 %: the same speed (the noise of one run)
DASH = "\u2013"  # an en dash: "no figure" in a table cell


def speed(ours: float | None, other: float | None, *, higher_is_better: bool) -> float | None:
    """backendkit's speed relative to ``other`` (> 1: backendkit faster)."""
    if not ours or not other:
        return None
    return ours / other if higher_is_better else other / ours


def rel(value: float | None) -> str:
    """``1.26x`` / ``**0.80x** (slower)`` / ``1.01x (same)``."""
    if value is None:
        return ""
    if value >= FASTER:
        return f"{value:.2f}x"
    if value <= SLOWER:
        return f"**{value:.2f}x** (slower)"
    return f"{value:.2f}x (same)"


def num(value: float | None, unit: str = "", digits: int = 3) -> str:
    """A number with a few significant digits and thousands separators."""
    if value is None:
        return DASH
    if abs(value) < 1000:
        # Rounded to ``digits`` first: 999.7 is "1,000", never "1e+03".
        value = float(f"{value:.{digits}g}")
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"
    return f"{text} {unit}".strip()


def us(seconds: float | None) -> str:
    """Seconds shown as microseconds."""
    return DASH if seconds is None else num(seconds * 1e6, "µs")


def cell(value: str, relative: float | None, ref: str = "") -> str:
    """A cell: the number, then the relative speed when there is one, then a note reference."""
    text = f"{value} · {rel(relative)}" if relative is not None else value
    return f"{text} · {ref}" if ref else text


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table (and the blank line after it)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


class NoteCounter:
    """Numbers the notes of one page (shared by all its areas)."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        """The next free note number."""
        self.last += 1
        return self.last


@dataclass(frozen=True)
class Loss:
    """One row where backendkit was slower, for the list at the top of the page."""

    area: str
    what: str
    note: int


@dataclass
class _Note:
    number: int
    labels: list[str]
    text: str


@dataclass
class Area:
    """What one area contributes to the page: its body, charts, losses and row notes."""

    title: str
    counter: NoteCounter = field(default_factory=NoteCounter)
    quick: bool = False
    #: The script's own notes, keyed by the row they explain (shown only with that row).
    script_notes: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)  # file name -> SVG
    pending: list[_Note] = field(default_factory=list)  # notes of the table being built

    def why(self, key: str, default: str) -> str:
        """The script's note for the row ``key`` when it has one, else ``default``."""
        note = self.script_notes.get(key)
        return note if isinstance(note, str) and note.strip() else default

    def note(self, label: str, text: str) -> str:
        """Key ``text`` to the row ``label`` of the next table; return the row's reference.

        Rows of one table that share a reason share one note.
        """
        return _ref(self._keyed(label, text))

    def lose(self, label: str, what: str, why: str, ratio: float | None = None) -> str:
        """Record a row where backendkit is slower; return the reference for that row."""
        if self.quick and ratio is not None and ratio > 0.9:
            why += " (A quick run: a difference under 10 % can be noise here.)"
        number = self._keyed(label, why)
        self.losses.append(Loss(self.title, what, number))
        return _ref(number)

    def _keyed(self, label: str, text: str) -> int:
        for note in self.pending:
            if note.text == text:
                if label not in note.labels:
                    note.labels.append(label)
                return note.number
        number = self.counter.next()
        self.pending.append(_Note(number, [label], text))
        return number

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        """Add a table to the body, followed by the notes keyed to its rows."""
        self.body += table(header, rows)
        for note in self.pending:
            labels = "; ".join(note.labels)
            self.body += [
                f'<a id="note-{note.number}"></a>**Note {note.number}** ({labels}). {note.text}',
                "",
            ]
        self.pending = []


def _ref(number: int) -> str:
    return f"[note {number}](#note-{number})"
