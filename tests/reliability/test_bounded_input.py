"""Files are read in bounded memory whatever they hold, and every fault is refused in words
with its line and the limit it broke (issue 17, item 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iom.csv_input import MAX_LINE_BYTES, MAX_ROW_BYTES
from iom.errors import UserError
from iom.register.importer import ImportFailed, classify_files, import_files
from tests.reliability.crash import IOM, env

DATA = Path(__file__).parents[1] / "register" / "data"
PEOPLE_HEADER = (DATA / "people.csv").read_text(encoding="utf-8").splitlines()[0]
PERSON = "NICHE-9001,Alex,Turner,1990-04-12,M,W_BRI,BE,,"
#: What the child may reach: the interpreter with every package loaded is about 130 MB.
RSS_LIMIT_MB = 300

#: Runs a command and prints its peak resident memory in KiB: RUSAGE_CHILDREN of a process
#: whose only child is that command (the test process has had many children already).
MEASURE = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(result.stderr)
print(result.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak(url: str, *args: str) -> tuple[int, float, str]:
    """Exit status, peak RSS in MB and standard error of `iom ARGS`."""
    run = subprocess.run([sys.executable, "-c", MEASURE, str(IOM), *args], env=env(url), capture_output=True,
                         text=True, timeout=300)
    code, kib = run.stdout.split()
    return int(code), int(kib) / 1024, run.stderr


@pytest.fixture(scope="module")
def sparse(tmp_path_factory) -> Path:
    """2 GiB of NUL bytes without a single line break, taking no disk."""
    path = tmp_path_factory.mktemp("sparse") / "sparse.csv"
    with path.open("wb") as fh:
        fh.truncate(2 * 1024**3)
    return path


@pytest.mark.parametrize("how", [[], ["--crimes"]], ids=["recognised by header", "named by option"])
def test_a_2_gib_file_without_line_breaks_is_refused_in_bounded_memory(fresh_engine, scratch_db, sparse, how):
    code, peak_mb, err = _peak(scratch_db.url, "import", *how, str(sparse))
    assert code == 2, err
    assert f"{sparse} line 1:" in err and f"longer than {MAX_LINE_BYTES:,} bytes" in err
    assert peak_mb < RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"


@pytest.mark.parametrize("command", [
    ["evaluate", "{file}", "--group-col", "g", "--control", "c", "--event-col", "e"],
    ["randomise", "{file}", "--log", "{log}", "--trial", "t", "--seed", "1"],
], ids=["evaluate", "randomise"])
def test_the_evaluation_commands_refuse_it_in_bounded_memory_too(scratch_db, sparse, tmp_path, command):
    args = [a.format(file=sparse, log=tmp_path / "log.jsonl") for a in command]
    code, peak_mb, err = _peak(scratch_db.url, *args)
    assert code == 2, err
    assert f"line 1: longer than {MAX_LINE_BYTES:,} bytes" in err
    assert peak_mb < RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"


def test_a_bare_carriage_return_is_named(fresh_engine, tmp_path):
    path = _people(tmp_path, (PERSON + "\r" + PERSON.replace("9001", "9002") + "\r").encode())
    assert "line 2: a line break of a carriage return alone" in _refusal(fresh_engine, path)


def _people(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "people.csv"
    path.write_bytes(PEOPLE_HEADER.encode() + b"\n" + body)
    return path


def _refusal(engine, path: Path) -> str:
    with pytest.raises(UserError) as caught:
        import_files(engine, {"people": path})
    return str(caught.value)


def test_an_endless_second_line_is_refused_at_that_line(fresh_engine, tmp_path):
    path = _people(tmp_path, (PERSON + "\n").encode() + b"x" * (3 * MAX_LINE_BYTES))
    assert f"line 3: longer than {MAX_LINE_BYTES:,} bytes" in _refusal(fresh_engine, path)


def test_a_row_that_never_ends_is_refused_where_it_starts(fresh_engine, tmp_path):
    """An unclosed quote swallows the lines after it: the row, not each line, is too long."""
    path = _people(tmp_path, (PERSON + "\n").encode() + b'NICHE-9002,"Alex\n' + b"Turner\n" * (MAX_ROW_BYTES // 7 + 10))
    assert f"line 3: the row starting here is longer than {MAX_ROW_BYTES:,} bytes" in _refusal(fresh_engine, path)


def test_a_quote_never_closed_is_refused_at_its_row(fresh_engine, tmp_path):
    path = _people(tmp_path, (PERSON + "\n").encode() + b'NICHE-9002,"Alex,Turner,1990-04-12,M,W_BRI,BE,,\n')
    assert "line 3: a quoted field opened in this row is never closed" in _refusal(fresh_engine, path)


def test_a_stray_quote_is_refused_with_its_line(fresh_engine, tmp_path):
    path = _people(tmp_path, (PERSON + "\n" + PERSON.replace("9001", "9002") + "\n").encode()
                   + b'NICHE-9003,"Alex"x,Turner,1990-04-12,M,W_BRI,BE,,\n')
    assert "line 4: malformed CSV" in _refusal(fresh_engine, path)


def test_an_encoding_fault_is_refused_with_its_line(fresh_engine, tmp_path):
    """Decoding goes line by line, so the line named is the one with the bad byte, not the
    end of a block read ahead."""
    rows = "".join(PERSON.replace("9001", f"{9001 + i}") + "\n" for i in range(400)).encode()
    path = _people(tmp_path, rows + "NICHE-9999,Zoë,Turner,1990-04-12,M,W_BRI,BE,,\n".encode("latin-1"))
    message = _refusal(fresh_engine, path)
    assert "line 402: not UTF-8 text (byte 0xeb" in message


def test_a_header_fault_names_its_line(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"source_id,given_\xffname\n")
    with pytest.raises(UserError, match="line 1: malformed CSV header: not UTF-8"):
        classify_files([path])


@pytest.mark.parametrize("column, length, limit", [
    ("source_id", 65, 64), ("source_id", 5_000, 64), ("given_name", 81, 80), ("given_name", 9_000, 80),
    ("ethnicity", 4_001, 16), ("language", 41, 40),
])
def test_a_field_too_long_quotes_its_own_limit(fresh_engine, tmp_path, column, length, limit):
    """A value past 4,000 characters used to be refused with the model-wide limit (4000)."""
    header = PEOPLE_HEADER.split(",")
    row = PERSON.split(",")
    row[header.index(column)] = "x" * length
    path = _people(tmp_path, (",".join(row) + "\n").encode())
    with pytest.raises(ImportFailed) as caught:
        import_files(fresh_engine, {"people": path})
    assert [(e.line, e.column, e.reason) for e in caught.value.errors] == [
        (2, column, f"longer than the {limit} characters allowed")]
