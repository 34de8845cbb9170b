"""notes.py: a first FastAPI endpoint on backendkit.

Run it:
    BACKENDKIT_ENV=development uvicorn --factory notes:create_app --no-access-log --no-proxy-headers
(--no-access-log: backendkit already logs each request once; --no-proxy-headers:
backendkit, not uvicorn, decides the client address.)
"""

from typing import Annotated, Any

from fastapi import FastAPI

from backendkit.adapters.fastapi import JsonBody, install
from backendkit.errors import NotFound
from backendkit.responses import Envelope, success
from backendkit.settings import Settings
from backendkit.validation import ApiModel
from backendkit.web import WebKit


class NewNote(ApiModel):
    title: str
    body: str = ""


class Note(NewNote):
    id: int


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Notes")
    # Envelopes, the error catalogue, request ids, security headers, access log.
    # With settings=None the kit reads the BACKENDKIT_* environment variables.
    install(app, WebKit.from_settings(settings))
    notes: dict[int, Note] = {}

    @app.post("/notes", status_code=201, response_model=Envelope[Note])
    async def create_note(body: Annotated[NewNote, JsonBody(NewNote)]) -> dict[str, Any]:
        note = Note(id=len(notes) + 1, **body.model_dump())
        notes[note.id] = note
        return success(note, "Note created")

    @app.get("/notes/{note_id}", response_model=Envelope[Note])
    async def get_note(note_id: int) -> dict[str, Any]:  # /notes/abc: 400 on field noteId
        if note_id not in notes:
            raise NotFound("Note not found")
        return success(notes[note_id])

    return app
