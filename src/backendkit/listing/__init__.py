"""Listing: what a client asks for (page and cursor parameters), what it gets (pages), and
the signed cursors that carry a keyset walk from one page to the next.

- parameters: `PageParams`, `CursorParams`, their capped variants (`page_params_model`,
  `cursor_params_model`) and `page_params` / `cursor_params`, which read them from any
  framework's query string;
- results: `Page`, `CursorPage` (rendered by [`paginated`][backendkit.responses.paginated]);
- cursors: `CursorCodec` and `cursor_binding`.

The data layers build on the same internals, so the SQLAlchemy repository and the Django
adapter filter, sort and page alike: allowlisted filters (``_filters``) and sorting
(``_sort``), keyset conditions for any query language (``_keyset``), what a cursor carries
(``_state``) and the assembly of fetched rows into pages (``_paging``). Nothing here imports
a database library or a web framework.

Example:
    >>> from backendkit.listing import Page, PageParams, page_params
    >>> params = page_params({"page": "2", "perPage": "2"})
    >>> Page.build(["c", "d"], params, total=5).total_pages
    3
"""

from backendkit.listing._codec import CursorCodec, cursor_binding
from backendkit.listing._pages import CursorPage, Page
from backendkit.listing._params import (
    DEFAULT_MAX_PER_PAGE,
    DEFAULT_PER_PAGE,
    MAX_CURSOR_LENGTH,
    MAX_PAGE,
    CursorParams,
    PageParams,
    cursor_params,
    cursor_params_model,
    page_params,
    page_params_model,
)

__all__ = [
    "DEFAULT_MAX_PER_PAGE",
    "DEFAULT_PER_PAGE",
    "MAX_CURSOR_LENGTH",
    "MAX_PAGE",
    "CursorCodec",
    "CursorPage",
    "CursorParams",
    "Page",
    "PageParams",
    "cursor_binding",
    "cursor_params",
    "cursor_params_model",
    "page_params",
    "page_params_model",
]
