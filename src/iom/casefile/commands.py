"""The case file for commands: one audited access per command, as the web has per request.

Who acts at the console: the role a command names (``--user``), or else the operating-system
account running it, and every audit row a command writes carries that account too
(``os_user``), so a named role is never a way to act unseen; never empty."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from iom.casefile.access import Access
from iom.db import session_scope
from iom.register.service import as_of_or_default, find_person
from iom.security.roles import Principal, cli_actor, console_user

#: What ``--user`` says when neither it nor ``$USER`` is set: not a name, so the account is used.
UNNAMED = frozenset({"", "cli"})


def console_actor(named: str | None = None) -> Principal:
    """The console's actor: the role ``named`` (``--user``), else the operating-system account."""
    name = (named or "").strip()
    return cli_actor(name[:64] if name not in UNNAMED else console_user())


@dataclass
class CommandAccess(Access):
    """An access at the console: every row it logs names the operating-system account too."""

    os_user: str = ""

    def log(self, action: str, resource: str, *, person_id: int | None = None, **detail: Any) -> None:
        super().log(action, resource, person_id=person_id, os_user=self.os_user, **detail)


@contextmanager
def command_access(engine: Engine, *, user: str | None = None, purpose: str,
                   as_of: dt.date | None = None) -> Iterator[Access]:
    """An access as ``user`` (a named role; default the operating-system account) at the
    console, committed when the command's block ends."""
    with session_scope(engine) as session:
        yield CommandAccess(audit_engine=engine, session=session, user=console_actor(user),
                            as_of=as_of_or_default(session, as_of), purpose=purpose, via="cli", os_user=console_user())


def person_id(access: Access, ref: str) -> int:
    """The id of the person a command names by pseudo id, source id or id."""
    return find_person(access.session, ref).id
