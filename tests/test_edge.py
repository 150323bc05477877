"""iom.edge: the one reading of flags, dates and text from outside."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from iom.edge import clean_text, parse_bool, parse_date


@pytest.mark.parametrize("text", ["true", "TRUE", " t ", "Yes", "y", "1"])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["false", "False", "f", " no ", "N", "0"])
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["", " ", "maybe", "2", "truee", "oui"])
def test_parse_bool_refuses_anything_else(text: str) -> None:
    # Unknown spellings are an error, not a silent False.
    with pytest.raises(ValueError, match="expected true or false"):
        parse_bool(text)


def test_parse_date() -> None:
    assert parse_date("2019-03-31") == dt.date(2019, 3, 31)
    assert parse_date(" 2019-03-31 ") == dt.date(2019, 3, 31)


@pytest.mark.parametrize("text", ["31/03/2019", "20190331", "2019-3-31", "2019-W13-7", "2019-03-31T00:00", "٢٠١٩-٠٣-٣١", ""])
def test_parse_date_refuses_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected a date as YYYY-MM-DD"):
        parse_date(text)


def test_parse_date_refuses_impossible_dates() -> None:
    with pytest.raises(ValueError, match="not a real date"):
        parse_date("2019-02-30")


def test_clean_text_strips_and_keeps_lines() -> None:
    assert clean_text("  Smith \t") == "Smith"
    assert clean_text("line one\nline two\r\n\tend") == "line one\nline two\r\n\tend"
    assert clean_text("Zoë Ó'Brien") == "Zoë Ó'Brien"


def test_clean_text_without_strip() -> None:
    assert clean_text("  secret  ", strip=False) == "  secret  "


@pytest.mark.parametrize(("text", "code", "position"), [("ab\x00c", "0000", 3), ("\x07bell", "0007", 1), ("del\x7f", "007F", 4), ("esc\x1b[0m", "001B", 4)])
def test_clean_text_refuses_control_characters(text: str, code: str, position: int) -> None:
    with pytest.raises(ValueError, match=rf"control character \(U\+{code}\) at position {position}"):
        clean_text(text)
    with pytest.raises(ValueError, match="control character"):
        clean_text(text, strip=False)


def test_edge_imports_nothing_heavy() -> None:
    """The CLI imports lazily; the edge must stay standard library only."""
    code = "import sys, iom.edge; print(','.join(m for m in ('pydantic', 'sqlalchemy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
