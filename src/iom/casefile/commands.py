"""The case file for commands: one audited access per command, as the web has per request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from iom.casefile.access import Access
from iom.db import session_scope
from iom.register.service import as_of_or_default, find_person
from iom.security.roles import cli_actor


@contextmanager
def command_access(engine: Engine, *, user: str, purpose: str, as_of: dt.date | None = None) -> Iterator[Access]:
    """An access as ``user`` at the console, committed when the command's block ends."""
    with session_scope(engine) as session:
        yield Access(audit_engine=engine, session=session, user=cli_actor(user), as_of=as_of_or_default(session, as_of),
                     purpose=purpose, via="cli")


def person_id(access: Access, ref: str) -> int:
    """The id of the person a command names by pseudo id, source id or id."""
    return find_person(access.session, ref).id
