"""The national synthetic data set: the layout the analytics read, 43 forces, national ids,
the export's columns, the register's offences, the generator's rates, and the same bytes
for the same seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from iom.cli import build
from iom.errors import UserError
from iom.models import metadata
from iom.reference import read_reference
from iom.register.export import arrow_schema
from iom.synth import national, params
from iom.synth.national import CHUNK_PEOPLE, MIN_FORCE_PEOPLE, NATIONAL_OFFENDERS, plan, write_national

#: About 26,000 offenders: every force present, the larger ones in proportion (seconds to make).
TINY = 0.002
GENERAL_CODES = {code for _, (_, codes) in params.FAMILIES.items() for code in codes}
#: Every force at the floor of MIN_FORCE_PEOPLE offenders: for the tests of the command's edges.
FLOOR = 1e-5
COHORT_SHARE = params.PUBLISHED_MEMBERS / params.DEFAULT_PEOPLE


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national") / "seed1"
    summary = write_national(out, scale=TINY, seed=1)
    assert summary.out == out.resolve()
    return out


def table(root: Path, name: str):
    return ds.dataset(root / name, format="parquet", partitioning="hive").to_table()


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_plan_at_full_scale_shares_13_million_offenders_over_43_forces():
    plans = plan(scale=1.0)
    assert len(plans) == 43 and len({p.code for p in plans}) == 43
    assert sum(p.offenders for p in plans) == NATIONAL_OFFENDERS
    assert all(sum(p.chunks) == p.offenders and max(p.chunks) <= CHUNK_PEOPLE for p in plans)
    largest = max(plans, key=lambda p: p.share)
    assert largest.offenders == pytest.approx(largest.share * NATIONAL_OFFENDERS, abs=1)
    codes = [u["code"] for p in plans for u in p.units]
    assert len(codes) == len(set(codes)) and all(len(c) <= 8 for c in codes)


def test_layout_is_partitioned_by_force_and_year(tiny):
    codes = {p.code for p in plan(scale=TINY)}
    for name in national.PARTITIONED:
        forces = {d.name.removeprefix("force=") for d in (tiny / name).iterdir()}
        assert forces == codes, name
    for name in ("people", "cohort_memberships", "management_history"):
        assert all((tiny / name / f"force={c}" / "part-0.parquet").is_file() for c in codes)
    years = {d.name for d in (tiny / "crimes" / "force=MPS").iterdir()}
    first = params.REFERENCE_DATE.year - params.HISTORY_YEARS
    assert years == {f"year={y}" for y in range(first, params.REFERENCE_DATE.year + 1)}
    assert all((tiny / "crimes" / "force=MPS" / y / "part-0.parquet").is_file() for y in years)
    for name in national.FLAT:
        assert (tiny / f"{name}.parquet").is_file()
    manifest = json.loads((tiny / national.MANIFEST).read_text())
    assert manifest["format"] == national.FORMAT and manifest["seed"] == 1 and manifest["scale"] == TINY
    assert sorted(manifest["files"]) == sorted(p.relative_to(tiny).as_posix() for p in tiny.rglob("*.parquet"))


def test_partition_values_agree_with_the_rows(tiny):
    crimes = table(tiny, "crimes")
    assert pc.all(pc.equal(crimes["force"], crimes["force_code"])).as_py()
    assert pc.all(pc.equal(pc.year(crimes["committed_on"]), crimes["year"].cast("int64"))).as_py()
    start = params.REFERENCE_DATE.replace(year=params.REFERENCE_DATE.year - params.HISTORY_YEARS)
    assert pc.min(crimes["committed_on"]).as_py() > start
    assert pc.max(crimes["committed_on"]).as_py() <= params.REFERENCE_DATE


def test_columns_and_types_are_the_exports_plus_force_code(tiny):
    for name in ("people", "crimes", "cohort_memberships", "management_history", "units",
                 "offences", "cost_of_crime"):
        path = next((tiny / name).rglob("*.parquet")) if (tiny / name).is_dir() else tiny / f"{name}.parquet"
        written = pq.read_schema(path)
        expected = arrow_schema(metadata.tables[name])
        if name in national.PARTITIONED or name == "units":
            assert written.names[-1] == "force_code"
            written = written.remove(written.get_field_index("force_code"))
        assert written.equals(expected), name


def test_ids_are_unique_across_forces_and_references_hold(tiny):
    people = table(tiny, "people")
    ids = people["id"].to_numpy()
    assert people["id"].type == "int64" and np.unique(ids).size == ids.size
    for column in ("pseudo_id", "source_id"):
        assert len(pc.unique(people[column])) == people.num_rows
    crimes = table(tiny, "crimes")
    assert np.unique(crimes["id"].to_numpy()).size == crimes.num_rows
    assert len(pc.unique(crimes["source_id"])) == crimes.num_rows
    known = set(ids.tolist())
    assert set(pc.unique(crimes["person_id"]).to_pylist()) <= known
    assert set(pc.unique(crimes["victim_person_id"]).drop_null().to_pylist()) <= known
    # A person's crimes are recorded by their own force.
    home = dict(zip(ids.tolist(), people["force_code"].to_pylist()))
    sample = crimes.slice(0, 20_000)
    assert all(home[p] == f for p, f in zip(sample["person_id"].to_pylist(), sample["force_code"].to_pylist()))
    for name in ("cohort_memberships", "management_history"):
        t = table(tiny, name)
        assert np.unique(t["id"].to_numpy()).size == t.num_rows
        assert set(pc.unique(t["person_id"]).to_pylist()) <= known


def test_codes_are_the_registers_and_units_belong_to_their_force(tiny):
    offences = {r["code"] for r in read_reference("register", "offences")}
    crimes = table(tiny, "crimes")
    assert set(pc.unique(crimes["offence_code"]).to_pylist()) <= offences
    assert set(pq.read_table(tiny / "offences.parquet")["code"].to_pylist()) == offences
    categories = set(pq.read_table(tiny / "cost_of_crime.parquet")["category"].to_pylist())
    assert set(pq.read_table(tiny / "offences.parquet")["cost_category"].to_pylist()) <= categories
    units = pq.read_table(tiny / "units.parquet")
    unit_force = dict(zip(units["code"].to_pylist(), units["force_code"].to_pylist()))
    kinds = dict(zip(units["code"].to_pylist(), units["kind"].to_pylist()))
    assert set(units["force_code"].to_pylist()) == {p.code for p in plan(scale=TINY)}
    for name, column, kind in (("crimes", "npu_code", "npu"), ("people", "home_npu", "npu"),
                               ("management_history", "lomu_code", "lomu")):
        t = table(tiny, name)
        pairs = set(zip(t[column].to_pylist(), t["force_code"].to_pylist()))
        assert all(kinds[u] == kind and unit_force[u] == f for u, f in pairs), name


def test_sizes_rates_and_cohort_share_follow_the_generators_parameters(tiny):
    plans = {p.code: p for p in plan(scale=TINY)}
    crimes = table(tiny, "crimes").select(["person_id", "offence_code", "force_code"]).to_pandas()
    general = crimes[crimes["offence_code"].isin(GENERAL_CODES)]
    # Every offender has at least one crime outside DA incidents; victims alone have none.
    offenders = general.groupby("force_code")["person_id"].nunique()
    assert offenders.to_dict() == {c: p.offenders for c, p in plans.items()}
    # Forces above the floor are sized by their share of recorded crime.
    total = round(NATIONAL_OFFENDERS * TINY)
    for p in plans.values():
        if p.offenders > MIN_FORCE_PEOPLE:
            assert p.offenders == pytest.approx(p.share * total, abs=1)
    # Crimes per offender: the generator's mean, raised a little by its floors (one crime each,
    # four for a member).
    per_offender = len(general) / offenders.sum()
    assert params.MEAN_GENERAL_CRIMES * 0.97 <= per_offender <= params.MEAN_GENERAL_CRIMES * 1.3
    # The current IOM cohort is the default force's share, rounded once per chunk.
    memberships = table(tiny, "cohort_memberships").to_pandas()
    current = memberships[memberships["exited_on"].isna()].groupby("force_code")["person_id"].nunique()
    for code, p in plans.items():
        assert abs(current.get(code, 0) - COHORT_SHARE * p.offenders) <= 0.5 * len(p.chunks) + 1e-9, code
    assert set(memberships["classification_code"]) <= set(params.PUBLISHED_CLASSIFICATIONS)
    as_of = params.REFERENCE_DATE
    assert memberships["adopted_on"].max() <= as_of
    past = memberships[memberships["exited_on"].notna()]
    assert (past["exited_on"] > past["adopted_on"]).all() and past["exited_on"].max() <= as_of
    management = table(tiny, "management_history").to_pandas()
    assert management["person_id"].nunique() == memberships["person_id"].nunique() == len(management)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_data(tiny, tmp_path):
    again = write_national(tmp_path / "again", scale=TINY, seed=1)
    assert digests(again.out) == digests(tiny)
    other = write_national(tmp_path / "other", scale=TINY, seed=2)
    assert digests(other.out).keys() - {national.MANIFEST} == digests(tiny).keys() - {national.MANIFEST}
    assert digests(other.out)["crimes/force=MPS/year=2015/part-0.parquet"] != \
        digests(tiny)["crimes/force=MPS/year=2015/part-0.parquet"]


@pytest.mark.parametrize("scale", [0, -0.1, float("nan"), float("inf")])
def test_a_scale_that_is_not_positive_is_refused(tmp_path, scale):
    with pytest.raises(UserError, match="--scale"):
        write_national(tmp_path / "out", scale=scale)
    assert not (tmp_path / "out").exists()


def test_a_directory_holding_files_is_kept_unless_replacing_an_earlier_set(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="already holds files"):
        write_national(other, scale=FLOOR)
    with pytest.raises(UserError, match="only replaces"):
        write_national(other, scale=FLOOR, replace=True)
    assert (other / "notes.txt").read_text() == "mine"
    first = write_national(tmp_path / "set", scale=FLOOR, seed=1)
    second = write_national(tmp_path / "set", scale=FLOOR, seed=2, replace=True)
    assert second.out == first.out
    assert json.loads((second.out / national.MANIFEST).read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other", "set"]  # no staging left behind


def test_a_failure_part_way_leaves_nothing_written(tmp_path, monkeypatch):
    calls = []
    real = national.chunk_tables

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(national, "chunk_tables", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_national(tmp_path / "out", scale=FLOOR)
    assert list(tmp_path.iterdir()) == []


runner = CliRunner()


def test_the_command_writes_the_set_and_refuses_what_does_not_apply(tmp_path):
    app = build()
    out = tmp_path / "national"
    done = runner.invoke(app, ["synth", "--national", "--out", str(out), "--scale", str(FLOOR), "--seed", "3"])
    assert done.exit_code == 0, done.output
    assert "43 forces" in done.output
    assert json.loads((out / national.MANIFEST).read_text())["seed"] == 3
    refusals = {
        ("synth", "--national", "--out", str(out), "--scale", str(FLOOR)): "already holds files",
        ("synth", "--national", "--out", str(tmp_path / "x"), "--scale", "0"): "--scale",
        ("synth", "--national", "--scale", str(FLOOR)): "--out",
        ("synth", "--national", "--out", str(tmp_path / "x"), "--people", "5000"): "--people",
        ("synth", "--out", str(tmp_path / "x")): "--national",
    }
    for args, words in refusals.items():
        result = runner.invoke(app, list(args))
        said = result.output + str(result.exception or "")
        assert result.exit_code != 0 and words in said, (args, said)
    assert not (tmp_path / "x").exists()


def test_dates_are_dates(tiny):
    people = table(tiny, "people")
    assert isinstance(people["date_of_birth"][0].as_py(), dt.date)
