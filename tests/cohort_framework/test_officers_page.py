"""The supervisor's officers page and the framework's API: loads in points against capacity,
the reset review and de-selection, scoped to the supervisor's LOMU, refused to others, audited."""

from __future__ import annotations

from sqlalchemy import select

from iom.cohort_framework.rules import workload_rules
from iom.db import session_scope
from iom.security.models import AuditEvent


def test_a_supervisor_sees_their_lomus_officers_and_reviews_and_an_offender_manager_is_refused(web_db, login):
    engine, _ = web_db
    sup = login("sup_lbm")
    page = sup.get("/cohorts/officers")
    assert page.status_code == 200
    assert "Officers and cohort review: LBM" in page.text and "PC Sample" in page.text
    loads = sup.get("/api/v1/cohorts/officers", params={"lomu": "LWS"}).json()
    assert loads["lomu"] == "LBM"  # a supervisor sees their own LOMU whatever they ask
    work = workload_rules()
    # The sample's LBM members managed by PC Sample: Core at High, SOM at High, Risk at Low.
    expected = work.points["Core"]["High"] + work.points["Sex Offender Management"]["High"] + work.points["Risk"]["Low"]
    assert [(o["officer"], o["cases"], o["points"]) for o in loads["officers"]] == [("PC Sample", 3, expected)]
    review = sup.get("/api/v1/cohorts/reset-review").json()
    assert review["lomu"] is None and review["members_checked"] >= 1
    assert all(m["why"] for m in review["lapsed"])
    assert login("om_lbm").get("/cohorts/officers").status_code == 403
    assert login("om_lbm").get("/api/v1/cohorts/reset-review").status_code == 403
    with session_scope(engine) as s:
        searched = {e.resource for e in s.scalars(select(AuditEvent).where(AuditEvent.username == "sup_lbm"))}
    assert {"officer_workload", "reset_review", "exit_proposals"} <= searched
