"""Work kept across a sign-in: a form sent after the session ended is held (in this process's
memory, for a session's length), the user signs in again, and lands back on the page with
what they had typed. Nothing is written on their behalf."""

from __future__ import annotations

import secrets
import threading
from urllib.parse import urlsplit

from cachetools import TTLCache
from fastapi import Request

#: Held at most this long, and at most this many at once.
KEEP_SECONDS = 8 * 3600
KEEP_AT_MOST = 10_000
#: Session keys that survive a fresh sign-in.
CARRIED = ("return_to", "draft")


class Drafts:
    def __init__(self) -> None:
        self._kept: TTLCache = TTLCache(maxsize=KEEP_AT_MOST, ttl=KEEP_SECONDS)
        self._lock = threading.Lock()

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
            with self._lock:
                self._kept[token] = (urlsplit(page).path, fields, owner)
            request.session["draft"] = token

    def take(self, request: Request, user_id: int | None) -> dict[str, str]:
        """The fields kept for this page and this user, once; {} if none. Someone else
        signing in on the same browser never sees them (and they are dropped)."""
        token = request.session.get("draft")
        if not token:
            return {}
        with self._lock:
            kept = self._kept.get(token)
            if kept is None or kept[0] != request.url.path:
                return {}
            del self._kept[token]
        request.session.pop("draft", None)
        return kept[1] if kept[2] == user_id else {}


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
