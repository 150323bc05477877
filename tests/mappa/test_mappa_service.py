"""MAPPA's rules in the service: the history in order, what carries over, when a level began,
when a panel is due, which panels may be recorded, and the rule file a force may replace."""

from __future__ import annotations

import datetime as dt

import pytest

from iom.errors import Conflict, FieldError, UserError
from iom.mappa import service
from iom.mappa.panels import panel_rules
from iom.security.roles import Principal, cli_actor
from iom.synth import sample

D = dt.date
AS_OF = D(2019, 3, 31)


@pytest.fixture
def people(db_session) -> sample.Sample:
    return sample.build(db_session)


@pytest.fixture
def person(people) -> int:
    return people.birmingham


def record(session, person_id: int, on: dt.date, **fields):
    values = service.check_record(session, person_id=person_id, as_of=AS_OF, effective_from=on,
                                  **{"category": 2, "reason": "test", **fields})
    return service.add_record(session, person_id=person_id, values=values, by="tester")


def panel(session, person_id: int, on: dt.date, **fields):
    values = service.check_panel(session, person_id=person_id, as_of=AS_OF, held_on=on, **fields)
    return service.add_panel(session, person_id=person_id, values=values, by="tester")


def test_a_level_begins_where_its_run_of_rows_begins(db_session, person):
    record(db_session, person, D(2018, 1, 1), level=2, chairing_agency="Police")
    record(db_session, person, D(2018, 3, 1), level=2, visor_id="VIS-1000001")  # same level, new ViSOR
    record(db_session, person, D(2018, 6, 1), level=3)
    record(db_session, person, D(2018, 8, 1), level=3, partnering_officer="PC Other")
    assert service.level_since(service.history(db_session, person, AS_OF)) == D(2018, 6, 1)
    assert service.level_since(service.history(db_session, person, D(2018, 5, 1))) == D(2018, 1, 1)
    ended = service.check_end(db_session, person_id=person, as_of=AS_OF, ended_on=D(2018, 9, 1), reason="order ended")
    service.add_record(db_session, person_id=person, values=ended, by="tester")
    assert service.record_on(db_session, person, D(2018, 9, 1)) is None
    assert service.record_on(db_session, person, D(2018, 8, 31)).level == 3
    with pytest.raises(FieldError, match="needs a chairing agency"):  # nothing carries over an end
        record(db_session, person, D(2018, 10, 1), level=3)
    record(db_session, person, D(2018, 10, 1), level=3, chairing_agency="Police")
    assert service.level_since(service.history(db_session, person, AS_OF)) == D(2018, 10, 1)


def test_what_a_new_row_carries_over_and_what_it_refuses(db_session, people, person):
    first = record(db_session, person, D(2018, 1, 1), level=2, chairing_agency="national probation service",
                   visor_id="VIS-1000001")
    assert first.chairing_agency == "National Probation Service"  # the rules' spelling
    assert first.partnering_officer == "PC Sample"  # the offender manager, for a first record
    raised = record(db_session, person, D(2018, 2, 1), level=3)
    assert (raised.chairing_agency, raised.visor_id, raised.partnering_officer) == (
        "National Probation Service", "VIS-1000001", "PC Sample")
    refusals = {
        "nothing to record": dict(level=3),
        "kept in order": dict(level=2, on=D(2018, 1, 15)),
        "no panel to chair": dict(level=1, chairing_agency="Police"),
        "no chairing agency 'Probation'": dict(level=2, chairing_agency="Probation"),
        "ViSOR reference is 4 to 24": dict(level=2, visor_id="V!"),
        "in the future": dict(level=2, on=D(2019, 4, 1)),
        "say why": dict(level=2, reason="  "),
    }
    for words, fields in refusals.items():
        on = fields.pop("on", D(2018, 3, 1))
        with pytest.raises(FieldError, match=words):
            record(db_session, person, on, **fields)
    with pytest.raises(FieldError, match="a category 1 case is held on ViSOR"):  # none to carry over here
        record(db_session, people.victim, D(2018, 3, 1), level=1, category=1)


def test_a_write_based_on_an_older_record_is_a_conflict(db_session, person):
    first = record(db_session, person, D(2018, 1, 1), level=1, based_on=0)
    record(db_session, person, D(2018, 2, 1), level=2, chairing_agency="Police", based_on=first.id)
    with pytest.raises(Conflict, match="changed since you opened it") as caught:
        record(db_session, person, D(2018, 3, 1), level=3, based_on=first.id)
    assert caught.value.current["level"] == 2
    with pytest.raises(Conflict):
        record(db_session, person, D(2018, 3, 1), level=3, based_on=0)  # saw none, but there is one


