from backendkit.errors import ValidationFailed
from backendkit.listing import Page, PageParams
from backendkit.responses import paginated
from backendkit.validation import validate_query

params = validate_query(PageParams, {"page": "3", "perPage": "25", "sort": "-id"})
assert (params.offset, params.limit) == (50, 25)

# Out of range is an error, never silently clamped to the cap.
try:
    validate_query(PageParams, {"perPage": "500"})
except ValidationFailed as exc:
    details = [(d.field, d.message) for d in exc.details]
assert details == [("perPage", "Input should be less than or equal to 100")]

# Another cap for one endpoint: a (cached) subclass.
ExportParams = PageParams.with_max(500)
assert validate_query(ExportParams, {"perPage": "500"}).per_page == 500

# A page from a counted query...
page = Page.build(["a", "b"], PageParams(page=1, per_page=2), total=5)
assert (page.total_pages, page.has_next) == (3, True)
# ...or from an uncounted one (fetch per_page + 1 rows to learn has_next).
rows = ["a", "b", "c"]
page = Page.build(rows[:2], PageParams(page=1, per_page=2), has_next=len(rows) > 2)
assert paginated(page)["pagination"] == {
    "page": 1,
    "perPage": 2,
    "total": None,
    "totalPages": None,
    "hasNext": True,
}
