"""notes.py: a first Flask endpoint on backendkit.

Run it: BACKENDKIT_ENV=development flask --app notes run
"""

from typing import Any

from flask import Flask

from backendkit.adapters.flask import BackendKit, json_body, path_params
from backendkit.errors import NotFound
from backendkit.logging import configure_logging
from backendkit.responses import success
from backendkit.settings import Settings
from backendkit.validation import ApiModel
from backendkit.web import WebKit


class NewNote(ApiModel):
    title: str
    body: str = ""


class Note(NewNote):
    id: int


def create_app(settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    # Envelopes, the error catalogue, request ids, security headers, access log.
    # With settings=None the kit reads the BACKENDKIT_* environment variables.
    kit = WebKit.from_settings(settings)
    BackendKit(app, kit=kit)
    # One line per request (console in development, JSON otherwise): backendkit's access
    # log; the development server's own request line is left out.
    configure_logging(kit.settings)
    notes: dict[int, Note] = {}

    @app.post("/notes")
    @json_body(NewNote)
    def create_note(body: NewNote) -> Any:
        note = Note(id=len(notes) + 1, **body.model_dump())
        notes[note.id] = note
        return success(note, "Note created"), 201

    @app.get("/notes/<note_id>")
    @path_params(note_id=int)  # /notes/abc: 400 VALIDATION_ERROR on field noteId, not 404
    def get_note(note_id: int) -> Any:
        if note_id not in notes:
            raise NotFound("Note not found")
        return success(notes[note_id])

    return app
