"""`iom mappa` as a user runs it (a subprocess: exit codes and messages as printed): the due list
on a small synthetic force matches an independent SQL query, and the writes refuse in words."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from iom.cli import app
from iom.db import session_scope
from iom.register.service import init_database
from iom.synth import sample
from iom.synth.service import generate_force

from tests.conftest import ScratchDatabase
from tests.mappa.conftest import run_iom

AS_OF = dt.date(2019, 3, 31)
runner = CliRunner()
#: The seed force's panel intervals (seed paper 000 §17), written here, not read from the rules.
INTERVAL = {2: 70, 3: 42}
DUE_SOON = 14

CASES = text("""
WITH newest AS (
  SELECT r.* FROM mappa_records r
  WHERE r.effective_from <= :d AND NOT EXISTS (
    SELECT 1 FROM mappa_records n WHERE n.person_id = r.person_id AND n.effective_from <= :d
      AND (n.effective_from > r.effective_from OR (n.effective_from = r.effective_from AND n.id > r.id)))
), cur AS (
  SELECT * FROM newest WHERE (ended_on IS NULL OR ended_on > :d) AND level IN (2, 3)
)
SELECT cur.person_id, cur.level,
       (SELECT MAX(p.held_on) FROM mappa_panels p WHERE p.person_id = cur.person_id AND p.held_on <= :d) AS held,
       (SELECT MIN(r.effective_from) FROM mappa_records r
         WHERE r.person_id = cur.person_id AND r.level = cur.level AND r.effective_from <= cur.effective_from
           AND NOT EXISTS (SELECT 1 FROM mappa_records b
                            WHERE b.person_id = r.person_id AND b.id <> cur.id
                              AND b.effective_from >= r.effective_from AND b.effective_from <= cur.effective_from
                              AND (b.level <> cur.level OR b.ended_on IS NOT NULL))) AS since,
       m.lomu_code, u.parent_code
FROM cur
JOIN people pe ON pe.id = cur.person_id
LEFT JOIN units u ON u.code = pe.home_npu AND u.kind = 'npu'
LEFT JOIN management_history m ON m.person_id = cur.person_id AND m.id = (
  SELECT m2.id FROM management_history m2 WHERE m2.person_id = cur.person_id AND m2.effective_from <= :d
  ORDER BY m2.effective_from DESC, m2.id DESC LIMIT 1)
