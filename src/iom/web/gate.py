"""Bounded password checking: at most a few argon2 checks at once per worker, each in a thread
of its own, the rest waiting (without a thread or a connection) for a bounded time and then
answered 503 with ``Retry-After``. A storm of sign-ins so costs a queue, never a stall of every
other request or an exhausted connection pool."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from iom.config import Settings
from iom.errors import Unavailable

T = TypeVar("T")


def slots_for(settings: Settings) -> int:
    """The configured slots, else the machine's cores shared among the workers (at least one)."""
    if settings.signin_slots:
        return settings.signin_slots
    return max(1, (os.cpu_count() or 1) // settings.web_workers)


class PasswordGate:
    """``slots`` checks at once per event loop (a worker serves from one loop; each of a test's
    clients runs its own), the rest waiting up to ``wait_seconds``."""

    def __init__(self, *, slots: int, wait_seconds: float) -> None:
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._by_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordGate:
        return cls(slots=slots_for(settings), wait_seconds=settings.signin_wait_seconds)

    def _limiters(self) -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
        """The running loop's pair (made on first use there): anyio's limiters belong to one loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pair = self._by_loop.get(loop)
            if pair is None:
                pair = self._by_loop[loop] = (anyio.CapacityLimiter(self.slots), anyio.CapacityLimiter(self.slots))
        return pair

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in a thread once a slot is free; Unavailable if none frees up in time."""
        waiting, threads = self._limiters()
        try:
            with anyio.fail_after(self.wait_seconds):
                await waiting.acquire()
        except TimeoutError:
            raise Unavailable("too many sign-ins at once: try again in a few seconds",
                              retry_after=max(1, round(self.wait_seconds / 2))) from None
        try:
            # Its own thread limiter (the same size as the slots, so never waited on): the
            # shared pool's 40 threads may all be busy serving pages.
            return await anyio.to_thread.run_sync(work, limiter=threads)
        finally:
            waiting.release()
