"""`iom oocd` and `iom scrutiny` as a user runs them: a refusal in one line with exit 2; the
deadline passing on the calendar (time-machine) breaches a disposal, which goes to prosecution
under the 2017 tiers and to a penalty as a 2022 community caution; Table A and the scrutiny
panel's samples and report on a synthetic force."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from iom.cli import app
from iom.db import session_scope
from iom.diversion import scrutiny
from iom.diversion.models import Disposal, ScrutinySample
from iom.register.models import Crime
from iom.security import audit
from iom.synth import params, sample
from iom.synth.service import ForceSpec

from tests.mappa.conftest import run_iom

runner = CliRunner()


def inline(url: str, *args: str) -> str:
    done = runner.invoke(app, ["--db", url, *args], standalone_mode=False, catch_exceptions=True)
    assert done.exception is None, f"{done.output}\n{done.exception!r}"
    return done.output


def disposal_id(out: str) -> int:
    return int(re.search(r"disposal #(\d+)", out).group(1))


@pytest.fixture
def sample_db(scratch_db, fresh_engine):
    """The web sample, with two crimes for the Birmingham person dated before its data date."""
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
        crimes = []
        for n, code in enumerate(("008/20", "008/90")):
            crime = Crime(source_id=f"oocd-cli-{n}", person_id=people.birmingham, involvement="offender",
                          committed_on=dt.date(2018, 12, 1), recorded_on=dt.date(2018, 12, 1), offence_code=code,
                          npu_code="BN", outcome="pending")
            session.add(crime)
            session.flush()
            crimes.append(crime.id)
    return scratch_db.url, fresh_engine, "PSEUDO0001", crimes


def test_no_admission_is_refused_in_one_line(sample_db):
    url, _, person, (crime, _) = sample_db
    done = run_iom(url, "oocd", "decide", person, "--crime", str(crime), "--tier", "conditional_caution",
                   "--not-admitted", "--consents", "--intervention", "--rationale", "first offence")
    assert done.returncode == 2 and done.stdout == ""
    assert "no admission" in done.stderr and done.stderr.count("\n") <= 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize("policy, tier, crime_index, follow, status, other", [
    ("npcc-2017", "conditional_caution", 0, "prosecute", "prosecuted", "fine"),
    ("pcsc-2022", "community_caution", 1, "fine", "penalty", "prosecute"),
])
def test_a_deadline_passing_breaches_and_the_policy_decides_what_follows(sample_db, policy, tier, crime_index, follow,
                                                                         status, other):
    url, engine, person, crimes = sample_db
    with time_machine.travel(dt.datetime(2019, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        out = inline(url, "oocd", "decide", person, "--crime", str(crimes[crime_index]), "--tier", tier,
                     "--policy", policy, "--admitted", "--consents", "--intervention", "--rationale",
                     "admitted; victim content", "--user", "pc-cli")
        made = disposal_id(out)
        inline(url, "oocd", "condition", str(made), "--kind", "rehabilitative", "--text", "attend the course",
               "--due", "2019-02-01", "--user", "pc-cli")
        inline(url, "oocd", "authorise", str(made), "--rank", "sergeant", "--user", "sgt-cli")
        inline(url, "oocd", "issue", str(made), "--user", "pc-cli")
        assert "0 disposals breached" in inline(url, "oocd", "sweep")
    with time_machine.travel(dt.datetime(2019, 2, 1, 23, tzinfo=dt.UTC), tick=False):
        assert "0 disposals breached on 2019-02-01" in inline(url, "oocd", "sweep")  # due today: not yet late
    with time_machine.travel(dt.datetime(2019, 2, 10, 9, tzinfo=dt.UTC), tick=False):
        out = inline(url, "oocd", "sweep", "--user", "scheduler")
        assert "1 disposal breached on 2019-02-10" in out and f"#{made}" in out
        refused = runner.invoke(app, ["--db", url, "oocd", other, str(made)], standalone_mode=False)
        assert "leads to" in str(refused.exception)
        inline(url, "oocd", follow, str(made), "--user", "pc-cli")
    shown = json.loads(inline(url, "oocd", "show", str(made), "--json"))
    assert shown["status"] == status
    assert [e["to_status"] for e in shown["events"]] == ["proposed", "authorised", "issued", "breached", status]
    assert shown["conditions"][0]["status"] == "failed"
    with session_scope(engine) as session:
        writes = [(e.username, e.action, e.resource) for e in audit.search(session, action="write")]
    assert ("scheduler", "write", "oocd") in writes and ("sgt-cli", "write", "oocd") in writes


# --- on a synthetic force ----------------------------------------------------------------------------

TABLE_A = text("""
SELECT c.outcome, c.outcome_on, c.committed_on, p.date_of_birth
FROM crimes c JOIN people p ON p.id = c.person_id
WHERE c.outcome IN ('caution', 'conditional_caution', 'community_resolution')
  AND c.outcome_on >= :start AND c.outcome_on <= :end
