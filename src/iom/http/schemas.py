"""Edge types shared by every domain's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than fail in the database.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Free text from a client: any characters but NUL."""

#: Ids as the database holds them (32-bit), refused at the edge otherwise.
MAX_ID = 2**31 - 1
PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="Internal person id")]
PageNo = Annotated[int, Query(ge=1, le=100_000)]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


PROBLEMS = {
    status: {"model": Problem, "description": title}
    for status, title in ((400, "Bad request"), (401, "Not signed in"), (403, "Forbidden"), (404, "Not found"), (422, "Invalid input"))
}
