"""Money and percentages as the pages and commands show them."""

import math

import pandas as pd
import pytest

from iom.formatting import percent, pounds


@pytest.mark.parametrize("pence, shown", [
    (123_456, "£1,235"), (0, "£0"), (5_000_000, "£50,000"), (-5_000, "−£50"), (49, "£0"), (1_234_567_800, "£12,345,678"),
])
def test_pounds_from_pence(pence, shown):
    assert pounds(pence) == shown


@pytest.mark.parametrize("share, places, shown", [
    (0.1234, 1, "12.3%"), (0.5, 0, "50%"), (1 / 3, 2, "33.33%"), (0.0, 1, "0.0%"), (-0.01, 1, "-1.0%"), (1.0, 0, "100%"),
])
def test_percent_from_a_share(share, places, shown):
    assert percent(share, places) == shown
    assert percent(share, places) == f"{share:.{places}%}"  # the same digits as Python's % format


@pytest.mark.parametrize("missing", [None, math.nan, float("nan"), pd.NA, pd.NaT])
def test_missing_values_show_as_a_dash(missing):
    assert pounds(missing) == "–" and percent(missing) == "–"
    assert percent(missing, missing="n/a") == "n/a"


def test_numpy_and_pandas_values():
    s = pd.Series([150_000, None], dtype="Int64")
    assert s.map(pounds).tolist() == ["£1,500", "–"]
    assert percent(pd.Series([0.25]).iloc[0]) == "25.0%"


def test_probabilities_never_claim_certainty_and_dates_read_as_words():
    import datetime as dt

    from iom.formatting import long_date, probability

    assert [probability(p) for p in (0.0, 0.004, 0.5, 0.994, 1.0, None)] == [
        "under 1%", "under 1%", "50%", "over 99%", "over 99%", "–"]
    assert long_date(dt.date(2019, 3, 1)) == "1 March 2019" and long_date(None) == "–"


def test_a_csv_cell_never_starts_a_formula():
    from iom.formatting import csv_cell

    assert csv_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [csv_cell(v) for v in ("+1", "@SUM(A1)", "-2", "\tx")] == ["'+1", "'@SUM(A1)", "'-2", "'\tx"]
    assert [csv_cell(v) for v in (None, 12, "PSEUDO0001", "a=b")] == ["", "12", "PSEUDO0001", "a=b"]
