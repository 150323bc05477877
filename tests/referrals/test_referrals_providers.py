"""The provider directory as data: the file is validated strictly, and each kind of rule
refuses the people it should, with its own words, against the database's facts."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from iom.errors import FieldError, UserError
from iom.referrals import service
from iom.referrals.providers import Directory, Ineligible, PersonFacts, directory, facts_on
from iom.rules import load_rules

from tests.referrals.conftest import AS_OF

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "iom" / "referrals" / "data" / "providers-v1.toml"


def _refusal(engine, person_id: int, provider: str, on: dt.date = AS_OF) -> list[str]:
    """The words of every rule ``person_id`` breaks for ``provider`` on ``on`` ([]: eligible)."""
    with Session(engine) as session:
        try:
            service.check_eligible(session, person_id=person_id, provider=directory().get(provider), on=on)
        except Ineligible as exc:
            return exc.reasons
    return []


def test_the_shipped_directory_names_its_version_source_and_the_providers_of_the_brief():
    d = directory()
    assert d.version == "providers-v1" and "000 §36" in d.source and "§67" in d.source and "§73" in d.source
    codes = {p.code for p in d.provider}
    assert {"liaison-and-diversion", "thrive-into-work", "better-pathways", "no-wrong-door", "anawim", "new-chance",
            "youth-offending-service", "drug-intervention-programme", "citizens-advice", "mind",
            "accommodation-support"} <= codes
    assert all(p.source and p.pathways for p in d.provider)
    thrive = d.get("thrive-into-work")
    assert {r.kind for r in thrive.rules} == {"min_age", "home_npus"}
    assert next(r for r in thrive.rules if r.kind == "home_npus").home_npus == ["BW", "DY", "SW"]


def _with(tmp_path, monkeypatch, text: str) -> Directory:
    (tmp_path / "providers-v1.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("IOM_RULES_DIR", str(tmp_path))
    return load_rules(Directory, "referrals", "providers-v1.toml")


HEAD = 'version = "t"\nsource = "test"\n[[provider]]\ncode = "p"\nname = "P test"\npathways = ["ete"]\nareas = "x"\nsource = "s"\n'


@pytest.mark.parametrize("rule, complaint", [
    ('[[provider.rules]]\nmin_age = 18\nwords = "adults only"\ncolour = "red"\n', "colour"),
    ('[[provider.rules]]\nmin_age = 18\nsexes = ["F"]\nwords = "two at once"\n', "exactly one condition"),
    ('[[provider.rules]]\nwords = "no condition at all"\n', "exactly one condition"),
    ('[[provider.rules]]\nrequires_markers = ["SMI"]\nwords = "a marker nobody has"\n', "unknown marker"),
    ('[[provider.rules]]\nhome_npus = ["XX"]\nwords = "a place that is not"\n', "unknown NPU"),
    ('[[provider.rules]]\nmin_needs = { pathways = ["drugs"], level = "standard", count = 2 }\nwords = "two of one"\n',
     "count 2"),
    ('[[provider.rules]]\nmin_needs = { pathways = ["gardening", "drugs"], count = 1 }\nwords = "no such pathway"\n',
     "unknown pathway"),
    ('[[provider.rules]]\nsexes = ["W"]\nwords = "not a recorded sex"\n', "sexes"),
])
def test_a_misspelt_or_impossible_rule_is_refused_with_the_reason(tmp_path, monkeypatch, rule, complaint):
    with pytest.raises(UserError, match=complaint):
        _with(tmp_path, monkeypatch, HEAD + rule)


def test_a_provider_code_is_kebab_case_and_unique(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="code"):
        _with(tmp_path, monkeypatch, HEAD.replace('code = "p"', 'code = "Thrive_Into_Work"'))
    with pytest.raises(UserError, match="unique"):
        _with(tmp_path, monkeypatch, HEAD + HEAD.split("\n", 2)[2])


def test_a_force_copy_replaces_the_shipped_file(tmp_path, monkeypatch):
    own = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    d = _with(tmp_path, monkeypatch, HEAD + '[[provider.rules]]\nmax_age_under = 25\nwords = "P takes under-25s"\n')
    assert [p.code for p in d.provider] == ["p"] and len(own["provider"]) > 1
    assert d.get("p").broken(PersonFacts(age=30, sex="M", home_npu="WS")) == ["P takes under-25s"]


def test_an_unknown_provider_is_a_field_error_listing_the_known_ones():
    with pytest.raises(FieldError, match="no provider 'thrive' .*thrive-into-work") as exc:
        directory().get("thrive")
    assert exc.value.field == "provider"


# --- each rule kind, on people in the database ----------------------------------------------

def test_min_age_refuses_a_17_year_old_and_takes_one_18_today(web_db, cast):
    engine, _ = web_db
    assert _refusal(engine, cast.youth, "thrive-into-work") == ["Thrive into Work takes adults aged 18 or over"]
    assert _refusal(engine, cast.turns_18, "thrive-into-work") == []
    # age is taken on the day: the day before their birthday they were 17
    assert _refusal(engine, cast.turns_18, "thrive-into-work", AS_OF - dt.timedelta(days=1)) == [
        "Thrive into Work takes adults aged 18 or over"]


def test_max_age_under_sends_adults_away_from_the_youth_offending_service(web_db, cast):
    engine, _ = web_db
    assert _refusal(engine, cast.youth, "youth-offending-service") == []
    assert _refusal(engine, cast.turns_18, "youth-offending-service") == [
        "The Youth Offending Service takes young people under 18"]


def test_home_npus_refuses_a_walsall_resident(web_db, cast):
    engine, _ = web_db
    assert _refusal(engine, cast.walsall, "thrive-into-work") == [
        "Thrive into Work takes people living in the Birmingham West, Dudley or Sandwell NPUs"]
    assert _refusal(engine, cast.bw_adult, "thrive-into-work") == []
    # both rules broken: both sets of words, in the file's order
    assert len(_refusal(engine, cast.youth, "new-chance")) == 2


def test_sexes_keeps_the_womens_services_for_women(web_db, cast):
    engine, _ = web_db
    assert _refusal(engine, cast.bw_adult, "anawim") == ["Anawim takes women"]
    assert _refusal(engine, cast.woman, "anawim") == []
    assert _refusal(engine, cast.walsall, "new-chance") == ["New Chance takes women"]


def test_requires_markers_needs_a_current_smi_register_marker(web_db, cast):
    engine, _ = web_db
    words = ("Better Pathways takes people under a community mental health team or on their GP's Serious Mental "
             "Illness register")
    assert _refusal(engine, cast.smi, "better-pathways") == []
    assert _refusal(engine, cast.mental_health, "better-pathways") == [words]
    assert _refusal(engine, cast.smi_ended, "better-pathways") == [words]
    # the marker ended on 2019-01-01: the day before, it was current
    assert _refusal(engine, cast.smi_ended, "better-pathways", dt.date(2018, 12, 31)) == []


def test_min_needs_counts_standard_or_severe_in_the_latest_assessment(web_db, cast):
    engine, _ = web_db
    words = ("No Wrong Door takes people with multiple needs: at least two of accommodation, health, drugs and "
             "alcohol rated standard or severe in their latest needs assessment")
    assert _refusal(engine, cast.multiple_needs, "no-wrong-door") == []
    assert _refusal(engine, cast.one_need, "no-wrong-door") == [words]
    assert _refusal(engine, cast.old_needs, "no-wrong-door") == [words]  # the newer assessment rates none
    assert _refusal(engine, cast.old_needs, "no-wrong-door", dt.date(2018, 6, 1)) == []  # then the old one was latest
    assert _refusal(engine, cast.smi, "no-wrong-door") == [words]  # never assessed
    # before the assessment it did not count
    assert _refusal(engine, cast.multiple_needs, "no-wrong-door", dt.date(2019, 1, 31)) == [words]


def test_facts_on_reads_markers_and_assessments_by_date():
    born = dt.date(2000, 2, 29)
    markers = [("MENTAL_HEALTH", dt.date(2018, 1, 1), dt.date(2018, 6, 1)), ("CLASS_A", dt.date(2018, 3, 1), None)]
    assessments = [(dt.date(2018, 2, 1), 7, {"drugs": "severe"}), (dt.date(2018, 2, 1), 9, {"drugs": "none"}),
                   (dt.date(2019, 1, 1), 3, {"ete": "standard"})]
    spring = facts_on(born=born, sex="F", home_npu="WS", markers=markers, assessments=assessments, on=dt.date(2018, 3, 1))
    assert spring.age == 18 and spring.markers == {"MENTAL_HEALTH", "CLASS_A"} and spring.needs == {"drugs": "none"}
    summer = facts_on(born=born, sex="F", home_npu="WS", markers=markers, assessments=assessments, on=dt.date(2018, 6, 1))
    assert summer.markers == {"CLASS_A"}
    assert facts_on(born=born, sex="F", home_npu=None, markers=[], assessments=assessments,
                    on=dt.date(2018, 1, 31)).needs is None
    assert facts_on(born=born, sex="F", home_npu=None, markers=[], assessments=[], on=dt.date(2018, 2, 27)).age == 17
