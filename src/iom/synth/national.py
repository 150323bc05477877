"""The national synthetic data set: the 43 forces of England and Wales as partitioned Parquet.

Why it is built this way: each force is cut into chunks of at most ``CHUNK_PEOPLE``
offenders, and each chunk is a synthetic force made by the same generator as `iom synth`
(``iom.synth.generator``: the same offending rates, offence mix, IOM cohort share,
adoption and exit dates), with its cohort in proportion to its size. Only one chunk is in
memory at a time and it is streamed to its force's Parquet files before the next is made,
so peak memory does not grow with the scale. Every chunk has a seed of its own derived
from (seed, force, chunk), and ids are handed out in a fixed order, so the same seed and
scale give byte-identical files. Output is built in a temporary directory beside the target
and renamed into place at the end: a failed run never leaves half-written files.

Layout (hive partitioning, read by the analytics layer)::

    DIR/crimes/force=<code>/year=<yyyy>/part-0.parquet     by force and year committed
    DIR/people/force=<code>/part-0.parquet
    DIR/cohort_memberships/force=<code>/part-0.parquet
    DIR/management_history/force=<code>/part-0.parquet
    DIR/units.parquet  DIR/offences.parquet  DIR/cost_of_crime.parquet  DIR/forces.parquet
    DIR/manifest.json

Columns and types are those `iom export` writes (``iom.register.export.arrow_schema``),
plus ``force_code``."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iom.apportion import largest_remainder
from iom.edge import parse_bool
from iom.errors import UserError
from iom.reference import read_reference
from iom.register.export import staged_directory
from iom.rules import RuleFile, RuleRow, load_rules
from iom.synth import params
from iom.synth.generator import NO_DATE, ForceSpec, Generator

#: Offenders at scale 1.0: the Police National Computer's "about 13 million nominals"
#: (issue 16). Victims recorded with the domestic abuse incidents come on top (about 5%).
NATIONAL_OFFENDERS = 13_000_000
#: A chunk is at most the default synthetic force (the generator's calibrated size).
CHUNK_PEOPLE = params.DEFAULT_PEOPLE
#: No force is smaller than this many offenders, however small the scale (the generator
#: needs a few hundred people to fill a cohort and its domestic abuse pairs).
MIN_FORCE_PEOPLE = 200
#: NPUs per force in proportion to its recorded crime: West Midlands' ten NPUs
#: (units.csv) for its recorded crime, at least two; one LOMU per two NPUs (assumption).
MIN_NPUS = 2
FORMAT = "iom-national/1"
MANIFEST = "manifest.json"
ROW_GROUP = 250_000
PARTITIONED = ("people", "crimes", "cohort_memberships", "management_history")
FLAT = ("units", "offences", "cost_of_crime", "forces")
#: The generator's table for each partitioned table.
_GENERATED = {"people": "people", "crimes": "crimes", "cohort_memberships": "memberships",
              "management_history": "management"}


class ForceRow(RuleRow):
    code: str
    name: str
    region: str
    recorded_crime: int


class Forces(RuleFile):
    force: tuple[ForceRow, ...]


def forces() -> Forces:
    """The 43 forces and their sizes (``synth/data/forces-v1.toml``, source named there)."""
    return load_rules(Forces, "synth", "forces-v1.toml")


@dataclass(frozen=True)
class ForcePlan:
    """One force's part of the data set: its units and how many offenders in which chunks."""

    index: int
    code: str
    name: str
    region: str
    share: float
    offenders: int
    chunks: tuple[int, ...]
    units: tuple[dict[str, Any], ...]

    @property
    def npus(self) -> list[str]:
        return [u["code"] for u in self.units if u["kind"] == "npu"]

    @property
    def npu_lomu(self) -> dict[str, str]:
        return {u["code"]: u["parent_code"] for u in self.units if u["kind"] == "npu"}

    @property
    def npu_officers(self) -> dict[str, int]:
        return {u["code"]: u["officers"] for u in self.units if u["kind"] == "npu" and u["officers"]}


@dataclass
class NationalSummary:
    """What a run wrote: rows per table, files, bytes on disk and how long it took."""

    out: Path
    scale: float
    seed: int
    forces: int
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0