""")


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def test_table_a_from_the_records_matches_the_crimes_outcomes(force_engine, force_db):
    done = run_iom(force_db.url, "oocd", "volumes", "--fy", "2017", "--fy", "2018", "--json", "--user", "oocd-cli")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    scale = ForceSpec(seed=1, people=20_000, as_of=params.REFERENCE_DATE).oocd_scale
    with Session(force_engine) as session:
        for row in body["rows"]:
            want = dict.fromkeys(row["counts"], 0)
            for outcome, _, committed, born in session.execute(
                    TABLE_A, {"start": dt.date(row["fy"], 4, 1), "end": dt.date(row["fy"] + 1, 3, 31)}):
                committed, born = _day(committed), _day(born)
                young = (committed.year - born.year - ((committed.month, committed.day) < (born.month, born.day))) < 18
                kind = "cr" if outcome == "community_resolution" else "caution"
                want[f"{'youth' if young else 'adult'}_{kind}"] += 1
            assert row["counts"] == want
            published = params.PUBLISHED_OOCD[row["fy"]]
            assert row["counts"] == {k: round(v * scale) for k, v in published.items()}  # the generator's calibration
    words = " ".join(body["statements"])
    assert "the published total fell 17.7% (7,764 to 6,387" in words
    assert "the parts sum to 8,260, the published total is 7,764" in words
    assert "Not over 20% in every category" in words and "adult community resolutions fell" in words


def test_a_dip_sample_is_the_same_for_the_same_seed(force_engine, force_db):
    args = ("scrutiny", "sample", "--category", "hate", "--month", "2018-05", "--n", "30", "--seed", "7", "--json",
            "--user", "panel-cli")
    first, second = (json.loads(inline(force_db.url, *args)) for _ in range(2))
    other = json.loads(inline(force_db.url, *args[:-3], "--seed", "8", "--json"))
    ids = [i["disposal_id"] for i in first["items"]]
    assert ids == [i["disposal_id"] for i in second["items"]] and ids
    assert ids != [i["disposal_id"] for i in other["items"]] or first["population"] <= len(ids)
    assert sum(first["by_month"].values()) == len(ids) == min(30, first["population"])
    assert (first["window_start"], first["window_end"]) == ("2017-11-01", "2018-04-30")
    with Session(force_engine) as session:
        chosen = session.scalars(select(Disposal).where(Disposal.id.in_(ids))).all()
    assert all(dt.date(2017, 11, 1) <= d.issued_on <= dt.date(2018, 4, 30) for d in chosen)


def test_the_synthetic_panels_report_the_published_shares(force_engine, force_db, tmp_path):
    out = tmp_path / "scrutiny.csv"
    done = run_iom(force_db.url, "scrutiny", "report", "--json", "--csv", str(out), "--user", "panel-cli")
    assert done.returncode == 0, done.stderr
    rows = {r["category"]: r for r in json.loads(done.stdout)["rows"]}
    published = {c: share for c, _, _, share, _, _ in params.DIVERSION_RATES.panels}
    with Session(force_engine) as session:
        saved = {s.category: s for s in session.scalars(select(ScrutinySample))}
    assert set(rows) == set(saved) and rows
    for category, row in rows.items():
        with Session(force_engine) as session:
            assert row["reviewed"] == len(scrutiny.sample_out(session, saved[category]).items) > 0
        assert row["appropriate"] == round(published[category] * row["reviewed"])
        assert row["low"] <= row["share"] <= row["high"]
    assert len(out.read_text().splitlines()) == len(rows) + 1


@pytest.mark.parametrize("share, limit, size", [(0.86, 29, 29), (0.89, 33, 28), (0.72, 27, 25), (0.85, 40, 40)])
def test_a_panel_is_sized_so_its_published_share_can_be_had_exactly(share, limit, size):
    from iom.diversion.synth import panel_size

    assert panel_size(share, limit) == size
    assert round(100 * round(share * size) / size) == round(100 * share)
