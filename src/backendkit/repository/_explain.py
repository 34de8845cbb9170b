"""``EXPLAIN (FORMAT JSON)`` for any SELECT, executed like a normal statement."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

__all__ = ["ExplainJson", "plan_rows"]


class ExplainJson(Executable, ClauseElement):
    """PostgreSQL's ``EXPLAIN (FORMAT JSON) <statement>``; parameters stay bound."""

    inherit_cache = False

    def __init__(self, statement: Executable) -> None:
        self.statement: Any = statement


@compiles(ExplainJson)
def _compile_explain(element: ExplainJson, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def plan(result_value: Any) -> dict[str, Any]:
    """The top plan node from the single value EXPLAIN returns (text or already parsed)."""
    parsed = json.loads(result_value) if isinstance(result_value, (str, bytes)) else result_value
    node = parsed[0]["Plan"]
    assert isinstance(node, dict)
    return node


def plan_rows(result_value: Any) -> int:
    """The planner's row estimate for the whole statement."""
    return int(plan(result_value)["Plan Rows"])