""")


def _day(value) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(str(value)[:10])


def expected(engine, *, lomu: str | None = None, level: int | None = None) -> dict[str, set[int]]:
    """Overdue: level 2 last paneled more than 70 days ago, level 3 more than 42, or never
    paneled since a level that began before the day; due soon: due within 14 days."""
    found = {"overdue": set(), "due soon": set()}
    with session_scope(engine) as session:
        rows = session.execute(CASES, {"d": AS_OF}).all()
    for person_id, at_level, held, since, managed_by, home_lomu in rows:
        if (level and at_level != level) or (lomu and lomu not in (managed_by, home_lomu)):
            continue
        held, since = _day(held), _day(since)
        due_on = held + dt.timedelta(days=INTERVAL[at_level]) if held else since
        if (held and (AS_OF - held).days > INTERVAL[at_level]) or (not held and since < AS_OF):
            found["overdue"].add(person_id)
        elif AS_OF <= due_on <= AS_OF + dt.timedelta(days=DUE_SOON):
            found["due soon"].add(person_id)
    return found


@pytest.fixture(scope="module")
def small_force(tmp_path_factory):
    """A small synthetic force of its own (the commands below write audit rows)."""
    db = ScratchDatabase(tmp_path_factory.mktemp("mappa-force"))
    engine = db.engine()
    init_database(engine)
    generate_force(engine, seed=1, people=6_000)
    yield db.url, engine
    db.drop()


def iom_inline(url: str, *args: str):
    """The command in this process (quicker): for what succeeds; refusals run ``run_iom``."""
    done = runner.invoke(app, ["--db", url, *args], standalone_mode=False, catch_exceptions=True)
    assert done.exception is None, done.output
    return done.output


def _listed(out: str) -> dict[str, set[int]]:
    body = json.loads(out)
    return {state: {r["person_id"] for r in body["rows"] if r["state"] == state} for state in ("overdue", "due soon")}


def test_the_due_list_is_what_an_independent_query_finds(small_force):
    url, engine = small_force
    done = run_iom(url, "mappa", "due", "--as-of", AS_OF.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    want = expected(engine)
    assert want["overdue"] and want["due soon"]  # the synthetic force has both at this scale
    assert _listed(done.stdout) == want
    rows = json.loads(done.stdout)["rows"]
    assert [r["due_on"] for r in rows] == sorted(r["due_on"] for r in rows)  # most overdue first
    summary = run_iom(url, "mappa", "due", "--as-of", AS_OF.isoformat(), "--summary")
    assert summary.returncode == 0, summary.stderr
    line = summary.stdout.strip()
    assert "\n" not in line and line.startswith(f"MAPPA panels: {len(want['due soon'])} due, {len(want['overdue'])} overdue")
    assert "(level 2: " in line and "; level 3: " in line


@pytest.mark.parametrize("lomu, level", [("LBM", None), (None, 3), ("LWV", 2)])
def test_the_due_list_filters_by_lomu_and_level(small_force, lomu, level):
    url, engine = small_force
    args = [*(("--lomu", lomu.lower()) if lomu else ()), *(("--level", str(level)) if level else ())]
    out = iom_inline(url, "mappa", "due", "--as-of", AS_OF.isoformat(), "--json", *args)
    assert _listed(out) == expected(engine, lomu=lomu, level=level)


def test_bad_filters_are_refused_in_words(small_force):
    url, _ = small_force
    level = run_iom(url, "mappa", "due", "--level", "1")
    assert level.returncode == 2 and "level 1 cases have no panels" in level.stderr
    lomu = runner.invoke(app, ["--db", url, "mappa", "due", "--lomu", "XX"], standalone_mode=False)
    assert "no LOMU 'XX'" in str(lomu.exception) and "LBM" in str(lomu.exception)


@pytest.fixture
def sample_db(scratch_db, fresh_engine):
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
    return scratch_db.url, people


def test_record_panel_show_and_end_from_the_console(sample_db):
    """The sample's data run to 2019-01-10 (its latest risk decision): the commands' date."""
    url, people = sample_db
    who = "PSEUDO0001"
    iom_inline(url, "mappa", "record", who, "--category", "2", "--level", "1", "--reason", "violent, 12 months",
               "--from", "2018-10-01")
    refused = run_iom(url, "mappa", "panel", who, "--on", "2018-11-01")
    assert refused.returncode == 2
    assert "only for level 2 or level 3" in refused.stderr and "at level 1" in refused.stderr
    chairless = runner.invoke(app, ["--db", url, "mappa", "record", who, "--category", "2", "--level", "2",
                                    "--reason", "escalating"], standalone_mode=False)
    assert "needs a chairing agency" in str(chairless.exception)
    iom_inline(url, "mappa", "record", who, "--category", "2", "--level", "2", "--chair", "police",
               "--visor", "VIS-0000042", "--reason", "escalating", "--from", "2018-12-01")
    assert "level 2" in iom_inline(url, "mappa", "panel", who, "--on", "2018-12-10", "--outcome", "plan agreed")
    future = runner.invoke(app, ["--db", url, "mappa", "panel", who, "--on", "2019-02-01"], standalone_mode=False)
    assert "in the future" in str(future.exception)
    shown = json.loads(iom_inline(url, "mappa", "show", who, "--json"))
    assert shown["as_of"] == "2019-01-10"
    assert shown["current"]["level"] == 2 and shown["current"]["chairing_agency"] == "Police"
    assert shown["current"]["partnering_officer"] == "PC Sample"
    assert shown["next_panel"]["due_on"] == "2019-02-18" and shown["next_panel"]["state"] == "scheduled"
    assert [r["level"] for r in shown["history"]] == [2, 1]
    iom_inline(url, "mappa", "end", who, "--on", "2019-01-05", "--reason", "order ended")
    after = json.loads(iom_inline(url, "mappa", "show", who, "--json"))
    assert after["current"] is None and after["next_panel"] is None
    late = runner.invoke(app, ["--db", url, "mappa", "panel", who, "--on", "2019-01-08"], standalone_mode=False)
    assert "no MAPPA record was in force on 2019-01-08" in str(late.exception)
