"""Count strategies for page-number paging.

* ``exact`` (default): the page query, then one ``COUNT(*)`` over the same query as a
  subquery (right with DISTINCT and joins). Skipped when the page itself tells the total: a
  short non-empty page, or an empty first page.
* ``none``: one query; one extra row is fetched to tell ``hasNext``; no total.
* ``estimated``: PostgreSQL's planner estimate (``EXPLAIN (FORMAT JSON)``, no table scan),
  and an exact count when the estimate is below a threshold (small results deserve exact
  numbers and are cheap to count). Other databases count exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from backendkit.repository._explain import ExplainJson, plan_rows
from backendkit.repository._statements import Statements
from backendkit.repository._steps import Execute, Flow

__all__ = ["estimate_flow"]


def estimate_flow(statements: Statements[Any], base: Select[Any], threshold: int) -> Flow[int]:
    """Planner estimate of the rows ``base`` returns; exact below ``threshold``."""
    if statements.dialect == "postgresql":
        inner = base.order_by(None).limit(None).offset(None)
        value = yield Execute(ExplainJson(inner), "scalar")
        estimate = plan_rows(value)
        if estimate >= threshold:
            return estimate
    total = yield Execute(statements.count(base), "scalar")
    return int(total)
