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
a database library or a web framework. The parameters and the codec build pydantic models
and are imported on first use: rendering a page needs neither.

Example:
    >>> from backendkit.listing import Page, PageParams, page_params
    >>> params = page_params({"page": "2", "perPage": "2"})
    >>> Page.build(["c", "d"], params, total=5).total_pages
    3
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._lazy import lazy_exports as _lazy_exports
from backendkit.listing._pages import CursorPage, Page

if _typing.TYPE_CHECKING:
    from backendkit.listing._codec import CursorCodec, cursor_binding
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


# The codec needs the validation module (to parse cursors) and the parameters are models.
_HOMES = {
    "CursorCodec": "backendkit.listing._codec",
    "cursor_binding": "backendkit.listing._codec",
    "DEFAULT_MAX_PER_PAGE": "backendkit.listing._params",
    "DEFAULT_PER_PAGE": "backendkit.listing._params",
    "MAX_CURSOR_LENGTH": "backendkit.listing._params",
    "MAX_PAGE": "backendkit.listing._params",
    "CursorParams": "backendkit.listing._params",
    "PageParams": "backendkit.listing._params",
    "cursor_params": "backendkit.listing._params",
    "cursor_params_model": "backendkit.listing._params",
    "page_params": "backendkit.listing._params",
    "page_params_model": "backendkit.listing._params",
}

__getattr__, __dir__ = _lazy_exports(globals(), _HOMES)
