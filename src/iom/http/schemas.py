"""Edge types shared by every domain's endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel

from iom.edge import clean_text


def _edge_text(value: str) -> str:
    # The importer's rule (``iom.edge.clean_text``): no NUL (PostgreSQL text cannot hold it) or
    # other control characters; tabs and line breaks are kept, and so is surrounding space.
    return clean_text(value, strip=False)


Text = Annotated[str, AfterValidator(_edge_text)]
"""Free text from a client: no control characters but tab and line breaks."""

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
    for status, title in ((400, "Bad request"), (401, "Not signed in"), (403, "Forbidden"), (404, "Not found"), (409, "Changed by someone else"),
                          (422, "Invalid input"))
}
