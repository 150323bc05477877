"""One audited access per request: what every route that touches a person's record takes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from iom.casefile.access import Access
from iom.http.deps import DB, CurrentUser, as_of, purpose_of, via


def get_access(request: Request, db: DB, user: CurrentUser) -> Access:
    return Access(audit_engine=request.app.state.audit_engine, session=db, user=user, as_of=as_of(request),
                  purpose=purpose_of(request), via=via(request), views=request.app.state.views)


AccessDep = Annotated[Access, Depends(get_access)]
