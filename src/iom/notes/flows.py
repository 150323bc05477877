"""Writing a note: the one state change, audited, for pages, API and commands alike."""

from __future__ import annotations

from iom.casefile.access import Access
from iom.notes import service
from iom.notes.schemas import Note


def write_note(access: Access, *, person_id: int, text: str) -> Note:
    """Scope, then the text check, then the audit row (committed), then the note: fail closed,
    and no write lock is held while the audit chain is appended."""
    access.require("write_notes", "this role cannot write notes")
    return access.write(
        person_id, resource="person_note", check=lambda: service.check_note(text), chars=len(text.strip()),
        apply=lambda person: service.add_note(session=access.session, person_id=person.id, author=access.user.username,
                                              text=text),
    )
