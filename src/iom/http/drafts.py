"""Work kept across a sign-in: a form sent after the session ended is held (in the database,
for a session's length, so any worker of the app can give it back), the user signs in again,
and lands back on the page with what they had typed. Nothing is written on their behalf."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import Request
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Engine

#: Held at most this long.
KEEP_SECONDS = 8 * 3600
#: Session keys that survive a fresh sign-in.
CARRIED = ("return_to", "draft")


class Drafts:
    """Kept forms in ``table`` (``iom.web.models.KeptDraft``: token, page, fields, owner, kept_at)
    through ``engine``; each is given back once, to its owner on its page, or dropped."""

    def __init__(self, *, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table

    async def keep(self, request: Request) -> None:
        """Remember where the user was and, for a form, what they typed (never the CSRF token),
        for the same user only: with no way to tell whose session ended, nothing is kept."""
        page = return_path(request)
        request.session["return_to"] = page
        owner = request.session.get("uid") or getattr(request.state, "ended_uid", None)
        if request.method != "POST" or owner is None:
            return
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token" and len(v) <= 10_000}
        if fields:
            token = secrets.token_urlsafe(16)
            await anyio.to_thread.run_sync(self._store, token, urlsplit(page).path, fields, owner)
            request.session["draft"] = token

    def _store(self, token: str, path: str, fields: dict[str, str], owner: int) -> None:
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as connection:
            connection.execute(delete(self.table).where(self.table.c.kept_at < now - dt.timedelta(seconds=KEEP_SECONDS)))
            connection.execute(insert(self.table).values(token=token, path=path, fields=json.dumps(fields),
                                                         owner_id=owner, kept_at=now))

    def take(self, request: Request, user_id: int | None) -> dict[str, str]:
        """The fields kept for this page and this user, once; {} if none. Someone else
        signing in on the same browser never sees them (and they are dropped)."""
        token = request.session.get("draft")
        if not token:
            return {}
        oldest = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=KEEP_SECONDS)
        with self.engine.begin() as connection:
            kept = connection.execute(select(self.table.c.path, self.table.c.fields, self.table.c.owner_id)
                                      .where(self.table.c.token == token, self.table.c.kept_at >= oldest)).first()
            if kept is None or kept.path != request.url.path:
                return {}
            connection.execute(delete(self.table).where(self.table.c.token == token))
        request.session.pop("draft", None)
        return json.loads(kept.fields) if kept.owner_id == user_id else {}


def return_path(request: Request) -> str:
    """Where to come back to: the page itself, or for a form the page it was sent from (a path
    on this site only: never another host)."""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = not referer.netloc or referer.netloc == request.url.netloc
        target = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site and referer.path else "/"
    return safe_path(target)


def safe_path(target: str | None) -> str:
    """A local path, or "/" (an open redirect otherwise)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
