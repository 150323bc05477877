"""Matching, randomisation and return on investment."""

import numpy as np
import pandas as pd
import pytest

from iom.errors import UserError
from iom.evaluation.matching import propensity_match
from iom.evaluation.randomise import block_allocations, randomise, read_log, verify_log
from iom.evaluation.roi import roi_from_costs, roi_from_rates


def test_matching_removes_confounding_by_age():
    rng = np.random.default_rng(3)
    n = 2000
    age = rng.integers(18, 60, n)
    treated = rng.random(n) < 1 / (1 + np.exp((age - 30) / 5))  # the young are treated more
    frame = pd.DataFrame({"age": age, "sex": rng.choice(["M", "F"], n)})
    m = propensity_match(frame, treated=pd.Series(treated), covariates=["age", "sex"])
    bal = m.balance_frame().set_index("covariate")
    assert abs(bal.loc["age", "smd_before"]) > 0.5
    assert abs(bal.loc["age", "smd_after"]) < 0.1
    assert 0 < m.matched_pairs <= m.treated
    assert m.matched["pair"].value_counts().eq(2).all()


def test_matching_needs_both_groups():
    with pytest.raises(UserError):
        propensity_match(pd.DataFrame({"age": [1, 2]}), treated=pd.Series([True, True]), covariates=["age"])


def test_block_randomisation_is_balanced_and_reproducible():
    ids = [f"R{i}" for i in range(100)]
    a = block_allocations(ids, seed=7)
    assert a == block_allocations(ids, seed=7)
    assert a != block_allocations(ids, seed=8)
    for block in {x["block"] for x in a[:-6]}:  # every complete block holds both arms equally
        arms = [x["arm"] for x in a if x["block"] == block]
        assert arms.count("control") == arms.count("treatment")


def test_allocation_log_is_append_only_and_verifiable(tmp_path):
    log = tmp_path / "alloc.jsonl"
    first = randomise(["A", "B", "C"], log_path=log, seed=5, trial="cara")
    randomise(["D", "E"], log_path=log, seed=5, trial="cara")
    entries = read_log(log)
    assert [e["referral_id"] for e in entries] == ["A", "B", "C", "D", "E"]
    # Allocating in two batches gives the same arms as allocating all at once.
    assert [e["arm"] for e in entries] == [x["arm"] for x in block_allocations(list("ABCDE"), seed=5)]
    assert first[0]["hash"] == entries[0]["hash"]
    assert verify_log(log, "cara")
    with pytest.raises(UserError, match="already randomised"):
        randomise(["B"], log_path=log, seed=5, trial="cara")
    with pytest.raises(UserError, match="seed"):
        randomise(["Z"], log_path=log, seed=6, trial="cara")
    tampered = log.read_text().replace('"arm": "control"', '"arm": "treatment"', 1)
    log.write_text(tampered)
    assert not verify_log(log, "cara")


def test_roi_from_costs_and_rates():
    rng = np.random.default_rng(1)
    control = rng.gamma(2.0, 50_000, 300).round()
    group = rng.gamma(2.0, 20_000, 150).round()
    r = roi_from_costs(group, control, programme_cost_pence=5_000_000)
    assert r.avoided_lower_pence < r.avoided_pence < r.avoided_upper_pence
    assert r.ratio == pytest.approx(r.avoided_pence / 5_000_000, rel=1e-6)
    rr = roi_from_rates(0.3, 0.2, 0.4, n_group=164, cost_per_reoffender_pence=100_000, programme_cost_pence=1_000_000)
    assert (rr.ratio_lower, rr.ratio, rr.ratio_upper) == pytest.approx((3.28, 4.92, 6.56))
    with pytest.raises(UserError):
        roi_from_costs(group, control, programme_cost_pence=0)
