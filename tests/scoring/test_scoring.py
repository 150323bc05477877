"""Risk matrix, stored scores, explanations, selection and overrides on a small register."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from iom.cohort_framework.eligibility import proposals
from iom.errors import UserError
from iom.register.models import Crime, Offence, Person
from iom.scoring import service
from iom.scoring.config import load_config, parse_config
from iom.scoring.data import CRIME_DTYPE, NEVER, Register, day_number, load_register
from iom.scoring.models import Score

AS_OF = dt.date(2019, 3, 31)  # as in conftest.py

CONFIG = load_config()


def _crimes(rows):
    """Hand-made crime records: (id, person, committed, gravity, harm, da, victim)."""
    out = np.zeros(len(rows), dtype=CRIME_DTYPE)
    for k, (cid, pid, day, gravity, harm, da, victim) in enumerate(rows):
        out[k] = (cid, pid, day_number(day), day_number(day), 1, gravity, harm, 1, da, victim, 0, NEVER, 0, 0)
    return out


def test_matrix_points_by_hand():
    import pandas as pd

    crimes = _crimes([
        (1, 10, dt.date(2019, 3, 1), 3, 365, 0, -1),   # within 6 months: 4 pts x 3
        (2, 10, dt.date(2018, 6, 1), 2, 28, 1, 77),    # 6-12 months: 2 pts x 2, DA victim 77
        (3, 10, dt.date(2017, 1, 1), 4, 730, 1, 78),   # 12-36 months: 8 pts x 1, DA victim 78
        (4, 10, dt.date(2015, 1, 1), 4, 730, 0, -1),   # outside the 36-month look-back
        (5, 10, dt.date(2019, 4, 2), 4, 730, 0, -1),   # after the as-of date
        (6, 11, dt.date(2018, 12, 1), 1, 5, 0, -1),
    ])
    reg = Register(crimes=crimes, people=pd.DataFrame(columns=["id", "pseudo_id", "dob", "sex", "ethnicity", "home_npu"]),
                   markers=pd.DataFrame(columns=["person_id", "marker", "started", "ended"]))
    scores = service.matrix_scores(reg, CONFIG, AS_OF)
    p = scores.loc[10]
    assert (p["crimes"], p["crime_points"], p["frequency_points"]) == (3, 12 + 4 + 8, 5)
    assert (p["victims"], p["victim_points"]) == (2, 10)
    assert p["rfg"] == 24 + 5 + 10
    assert p["harm_days"] == 365 + 28 + 730
    assert scores.loc[11, "rfg"] == 1 * 3  # 2018-12-01 is within six months of 2019-03-31


def test_crimes_recorded_after_the_as_of_date_are_unknown_then():
    crimes = _crimes([(1, 10, dt.date(2019, 3, 30), 4, 730, 0, -1)])
    crimes["recorded"] = day_number(dt.date(2019, 4, 5))
    import pandas as pd

    reg = Register(crimes=crimes, people=pd.DataFrame(), markers=pd.DataFrame())
    assert service.matrix_scores(reg, CONFIG, AS_OF).empty
    assert service.matrix_scores(reg, CONFIG, dt.date(2019, 4, 5)).loc[10, "rfg"] == 24


def test_config_is_validated_with_clear_errors():
    with pytest.raises(UserError, match="not valid TOML"):
        parse_config("version = ")
    with pytest.raises(UserError, match="gravity_points"):
        text = (load_config.__globals__["DATA_DIR"] / "scoring-v1.toml").read_text().replace("4 = 8", "")
        parse_config(text)
    with pytest.raises(UserError, match="no scoring config"):
        load_config("scoring-v99")
    shipped = (load_config.__globals__["DATA_DIR"] / "scoring-v1.toml").read_text()
    with pytest.raises(UserError, match="involvements"):
        parse_config(shipped.replace('involvements = ["suspect", "offender"]', 'involvements = ["victim"]'))


def test_score_all_is_idempotent_and_records_the_config_version(db_session, small_register):
    first = service.score_all(db_session, as_of=AS_OF, train=True)
    rows1 = db_session.execute(select(Score).where(Score.run_id == first.id).order_by(Score.person_id)).scalars().all()
    snapshot = [(s.person_id, s.rfg, s.harm_days, s.composite, s.risk) for s in rows1]
    second = service.score_all(db_session, as_of=AS_OF, train=True)
    rows2 = db_session.execute(select(Score).where(Score.run_id == second.id).order_by(Score.person_id)).scalars().all()
    assert second.id == first.id and second.config_version == "scoring-v1"
    assert [(s.person_id, s.rfg, s.harm_days, s.composite, s.risk) for s in rows2] == snapshot
    assert db_session.scalar(select(func.count()).select_from(Score).where(Score.run_id == first.id)) == len(snapshot)
    assert all(r.risk is None or 0 <= r.risk <= 1 for r in rows2)


def _check_sums(row_or_expl, parts, scores):
    for name, total in scores.items():
        assert sum(p.points for p in parts if p.score == name) == total, (row_or_expl, name)


def test_selection_respects_capacity_and_every_row_explains_itself(db_session, small_register):
    rows = service.select_for_npu(db_session, npu_code="BN", as_of=AS_OF)
    chosen = [r for r in rows if r.decision in ("adopt", "keep")]
    assert 0 < len(chosen) <= 30  # BN capacity: 3 officers x 10
    assert {r.decision for r in rows} <= {"adopt", "keep", "exit"}
    members = set(small_register["members"])
    for r in rows:
        assert (r.decision == "adopt") == (r.person_id not in members)
        harm = sum(p.points for p in r.explanation if p.score == "harm")
        assert harm == r.harm
        _check_sums(r.pseudo_id, r.explanation, {"rfg": r.rfg, "harm": r.harm, "vulnerability": r.vulnerability,
                                                  "composite": r.composite})
    ranks = [r.composite for r in chosen]
    assert ranks == sorted(ranks, reverse=True)
    again = service.select_for_npu(db_session, npu_code="BN", as_of=AS_OF)
    assert [r.model_dump() for r in again] == [r.model_dump() for r in rows]


def test_explain_adds_up_to_the_stored_score(db_session, small_register):
    run = service.score_all(db_session, as_of=AS_OF, train=True)
    top = db_session.scalars(select(Score).where(Score.run_id == run.id).order_by(Score.composite.desc()).limit(5)).all()
    for score in top:
        e = service.explain(db_session, person_id=score.person_id, as_of=AS_OF)
        assert (e.rfg, e.composite, e.vulnerability, e.harm_days) == (score.rfg, score.composite, score.vulnerability, score.harm_days)
        _check_sums(e.pseudo_id, e.parts, {"rfg": e.rfg, "harm": e.harm_days, "vulnerability": e.vulnerability,
                                            "composite": e.composite})
        crime_ids = {i for p in e.parts if p.score == "rfg" and p.factor == "crime" for i in p.crime_ids}
        owners = set(db_session.scalars(select(Crime.person_id).where(Crime.id.in_(crime_ids))))
        assert owners <= {score.person_id}


def test_a_run_stores_the_explanations_a_fresh_computation_gives(db_session, small_register):
    """What a member's record reads (the run's stored parts) is what computing them for one
    person gives; anyone else, and a run from before the column, is explained by computing."""
    from sqlalchemy import update

    from iom.scoring.config import load_config
    from iom.scoring.explain import explanation_parts, stored_explanations
    from iom.scoring.runs import stored_scores

    run = service.score_all(db_session, as_of=AS_OF, train=True)
    stored = stored_scores(db_session, run)
    stored_for = set(db_session.scalars(select(Score.person_id).where(Score.run_id == run.id,
                                                                      Score.explanation.is_not(None))))
    assert stored_for == set(stored.index[stored["member"]]) and stored_for
    assert len(stored) > len(stored_for)
    members = stored[stored["member"]].sort_values("composite", ascending=False).iloc[:6]
    sample = pd.concat([members, stored[~stored["member"]].iloc[:2]])
    kept = stored_explanations(db_session, run=run, config=load_config(), stored=sample)
    for pid in sample.index:
        fresh = explanation_parts(db_session, load_config(), AS_OF, sample.loc[[pid]])[pid]
        assert kept[pid] == fresh and fresh, pid
    db_session.execute(update(Score).where(Score.run_id == run.id).values(explanation=None))
    assert stored_explanations(db_session, run=run, config=load_config(), stored=sample) == kept


def test_unknown_npu_is_a_user_error(db_session, small_register):
    with pytest.raises(UserError, match="no NPU 'XX'"):
        service.select_for_npu(db_session, npu_code="XX", as_of=AS_OF)


def test_override_needs_a_reason(db_session, small_register):
    pid = small_register["ids"][0]
    for reason in ("", "   "):
        with pytest.raises(UserError, match="needs a reason"):
            service.create_override(db_session, person_id=pid, include=True, reason=reason,
                                    until=dt.date(2019, 12, 31), user="analyst")


def test_overrides_are_reapplied_until_they_expire(db_session, small_register):
    rows = service.select_for_npu(db_session, npu_code="BN", as_of=AS_OF)
    chosen = [r for r in rows if r.decision != "exit"]
    top = chosen[0]
    # someone in BN the ranking left out who is eligible for a classification, and one who is not
    listed = {r.person_id for r in rows}
    left_out = [pid for pid in small_register["ids"][1::2] if pid not in listed]
    judged = proposals(db_session, left_out, AS_OF)
    outsider = next(pid for pid in left_out if judged[pid] is not None)
    ineligible = next(pid for pid in left_out if judged[pid] is None)
    service.create_override(db_session, person_id=top.person_id, include=False, reason="moved out of area",
                            until=dt.date(2019, 6, 30), user="sgt.a")
    service.create_override(db_session, person_id=ineligible, include=True, reason="intelligence: county lines",
                            until=dt.date(2019, 6, 30), user="sgt.a")
    inc = service.create_override(db_session, person_id=outsider, include=True, reason="intelligence: county lines",
                                  until=dt.date(2019, 6, 30), user="sgt.a")
    for override in service.list_overrides(db_session, npu_code="BN"):  # in force once approved
        service.approve_override(db_session, override_id=override.id, approver="insp.b")
    assert inc.created_by == "sgt.a" and inc.created_at is not None and inc.valid_from == AS_OF
    later = dt.date(2019, 5, 31)
    for day in (AS_OF, later):
        rows = {r.person_id: r for r in service.select_for_npu(db_session, npu_code="BN", as_of=day)}
        assert rows[outsider].decision in ("adopt", "keep") and rows[outsider].override.id == inc.id
        assert rows[outsider].decision == "keep" or rows[outsider].classification == judged[outsider].classification
        # An override cannot adopt someone no classification's rule admits (nominate them instead).
        assert ineligible not in rows or rows[ineligible].decision == "exit"
        assert top.person_id not in rows or rows[top.person_id].decision == "exit"
        assert sum(r.decision != "exit" for r in rows.values()) <= 30
    after = {r.person_id: r for r in service.select_for_npu(db_session, npu_code="BN", as_of=dt.date(2019, 7, 31))}
    assert outsider not in after or after[outsider].override is None
    assert [o.id for o in service.list_overrides(db_session, npu_code="BN")][0] == inc.id
    assert service.list_overrides(db_session, npu_code="WS") == []


def test_an_include_override_on_an_unscored_person_joins_at_the_next_run(db_session, small_register):
    newcomer = max(small_register["ids"]) + 1
    db_session.add(Person(id=newcomer, pseudo_id="TNEW", source_id="SRC-NEW", given_name="New", family_name="Comer",
                          date_of_birth=dt.date(1995, 5, 5), sex="M", ethnicity="W1", home_npu="BN"))
    db_session.flush()
    service.score_all(db_session, as_of=AS_OF, train=True)
    assert not service.awaits_scoring(db_session, person_id=small_register["members"][0], as_of=AS_OF)
    made = service.create_override(db_session, person_id=newcomer, include=True, reason="intelligence: county lines",
                                   until=dt.date(2019, 6, 30), user="sgt.a")
    service.approve_override(db_session, override_id=made.id, approver="insp.b")
    assert service.awaits_scoring(db_session, person_id=newcomer, as_of=AS_OF)
    assert newcomer not in {r.person_id for r in service.select_for_npu(db_session, npu_code="BN", as_of=AS_OF)}
    # A burglary recorded since makes the newcomer eligible for a classification, and scored next time.
    burglary = db_session.scalar(select(Offence.code).where(Offence.cohort_classification == "BURGLARY").limit(1))
    db_session.add(Crime(source_id="SRC-NEW-1", person_id=newcomer, involvement="offender", committed_on=dt.date(2019, 2, 1),
                         recorded_on=dt.date(2019, 2, 2), offence_code=burglary, npu_code="BN", outcome="pending"))
    db_session.flush()
    service.score_all(db_session, as_of=AS_OF, train=True)
    assert not service.awaits_scoring(db_session, person_id=newcomer, as_of=AS_OF)
    rows = {r.person_id: r for r in service.select_for_npu(db_session, npu_code="BN", as_of=AS_OF)}
    assert rows[newcomer].decision == "adopt" and rows[newcomer].reason.startswith("included by override")
    assert rows[newcomer].classification == "BURGLARY" and "1 BURGLARY offence in 12 months" in rows[newcomer].eligibility


def test_override_approval_needs_a_second_person(db_session, small_register):
    o = service.create_override(db_session, person_id=small_register["ids"][0], include=True, reason="MARAC referral",
                                until=dt.date(2019, 12, 31), user="sgt.a")
    with pytest.raises(UserError, match="someone else"):
        service.approve_override(db_session, override_id=o.id, approver="sgt.a")
    assert service.approve_override(db_session, override_id=o.id, approver="insp.b").approved_by == "insp.b"
    with pytest.raises(UserError, match="on or after"):
        service.create_override(db_session, person_id=small_register["ids"][0], include=False, reason="ended already",
                                until=dt.date(2018, 1, 1), user="sgt.a")


def test_vulnerability_is_beside_risk_not_inside_it(db_session, small_register):
    reg = load_register(db_session, CONFIG)
    from iom.scoring import model as model_mod

    assert not any("marker" in f or "vulnerab" in f for f in model_mod.FEATURES)
    from iom.scoring.people import vulnerability

    v = vulnerability(reg, CONFIG, AS_OF, small_register["ids"])
    parts = v.drop(columns=["victimisation_count", "vulnerability"]).sum(axis=1)
    assert (parts == v["vulnerability"]).all() and (v["vulnerability"] <= CONFIG.vulnerability.max_points).all()
