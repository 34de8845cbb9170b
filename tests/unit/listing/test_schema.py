"""The OpenAPI 3.0 schemas of the page and cursor envelopes match what paginated() writes."""

from __future__ import annotations

import doctest

from backendkit.listing import CursorPage, Page, PageParams, _schema
from backendkit.listing._schema import page_envelope_schema
from backendkit.responses import paginated

ITEM = {"type": "array", "items": {"type": "object"}}


def test_docstring_examples() -> None:
    """The examples in the module's docstrings run and print what they claim."""
    assert doctest.testmod(_schema).failed == 0


def test_the_page_schema_names_every_key_a_page_envelope_has() -> None:
    """A counted page's envelope and pagination keys are exactly the schema's."""
    schema = page_envelope_schema(ITEM)
    body = paginated(Page.build(["a"], PageParams(page=1, per_page=20), total=1))
    assert set(schema["properties"]) == set(body) == set(schema["required"])
    assert schema["properties"]["data"] is ITEM
    assert set(schema["properties"]["pagination"]["properties"]) == set(body["pagination"])


def test_the_cursor_schema_names_every_key_a_cursor_envelope_has() -> None:
    """The cursor form describes the cursor keys, not the page-number ones."""
    schema = page_envelope_schema(ITEM, cursor=True)
    body = paginated(CursorPage(["a"], 20, "n", None, True, False))
    pagination = schema["properties"]["pagination"]["properties"]
    assert set(pagination) == set(body["pagination"])
    assert pagination["nextCursor"] == {"type": "string", "nullable": True}


def test_a_schema_is_a_fresh_dict_each_time() -> None:
    """Changing one returned schema leaves the next one as it was."""
    page_envelope_schema(ITEM)["properties"]["pagination"]["properties"]["extra"] = {}
    assert "extra" not in page_envelope_schema(ITEM)["properties"]["pagination"]["properties"]
