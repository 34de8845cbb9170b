"""What the hostile-input fuzz saw, per app: printed in pytest's terminal summary."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

#: Codes that mean a request was stopped before validation and the handlers.
GATE_CODES = frozenset({"UNAUTHENTICATED", "INVALID_TOKEN", "RATE_LIMITED"})


@dataclass
class FuzzStats:
    """Counts of (status, code) for one app, split by whether auth itself was fuzzed."""

    outcomes: collections.Counter[tuple[int, str]] = field(default_factory=collections.Counter)
    gated: int = 0  # authenticated requests stopped by auth or a rate limit
    authenticated: int = 0  # requests sent with the fuzz user's valid token

    def record(self, status: int, code: str, *, authenticated: bool) -> None:
        """Count one response."""
        self.outcomes[(status, code)] += 1
        if authenticated:
            self.authenticated += 1
            if code in GATE_CODES:
                self.gated += 1

    def lines(self, name: str) -> list[str]:
        """The histogram as text."""
        total = sum(self.outcomes.values())
        out = [f"{name}: {total} requests, {self.authenticated} with a valid token "
               f"({self.gated} of those stopped by auth or a rate limit)"]  # fmt: skip
        for (status, code), count in sorted(self.outcomes.items()):
            out.append(f"  {status} {code:<24} {count:>5}")
        return out


#: Per server name (``fastapi-embedded``, ...).
STATS: dict[str, FuzzStats] = collections.defaultdict(FuzzStats)
