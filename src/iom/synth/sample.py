"""A handful of fictional people in two LOMUs, for tests and for trying the app before a
synthetic force is generated. Names are obviously made up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from iom.cohorts import current_state
from iom.cohorts.models import CohortMembership, ManagementRecord, RiskLevelRecord
from iom.mappa.models import MappaPanel, MappaRecord
from iom.register.models import Crime, Person

AS_OF = dt.date(2019, 3, 31)


@dataclass
class Sample:
    birmingham: int  # managed by LBM, lives in BN
    walsall: int  # managed by LWS, lives in WS
    restricted: int  # MAPPA member managed by LBM
    victim: int  # not a cohort member, lives in BE
    moved: int  # lives in WS (LWS) but managed by LBM: in both scopes
    names: list[str]


def build(session: Session) -> Sample:
    def person(n: int, given: str, family: str, npu: str) -> Person:
        p = Person(pseudo_id=f"PSEUDO{n:04d}", source_id=f"sample-{n}", given_name=given, family_name=family,
                   date_of_birth=dt.date(1990, 1, n), sex="M", ethnicity="W_BRI", home_npu=npu)
        session.add(p)
        return p

    people = [
        person(1, "Zebedee", "Quartermaine", "BN"),
        person(2, "Ptolemy", "Wolstenholme", "WS"),
        person(3, "Barnabus", "Featherstonehaugh", "BS"),
        person(4, "Philippa", "Ormerod", "BE"),
        person(5, "Horatio", "Blenkinsopp", "WS"),
    ]
    session.flush()
    b, w, r, v, m = (p.id for p in people)
    start = dt.date(2018, 6, 1)
    for pid, code in ((b, "BURGLARY"), (w, "ROBBERY"), (r, "MAPPA"), (m, "PPO")):
        session.add(CohortMembership(person_id=pid, classification_code=code, adopted_on=start, adoption_reason="sample"))
    for pid, level in ((b, "High"), (w, "Medium"), (r, "High"), (m, "Low")):
        session.add(RiskLevelRecord(person_id=pid, level=level, effective_from=dt.date(2019, 1, 10), reason="sample review"))
    for pid, otype, lomu in ((b, "Core", "LBM"), (w, "Core", "LWS"), (r, "Sex Offender Management", "LBM"), (m, "Risk", "LBM")):
        session.add(ManagementRecord(person_id=pid, effective_from=start, offender_type=otype, lead_agency="Police", lomu_code=lomu, officer="PC Sample"))
    # The MAPPA member's record and last panel: level 2, reviewed in January.
    session.add(MappaRecord(person_id=r, category=1, level=2, effective_from=start, chairing_agency="Police",
                            visor_id="VIS-0000001", partnering_officer="PC Sample", reason="sample", recorded_by="sample"))
    session.add(MappaPanel(person_id=r, held_on=dt.date(2019, 1, 15), level=2, chair="Police", outcome="sample",
                           recorded_by="sample"))
    crimes = [
        (b, "001/00", dt.date(2018, 9, 1), None),
        (w, "001/00", dt.date(2018, 10, 1), None),
        (r, "019/07", dt.date(2017, 5, 1), v),
        (m, "001/DA", dt.date(2018, 11, 1), v),
    ]
    for i, (pid, code, on, victim) in enumerate(crimes):
        session.add(Crime(source_id=f"sample-crime-{i}", person_id=pid, involvement="offender", committed_on=on,
                          recorded_on=on, offence_code=code, npu_code="BN", victim_person_id=victim,
                          domestic_abuse=code.endswith("DA"), outcome="charge", outcome_on=on + dt.timedelta(days=30)))
    session.flush()
    current_state.refresh(session, person_ids=[b, w, r, v, m])
    names = [name for p in people for name in (p.given_name, p.family_name)]
    return Sample(birmingham=b, walsall=w, restricted=r, victim=v, moved=m, names=names)
