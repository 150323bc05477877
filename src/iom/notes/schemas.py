"""Notes at the edges."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from iom.http.schemas import Text

MAX_CHARS = 5000


class Note(BaseModel):
    id: int
    written_at: dt.datetime
    author: str
    text: str


class NoteIn(BaseModel):
    text: Text = Field(min_length=1, max_length=MAX_CHARS)


#: The record's ``notes`` field: None for readers who may not see free text.
NoteList = list[Note] | None
