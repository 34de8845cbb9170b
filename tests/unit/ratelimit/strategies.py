"""Hypothesis strategies shared by the rate-limiter property and state-machine tests."""

from __future__ import annotations

from hypothesis import strategies as st

from backendkit.ratelimit import Rule, Strategy

#: Small amounts and short windows, so histories cross many window boundaries.
LIMIT_TEXTS = st.builds(
    lambda amount, seconds: f"{amount}/{seconds} second",
    st.integers(min_value=1, max_value=6),
    st.sampled_from([1, 2, 3, 5]),
)

#: Time steps in ms: small ones, arbitrary ones, and ones that land on window edges
#: (whole and half seconds, one ms either side), where off-by-one errors live.
STEPS = st.one_of(
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=6_000),
    st.sampled_from([1, 499, 500, 501, 999, 1000, 1001, 1999, 2000, 2001, 2999, 3000, 5000]),
)

#: Costs of a hit.
COSTS = st.integers(min_value=1, max_value=4)


@st.composite
def rules(draw: st.DrawFn, strategy: Strategy, max_limits: int = 2) -> Rule:
    """A rule of 1..max_limits distinct limits under ``strategy``."""
    texts = draw(st.lists(LIMIT_TEXTS, min_size=1, max_size=max_limits, unique_by=_window))
    return Rule("prop", ";".join(texts), strategy=strategy)


def _window(text: str) -> str:
    # Distinct windows keep limits distinct (a rule refuses duplicates).
    return text.split("/")[1]
