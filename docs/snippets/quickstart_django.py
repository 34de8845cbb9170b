"""urls.py: a first Django endpoint on backendkit."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from backendkit.adapters.django import json_body, path_params, success_response
from backendkit.errors import NotFound
from backendkit.validation import ApiModel


class NewNote(ApiModel):
    title: str
    body: str = ""


NOTES: dict[int, dict[str, object]] = {}


@require_POST  # other methods: a 405 METHOD_NOT_ALLOWED envelope
@json_body(NewNote)  # 415 / 413 / 400 / VALIDATION_ERROR before the view runs
def create_note(request: HttpRequest, body: NewNote) -> HttpResponse:
    note = {"id": len(NOTES) + 1, **body.model_dump(by_alias=True)}
    NOTES[note["id"]] = note
    return success_response(note, message="Note created", status=201)


@require_http_methods(["GET", "DELETE"])
@path_params(note_id=int)  # /api/notes/abc: 400 VALIDATION_ERROR on field noteId, not 404
def note(request: HttpRequest, note_id: int) -> HttpResponse:
    if note_id not in NOTES:
        raise NotFound("Note not found")
    if request.method == "DELETE":
        # Django's CSRF check applies (a browser's session could be sent cross-site): without
        # the csrftoken cookie and the X-CSRFToken header this is 403 FORBIDDEN "CSRF
        # verification failed", with a detail on field csrf.
        del NOTES[note_id]
        return HttpResponse(status=204)
    return success_response(NOTES[note_id])


urlpatterns = [
    path("api/notes", create_note),
    path("api/notes/<note_id>", note),
]