def plan(*, scale: float) -> list[ForcePlan]:
    """Each force's offenders at ``scale`` (shares of recorded crime, whole numbers that add
    up, at least ``MIN_FORCE_PEOPLE``), cut into near-equal chunks of at most ``CHUNK_PEOPLE``."""
    check_scale(scale)
    rows = forces().force
    total = sum(f.recorded_crime for f in rows)
    sizes = largest_remainder(round(NATIONAL_OFFENDERS * scale), {f.code: f.recorded_crime for f in rows})
    wmp = next((f.recorded_crime for f in rows if f.code == "WMP"), total / len(rows))
    plans = []
    for index, f in enumerate(rows):
        n = max(MIN_FORCE_PEOPLE, sizes[f.code])
        k = math.ceil(n / CHUNK_PEOPLE)
        chunks = tuple(n // k + (1 if i < n % k else 0) for i in range(k))
        n_npus = max(MIN_NPUS, round(10 * f.recorded_crime / wmp))
        plans.append(ForcePlan(index=index, code=f.code, name=f.name, region=f.region,
                               share=f.recorded_crime / total, offenders=n, chunks=chunks,
                               units=tuple(force_units(f, n_npus))))
    return plans


def check_scale(scale: float) -> None:
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise UserError(f"--scale must be a number above 0 (1.0 is about 13 million people), not {scale}")
    if round(NATIONAL_OFFENDERS * scale) > 10 * NATIONAL_OFFENDERS:
        raise UserError("--scale above 10 is not supported (130 million people)")


def force_units(force: ForceRow, n_npus: int) -> list[dict[str, Any]]:
    """The force, its LOMUs and NPUs. West Midlands keeps the register's own units (units.csv,
    the default synthetic force's); other forces get numbered ones (``<code>-L01``, ``-N01``)."""
    if force.code == "WMP":
        return [dict(r, force_code="WMP") for r in _register_units()]
    source = "national synthetic data set: numbered units in proportion to recorded crime (assumption)"
    rows = [dict(code=force.code, name=force.name, kind="force", parent_code=None, officers=None,
                 caseload_per_officer=None, source="synth/data/forces-v1.toml", force_code=force.code)]
    n_lomus = math.ceil(n_npus / 2)
    for i in range(1, n_lomus + 1):
        rows.append(dict(code=f"{force.code}-L{i:02d}", name=f"{force.name} LOMU {i}", kind="lomu",
                         parent_code=force.code, officers=None, caseload_per_officer=None, source=source,
                         force_code=force.code))
    for i in range(1, n_npus + 1):
        rows.append(dict(code=f"{force.code}-N{i:02d}", name=f"{force.name} NPU {i}", kind="npu",
                         parent_code=f"{force.code}-L{(i + 1) // 2:02d}", officers=None,
                         caseload_per_officer=None, source=source, force_code=force.code))
    return rows


def _register_units() -> list[dict[str, Any]]:
    from iom.register.reference_tables import REFERENCE_TABLES

    return _reference_rows(REFERENCE_TABLES, "units")


def _reference_rows(tables, name: str) -> list[dict[str, Any]]:
    table = next(t for t in tables if t.name == name)
    return table.rows()


def offence_catalogue() -> dict[str, dict]:
    """What the generator needs of the register's offences (``register/data/offences.csv``)."""
    return {r["code"]: {"gravity": int(r["gravity"]), "is_crime": parse_bool(r["is_crime"]),
                        "domestic_abuse": parse_bool(r["domestic_abuse"]), "hate": parse_bool(r["hate"]),
                        "offence_group": r["offence_group"]}
            for r in read_reference("register", "offences")}


class ProportionalSpec(ForceSpec):
    """A chunk of a force: its IOM cohort (members, classifications, risk levels) and its
    out-of-court disposals in proportion to its size, at the default force's rate
    (``PUBLISHED_MEMBERS`` per ``DEFAULT_PEOPLE``), where the default force keeps the
    published cohort whole from 20,000 people up."""

    @property
    def cohort_scale(self) -> float:
        return self.people / params.DEFAULT_PEOPLE


def chunk_seed(seed: int, force_index: int, chunk_index: int) -> int:
    """A seed of its own for each chunk, independent of every other chunk."""
    return int(np.random.SeedSequence([seed, force_index, chunk_index]).generate_state(1)[0])


def schemas() -> dict[str, pa.Schema]:
    """The tables' schemas: `iom export`'s for the register tables, plus ``force_code``."""
    from iom.models import metadata
    from iom.register.export import arrow_schema

    force_code = pa.field("force_code", pa.string(), nullable=False)
    out = {name: arrow_schema(metadata.tables[name]).append(force_code) for name in PARTITIONED}
    out["units"] = arrow_schema(metadata.tables["units"]).append(force_code)
    out["offences"] = arrow_schema(metadata.tables["offences"])
    out["cost_of_crime"] = arrow_schema(metadata.tables["cost_of_crime"])
    out["forces"] = pa.schema([
        pa.field("code", pa.string(), nullable=False), pa.field("name", pa.string(), nullable=False),
        pa.field("region", pa.string(), nullable=False), pa.field("recorded_crime", pa.int64(), nullable=False),
        pa.field("share", pa.float64(), nullable=False), pa.field("offenders", pa.int64(), nullable=False),
    ])
    return out


# -- column conversion -----------------------------------------------------------------------

def _column(values: np.ndarray | None, f: pa.Field, n: int) -> pa.Array:
    """One generated column as the export's Arrow type: day numbers as dates (NO_DATE null),
    negative ids null, text as strings."""
    if values is None:
        return pa.nulls(n, type=f.type)
    if pa.types.is_date32(f.type):
        days = np.asarray(values, dtype=np.int64)
        return pa.array(days.astype(np.int32), mask=days == NO_DATE).view(pa.date32())
    if pa.types.is_int64(f.type):
        ints = np.asarray(values, dtype=np.int64)
        return pa.array(ints, mask=(ints < 0) if f.nullable else None)
    if pa.types.is_boolean(f.type):
        return pa.array(np.asarray(values, dtype=bool))
    return pa.array(values, type=pa.string(), from_pandas=True)


def _labels(prefix: str, ids: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded id, vectorised in Arrow (unique because the ids are)."""
    padded = pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")


_BASE32 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)
_PSEUDO_MULTIPLIER = np.uint64(0x5DEECE66D1B2F3A5 | 1)


def pseudo_ids(ids: np.ndarray) -> pa.Array:
    """The shape of imported people's pseudonymous ids ("P" and 11 base-32 characters), from a
    bijection of the person's id (an odd multiplier modulo 2**55): unique across every force."""
    x = (np.asarray(ids, dtype=np.uint64) * _PSEUDO_MULTIPLIER) & np.uint64((1 << 55) - 1)
    chars = np.empty((x.size, 12), dtype=np.uint8)
    chars[:, 0] = ord("P")
    for i in range(11):
        chars[:, 1 + i] = _BASE32[((x >> np.uint64(5 * (10 - i))) & np.uint64(31)).astype(np.intp)]
    return pc.cast(pa.array(chars.view("S12").ravel(), type=pa.binary()), pa.string())


@dataclass
class _Offsets:
    """The next id of each table: ids run on from force to force, chunk by chunk."""

    people: int = 0
    crimes: int = 0
    cohort_memberships: int = 0
    management_history: int = 0


def chunk_tables(force, schema: dict[str, pa.Schema], offsets: _Offsets, code: str) -> dict[str, pa.Table]:
    """A generated chunk's tables with ids made national (offset past every earlier chunk)."""
    person_offset = offsets.people
    out = {}
    for name in PARTITIONED:
        cols = dict(getattr(force, _GENERATED[name]))
        n = len(cols["id"])
        offset = getattr(offsets, name)
        cols["id"] = np.asarray(cols["id"], dtype=np.int64) + offset
        for ref in ("person_id", "victim_person_id"):
            if ref in cols:
                v = np.asarray(cols[ref], dtype=np.int64)
                cols[ref] = np.where(v > 0, v + person_offset, -1)
        arrays = []
        for f in schema[name]:
            if f.name == "force_code":
                arrays.append(pa.array(np.full(n, code, dtype=object), type=pa.string()))
            elif f.name == "source_id":
                letter = {"people": "P", "crimes": "C", "cohort_memberships": "M"}[name]
                arrays.append(_labels(f"SYN-{code}-{letter}", cols["id"], 9))
            elif f.name == "pseudo_id":
                arrays.append(pseudo_ids(cols["id"]))
            else:
                arrays.append(_column(cols.get(f.name), f, n))
        out[name] = pa.Table.from_arrays(arrays, schema=schema[name])
        setattr(offsets, name, offset + n)
    return out


def crime_years(committed: pa.Array) -> np.ndarray:
    days = np.asarray(committed.view(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


# -- writing ---------------------------------------------------------------------------------

class _ForceWriter:
    """The open Parquet files of one force: one per table, and one per year for crimes."""

    def __init__(self, root: Path, code: str, schema: dict[str, pa.Schema]) -> None:
        self.root, self.code, self.schema = root, code, schema
        self.writers: dict[tuple[str, int | None], pq.ParquetWriter] = {}

    def _writer(self, table: str, year: int | None) -> pq.ParquetWriter:
        key = (table, year)
        if key not in self.writers:
            folder = self.root / table / f"force={self.code}"
            if year is not None:
                folder = folder / f"year={year}"
            folder.mkdir(parents=True, exist_ok=True)
            self.writers[key] = pq.ParquetWriter(folder / "part-0.parquet", self.schema[table],
                                                 compression="zstd", write_statistics=True, store_schema=True)
        return self.writers[key]

    def write(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            if name != "crimes":
                self._writer(name, None).write_table(table, row_group_size=ROW_GROUP)
                continue
            years = crime_years(table.column("committed_on").combine_chunks())
            order = np.argsort(years, kind="stable")  # already by date; kept stable to be sure
            years, table = years[order], table.take(pa.array(order))
            for year in np.unique(years).tolist():
                lo, hi = np.searchsorted(years, [year, year + 1])
                self._writer(name, int(year)).write_table(table.slice(lo, hi - lo), row_group_size=ROW_GROUP)

    def close(self) -> None:
        for table in ("people", "cohort_memberships", "management_history"):
            if (table, None) not in self.writers:  # a table with no rows still has its file
                self._writer(table, None).write_table(self.schema[table].empty_table())
        for writer in self.writers.values():
            writer.close()


def _write_flat(path: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> int:
    table = pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)
    pq.write_table(table, path, compression="zstd", write_statistics=True, store_schema=True)
    return table.num_rows


def check_out(out: Path | str, *, replace: bool = False) -> Path:
    """Where the data set would go, or why it cannot: checked before anything is generated."""
    given = Path(out)
    target = given.resolve()
    if target.exists() and not target.is_dir():
        raise UserError(f"{given} exists and is not a directory")
    if target.exists() and any(target.iterdir()):
        if not replace:
            raise UserError(f"{given} already holds files: choose an empty directory or pass --replace")
        manifest = target / MANIFEST
        try:
            known = json.loads(manifest.read_text(encoding="utf-8")).get("format") == FORMAT
        except (OSError, ValueError, AttributeError):
            known = False
        if not known:
            raise UserError(f"{given} holds files but no national data set's {MANIFEST}: "
                            "--replace only replaces an earlier `iom synth --national`")
    return target


def write_national(out: Path, *, scale: float = 1.0, seed: int = 1, progress=None,
                   replace: bool = False) -> NationalSummary:
    """Generate the 43 forces at ``scale`` (1.0: 13 million offenders, 13.7 million people with
    their victims, about 99 million crimes) and write them under ``out``; all or nothing.
    ``progress`` is an ``iom.synth.service.Progress`` (``start_writing(total offenders)``,
    ``step(label)``, ``advance(offenders)``). ``replace`` replaces an earlier national data
    set in ``out``; any other non-empty directory is refused."""
    started = time.perf_counter()
    plans = plan(scale=scale)
    target = check_out(out, replace=replace)
    summary = NationalSummary(out=target, scale=scale, seed=seed, forces=len(plans),
                              rows=dict.fromkeys(PARTITIONED + FLAT, 0))
    with staged_directory(target, what=f"beside {out}") as staging:
        _generate(staging, plans, seed=seed, summary=summary, progress=progress)
        files = sorted(p for p in staging.rglob("*.parquet"))
        summary.files = len(files)
        summary.bytes = sum(p.stat().st_size for p in files)
        manifest = {"format": FORMAT, "forces_version": forces().version, "scale": scale, "seed": seed,
                    "as_of": params.REFERENCE_DATE.isoformat(), "rows": summary.rows,
                    "files": [p.relative_to(staging).as_posix() for p in files]}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    summary.seconds = time.perf_counter() - started
    return summary


def _generate(root: Path, plans: list[ForcePlan], *, seed: int, summary: NationalSummary, progress) -> None:
    from iom.register.reference_tables import REFERENCE_TABLES

    schema = schemas()
    offences = offence_catalogue()
    if progress is not None:
        progress.start_writing(sum(p.offenders for p in plans))
    offsets = _Offsets()
    for p in plans:
        writer = _ForceWriter(root, p.code, schema)
        try:
            for chunk_index, n in enumerate(p.chunks):
                if progress is not None:
                    progress.step(f"{p.code} ({p.index + 1}/{len(plans)}), chunk {chunk_index + 1}/{len(p.chunks)}")
                spec = ProportionalSpec(seed=chunk_seed(seed, p.index, chunk_index), people=n,
                                        as_of=params.REFERENCE_DATE)
                force = Generator(spec, p.npus, p.npu_lomu, offences, npu_officers=p.npu_officers).run()
                tables = chunk_tables(force, schema, offsets, p.code)
                del force
                writer.write(tables)
                for name, table in tables.items():
                    summary.rows[name] += table.num_rows
                del tables
                if progress is not None:
                    progress.advance(n)
        finally:
            writer.close()
    units = [u for p in plans for u in p.units]
    summary.rows["units"] = _write_flat(root / "units.parquet", units, schema["units"])
    summary.rows["offences"] = _write_flat(root / "offences.parquet", _reference_rows(REFERENCE_TABLES, "offences"),
                                           schema["offences"])
    summary.rows["cost_of_crime"] = _write_flat(root / "cost_of_crime.parquet",
                                                _reference_rows(REFERENCE_TABLES, "cost_of_crime"),
                                                schema["cost_of_crime"])
    summary.rows["forces"] = _write_flat(
        root / "forces.parquet",
        [dict(code=p.code, name=p.name, region=p.region, share=p.share, offenders=p.offenders,
              recorded_crime=next(f.recorded_crime for f in forces().force if f.code == p.code)) for p in plans],
        schema["forces"])
