"""Pages' derived views (a caseload page, a person record, a score explanation), kept per
register version.

The register version changes in the same transaction as any write to the tables the views
are built from (database triggers, migration 0005), so a kept view is never stale: a request
reads the version first, and a view built at an older version is simply never asked for
again. What is kept depends only on the version, the request's arguments and the reader's
``scope.view_key``. Audit rows are appended on every read whether or not a view was kept."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import LRUCache
from sqlalchemy.orm import Session

from iom.register.service import register_version

T = TypeVar("T")
#: Enough for every current cohort member of a large force's busiest pages; a person record
#: with its timeline is a few tens of kilobytes.
DEFAULT_SIZE = 4096


class Views:
    """A bounded, thread-safe store of derived views keyed by register version."""

    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        self._kept: LRUCache = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, session: Session, key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
        """The view for ``key`` at the register's current version, built by ``build`` (which
        reads through ``session``) if not kept. Nothing is kept without a version."""
        return self.at(register_version(session), key, build)

    def at(self, version: int | None, key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
        """``get`` at a version the caller has just read: a read-only request building several
        views reads it once (a build that sees a later commit than its key only keeps newer
        data under a version no one reads any more)."""
        if version is None:
            return build()
        full = (version, *key)
        with self._lock:
            kept = self._kept.get(full, _MISSING)
            if kept is not _MISSING:
                self.hits += 1
                return kept
            self.misses += 1
        value = build()
        with self._lock:
            self._kept[full] = value
        return value


_MISSING = object()
