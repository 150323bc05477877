"""Adding a note from the person page or the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id, render_person
from iom.errors import FieldError
from iom.http.deps import CSRF
from iom.http.schemas import PROBLEMS, PersonId, Text
from iom.notes import flows
from iom.notes.schemas import MAX_CHARS, Note, NoteIn

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)


@pages.post("/people/{person_id}/notes", dependencies=CSRF)
def add_note_page(request: Request, access: AccessDep, person_id: int,
                  text: Annotated[Text, Form(max_length=MAX_CHARS)] = "") -> Response:
    """Adds the note, or shows the record again with the text kept and what to put right."""
    try:
        flows.write_note(access, person_id=page_person_id(person_id), text=text)
    except FieldError as exc:
        return render_person(request, access, person_id, errors=[(exc.field, str(exc))], drafts={"text": text},
                             status_code=400)
    return RedirectResponse(f"/people/{person_id}#notes", status_code=303)


@api.post("/people/{person_id}/notes", response_model=Note, status_code=201, dependencies=CSRF,
          summary="Add a note (audited; needs X-CSRF-Token)")
def add_note(access: AccessDep, person_id: PersonId, body: NoteIn) -> Note:
    return flows.write_note(access, person_id=person_id, text=body.text)
