"""The cost avoided per day has a bootstrap interval over offenders, repeatable from its seed,
and `iom adoption` carries it with the regression-to-the-mean caveat."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from iom.analytics.sample import random_register
from iom.analytics.service import (before_during_after, cost_avoided_interval, cost_avoided_per_day,
                                   person_windows)
from iom.analytics.source import connect, from_frames, latest_date


@pytest.fixture(scope="module")
def con():
    return from_frames(random_register(seed=3, people=2000))


@pytest.fixture(scope="module")
def bda(con):
    return before_during_after(con)


def test_the_interval_brackets_the_figure_and_repeats(con, bda):
    point = cost_avoided_per_day(bda)
    lower, upper = cost_avoided_interval(bda)
    assert lower < point < upper
    assert before_during_after(con).equals(bda)  # seeded
    other = before_during_after(con, seed=7)
    assert cost_avoided_interval(other) != (lower, upper)
    assert cost_avoided_interval(before_during_after(con, resamples=0)) == (None, None)
    per_npu = bda[bda["npu"] != "all"].dropna(subset=["cost_avoided_pence_per_day_lower"])
    assert len(per_npu) > 0
    assert (per_npu["cost_avoided_pence_per_day_lower"] <= per_npu["cost_avoided_pence_per_day"]).all()
    assert (per_npu["cost_avoided_pence_per_day"] <= per_npu["cost_avoided_pence_per_day_upper"]).all()


def test_the_interval_is_a_resample_of_offenders(con, bda):
    """An independent numpy bootstrap over offenders gives much the same range."""
    people = person_windows(con, as_of=latest_date(con))
    wide = people.pivot(index="person_id", columns="win", values=["days", "cost_pence"]).fillna(0)
    bc, bd = wide["cost_pence"]["before"].to_numpy(), wide["days"]["before"].to_numpy()
    dc, dd = wide["cost_pence"]["during"].to_numpy(), wide["days"]["during"].to_numpy()
    current = int(bda.loc[bda["npu"] == "all", "current_members"].iloc[0])
    point = (bc.sum() / bd.sum() - dc.sum() / dd.sum()) * current
    assert round(point) == cost_avoided_per_day(bda)
    rng = np.random.default_rng(99)
    draws = []
    for _ in range(1000):
        i = rng.integers(0, len(bc), len(bc))
        draws.append((bc[i].sum() / bd[i].sum() - dc[i].sum() / dd[i].sum()) * current)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    lower, upper = cost_avoided_interval(bda)
    width = upper - lower
    assert abs(lower - lo) < 0.15 * width and abs(upper - hi) < 0.15 * width


def test_adoption_command_carries_the_interval_and_the_caveat(small_engine):
    url = small_engine.url.render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, "adoption", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {r["npu"]: r for r in json.loads(out.stdout)}
    expected = before_during_after(connect(engine=small_engine, scope="cohort"))
    lower, upper = cost_avoided_interval(expected)
    assert rows["all"]["cost_avoided_pence_per_day_lower"] == lower
    assert rows["all"]["cost_avoided_pence_per_day_upper"] == upper
    assert lower is not None and lower <= rows["all"]["cost_avoided_pence_per_day"] <= upper
    text = subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, "adoption"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert text.returncode == 0, text.stderr
    words = " ".join(text.stdout.split())
    assert "95% range" in words and "2,000 resamples" in words and "regression to the mean" in words
