"""Notes: read for a record scope has let through, checked, written. Never commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.casefile.access import RecordContext
from iom.casefile.schemas import TimelineEvent
from iom.errors import FieldError
from iom.notes.models import PersonNote
from iom.notes.schemas import MAX_CHARS, Note


def list_notes(*, session: Session, person_id: int) -> list[Note]:
    """Newest first."""
    rows = session.scalars(select(PersonNote).where(PersonNote.person_id == person_id).order_by(PersonNote.id.desc()))
    return [Note.model_validate(n, from_attributes=True) for n in rows]


def for_record(ctx: RecordContext) -> list[Note] | None:
    """The record's notes; None for pseudonymised readers."""
    return None if ctx.user.pseudonymised else list_notes(session=ctx.session, person_id=ctx.person_id)


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """A line per note on the timeline (who and when, not the text)."""
    if ctx.user.pseudonymised:
        return []
    rows = ctx.session.execute(select(PersonNote.written_at, PersonNote.author).where(PersonNote.person_id == ctx.person_id))
    return [TimelineEvent(on=at.date(), kind="note", text=f"Note by {author}") for at, author in rows]


def check_note(text: str) -> str:
    text = text.strip()
    if not text:
        raise FieldError("a note needs some text", field="note-text")
    if len(text) > MAX_CHARS:
        raise FieldError(f"a note is at most {MAX_CHARS:,} characters", field="note-text")
    return text


def add_note(*, session: Session, person_id: int, author: str, text: str) -> Note:
    note = PersonNote(person_id=person_id, written_at=dt.datetime.now(dt.UTC), author=author, text=check_note(text))
    session.add(note)
    session.flush()
    return Note.model_validate(note, from_attributes=True)