def test_panels_take_the_level_in_force_that_day(db_session, person):
    record(db_session, person, D(2018, 1, 1), level=2, chairing_agency="Police")
    record(db_session, person, D(2018, 6, 1), level=3)
    assert panel(db_session, person, D(2018, 3, 1)).level == 2
    assert panel(db_session, person, D(2018, 7, 1), chair="DCI Example").level == 3
    with pytest.raises(FieldError, match="already recorded"):
        panel(db_session, person, D(2018, 7, 1))
    with pytest.raises(FieldError, match="no MAPPA record was in force on 2017-12-31"):
        panel(db_session, person, D(2017, 12, 31))
    with pytest.raises(FieldError, match="in the future"):
        panel(db_session, person, D(2019, 4, 1))
    held = service.part(db_session, person, AS_OF)
    assert [p.held_on for p in held.panels] == [D(2018, 7, 1), D(2018, 3, 1)]
    assert held.next_panel.last_panel == D(2018, 7, 1) and held.next_panel.due_on == D(2018, 8, 12)


@pytest.mark.parametrize("level, days_since, state", [
    (2, 70, "due soon"), (2, 71, "overdue"), (2, 56, "due soon"), (2, 55, "scheduled"),
    (3, 42, "due soon"), (3, 43, "overdue"), (3, 27, "scheduled"),
])
def test_when_a_panel_is_due(level, days_since, state):
    upcoming = service.next_panel(level=level, since=D(2018, 1, 1), last_panel=AS_OF - dt.timedelta(days=days_since),
                                  as_of=AS_OF, rules=panel_rules())
    assert upcoming.state == state
    assert upcoming.days_overdue == max(0, days_since - {2: 70, 3: 42}[level])


def test_a_case_never_paneled_is_due_the_day_its_level_began():
    rules = panel_rules()
    assert service.next_panel(level=2, since=AS_OF, last_panel=None, as_of=AS_OF, rules=rules).state == "due soon"
    late = service.next_panel(level=3, since=AS_OF - dt.timedelta(days=5), last_panel=None, as_of=AS_OF, rules=rules)
    assert (late.state, late.days_overdue) == ("overdue", 5)


def test_the_due_list_follows_scope(db_session, people, person):
    walsall_om = Principal("om", "offender_manager", lomu_code="LWS")
    before = service.due_list(db_session, cli_actor(), as_of=AS_OF)
    before_walsall = {r.person_id for r in service.due_list(db_session, walsall_om, as_of=AS_OF).rows}
    record(db_session, person, D(2019, 1, 1), level=2, chairing_agency="Police")
    record(db_session, people.walsall, D(2019, 1, 1), level=3, chairing_agency="Police")
    everyone = service.due_list(db_session, cli_actor(), as_of=AS_OF)
    assert {r.person_id for r in everyone.rows} - {r.person_id for r in before.rows} == {person, people.walsall}
    assert (everyone.overdue - before.overdue, everyone.by_level[2].overdue - before.by_level[2].overdue,
            everyone.by_level[3].overdue - before.by_level[3].overdue) == (2, 1, 1)
    walsall = {r.person_id for r in service.due_list(db_session, walsall_om, as_of=AS_OF).rows}
    assert walsall - before_walsall == {people.walsall}  # not Birmingham's case: out of the LWS scope
    with pytest.raises(UserError, match="no panels"):
        service.due_list(db_session, cli_actor(), as_of=AS_OF, level=1)


RULES = ('version = "force-panels"\nsource = "our MAPPA strategic management board, 2020"\ndue_soon_days = 7\n'
         'chairing_agencies = ["Police"]\n'
         '[[level]]\nlevel = 2\ninterval_days = 56\nsource = "board"\n'
         '[[level]]\nlevel = 3\ninterval_days = 28\nsource = "board"\n')


def test_a_force_replaces_the_rule_file_with_its_own(tmp_path, monkeypatch):
    shipped = panel_rules()
    assert (shipped.interval(2), shipped.interval(3), shipped.due_soon_days) == (70, 42, 14)
    (tmp_path / "panels-v1.toml").write_text(RULES, encoding="utf-8")
    monkeypatch.setenv("IOM_RULES_DIR", str(tmp_path))
    mine = panel_rules()
    assert (mine.version, mine.interval(2), mine.interval(3), mine.due_soon_days) == ("force-panels", 56, 28, 7)


def test_a_rule_file_without_both_levels_is_refused_in_words(tmp_path, monkeypatch):
    (tmp_path / "panels-v1.toml").write_text(RULES.replace("level = 3\n", "level = 2\n"), encoding="utf-8")
    monkeypatch.setenv("IOM_RULES_DIR", str(tmp_path))
    with pytest.raises(UserError, match=r"one \[\[level\]\] for each of levels 2, 3"):
        panel_rules()
