"""Errors a user can act on: the CLI prints them plainly and exits non-zero."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or environment, explained in words; never shown as a traceback."""


class FieldError(UserError):
    """Bad input in one named field: a form re-shows itself with the message by that field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(UserError):
    """The record changed under the request (someone else decided first): try again.
    ``current``: the record as it now stands, for the API's problem (so nothing is lost)."""

    def __init__(self, message: str, *, current: dict | None = None) -> None:
        super().__init__(message)
        self.current = current


class NotFound(UserError):
    """The record does not exist, or is outside the caller's scope (indistinguishable)."""


class Unavailable(UserError):
    """The server is saturated (every password check slot or connection busy): try again in
    ``retry_after`` seconds. The web answers 503 with ``Retry-After``, never a 500."""

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after
