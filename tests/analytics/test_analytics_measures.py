import datetime as dt

import pytest

from iom.analytics.service import all_measures, before_during_after, cost_avoided_per_day, reoffending_measures
from iom.analytics.source import connect
from iom.errors import UserError


@pytest.fixture
def con(small_engine):
    return connect(engine=small_engine)


def test_default_start_leaves_follow_up_and_wait(con):
    m = reoffending_measures(con, by="npu")
    assert m["index_date"].iloc[0] == dt.date(2017, 9, 30)  # 2019-03-31 less 18 months


def test_by_npu_both_definitions(con):
    m = reoffending_measures(con, by="npu").set_index("group")
    assert m["offenders"].to_dict() == {"CV": 1, "WS": 2}  # person 5 adopted after the start
    ws, cv = m.loc["WS"], m.loc["CV"]
    assert (ws.recorded_reoffenders, ws.recorded_offences) == (2, 3)
    assert ws.recorded_cost_pence == 593_000 + 135_000 + 135_000
    assert (ws.proven_reoffenders, ws.proven_offences, ws.proven_cost_pence) == (2, 2, 593_000 + 135_000)
    assert ws.recorded_per_reoffender == 1.5 and ws.recorded_per_offender == 1.5
    assert (cv.recorded_reoffenders, cv.proven_reoffenders) == (1, 0)  # outcome after the 6-month wait
    assert ws.recorded_lower < ws.recorded_rate <= ws.recorded_upper


def test_groupings(con):
    every = all_measures(con)
    assert every["classification"].set_index("group")["offenders"].to_dict() == {"BURGLARY": 2, "MSV": 1, "PPO": 1}
    assert every["lomu"].set_index("group")["offenders"].to_dict() == {"LCV": 1, "LWS": 2}
    assert every["offender_type"].set_index("group")["offenders"].to_dict() == {"Core": 2, "Risk": 1}
    assert every["force"]["offenders"].tolist() == [3]
    with pytest.raises(UserError):
        reoffending_measures(con, by="postcode")


def test_before_during_after(con):
    bda = before_during_after(con).set_index("npu")
    ws = bda.loc["WS"]
    assert ws.offenders == 2 and ws.current_members == 1
    assert (ws.before_offences, ws.during_offences, ws.after_offences) == (2, 2, 1)
    # Person 1: 2017-01-01 to 2019-03-31; person 2: 2017-06-01 to 2018-06-01.
    during_days = (dt.date(2019, 3, 31) - dt.date(2017, 1, 1)).days + (dt.date(2018, 6, 1) - dt.date(2017, 6, 1)).days
    assert ws.during_offender_months == round(during_days / (365.25 / 12), 1)
    assert ws.after_offender_months == round(92 / (365.25 / 12), 1)  # three months after exit
    before_rate = ws.before_cost_pence / ws.before_offender_months
    assert before_rate == pytest.approx(2 * 135_000 / (((181 + 182)) / (365.25 / 12)), rel=1e-2)
    total = bda.loc["all"]
    assert total.offenders == 4 and total.current_members == 3
    assert cost_avoided_per_day(bda.reset_index()) == total.cost_avoided_pence_per_day


def test_parquet_export_gives_the_same_measures(small_engine, tmp_path):
    from iom.register.export import export_database

    export_database(small_engine, tmp_path / "export")
    from_db = reoffending_measures(connect(engine=small_engine), by="npu")
    from_parquet = reoffending_measures(connect(parquet_dir=tmp_path / "export"), by="npu")
    assert from_db.equals(from_parquet)


def test_cohort_scope_reads_less_and_gives_the_same_measures(small_engine):
    full, cohort = connect(engine=small_engine), connect(engine=small_engine, scope="cohort")
    assert cohort.execute("SELECT count(*) FROM crimes").fetchone()[0] < full.execute("SELECT count(*) FROM crimes").fetchone()[0]
    for by in ("npu", "classification"):
        assert reoffending_measures(full, by=by).equals(reoffending_measures(cohort, by=by))
    assert before_during_after(full).equals(before_during_after(cohort))


def test_crimes_since_keeps_cohort_crimes_and_recent_others(small_engine):
    con = connect(engine=small_engine, crimes_since=dt.date(2019, 1, 1))
    people = sorted(r[0] for r in con.execute("SELECT DISTINCT person_id FROM crimes").fetchall())
    assert people == [1, 2, 3, 4]  # 1-3 are in the cohort; 4 offended in 2019
    assert con.execute("SELECT count(*) FROM crimes").fetchone()[0] == 7
    old = connect(engine=small_engine, crimes_since=dt.date(2019, 3, 31))
    assert 4 not in {r[0] for r in old.execute("SELECT person_id FROM crimes").fetchall()}


def test_empty_register_is_a_user_error(fresh_engine):
    with pytest.raises(UserError, match="no crimes"):
        reoffending_measures(connect(engine=fresh_engine))
