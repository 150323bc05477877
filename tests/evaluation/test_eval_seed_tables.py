"""Seed Tables B, D–G from records: every published percentage, and the stated reductions."""

import pytest

from iom.evaluation.seed_tables import TABLES, records, reproduce

#: Cells where no whole count reproduces the printed figure (reported as discrepancies).
UNREPRODUCIBLE = {("B", "drug related: all"), ("E", "breached")}


@pytest.mark.parametrize("name", ["B", "D", "E", "F", "G"])
def test_every_published_percentage_is_reproduced_or_reported(name):
    result = reproduce(name)
    for cell in result.cells:
        if (name, cell.group) in UNREPRODUCIBLE and not cell.reproduced:
            assert any(cell.published in d for d in result.discrepancies)
        else:
            assert cell.reproduced, cell
        assert cell.lower <= cell.rate <= cell.upper


def test_record_counts_match_published_sample_sizes():
    frame = records("D")
    assert frame.groupby("group").size().to_dict() == {"control": 318, "completed": 164, "breached": 87}
    assert len(records("B")) == 80 + 18 + 71 + 13


def test_table_d_net_reduction_is_43_8_not_46():
    result = reproduce("D")
    net = next(s for s in result.stated if s.stated == 46)
    assert net.computed == 43.8 and not net.agrees
    assert any("46%" in d and "43.8%" in d for d in result.discrepancies)
    completers = next(s for s in result.stated if s.stated == 77)
    assert completers.agrees
    comp = next(c for c in result.evaluations["reoffend"].comparisons if c.group == "completed")
    assert comp.verdict == "significant reduction" and comp.p_value < 0.001


def test_table_d_return_on_investment_check():
    roi = reproduce("D").roi
    # (34.0% − 18.3%) of 251 people × £14,050 / £50,000 ≈ 11:1, against the paper's 16:1.
    assert roi.ratio == pytest.approx((108 / 318 - 46 / 251) * 251 * 14_050 / 50_000)
    assert roi.ratio_lower < roi.ratio < roi.ratio_upper
    # Under these assumptions the course pays for itself even at the low end of the range, but
    # the stated 16:1 lies above the range: the paper must have costed it differently.
    assert roi.ratio_lower > 1
    assert roi.ratio_upper < roi.stated_ratio


def test_table_g_reductions_look_swapped():
    result = reproduce("G")
    reoffend, da = result.stated
    assert reoffend.stated == 70 and reoffend.computed == 66.5
    assert da.stated == 66 and da.computed == 100.0
    assert any("swapped" in d for d in result.discrepancies)
    # 20 completers: the JDL rule says too small to evaluate, whatever the p-value.
    comp = next(c for c in result.evaluations["reoffend"].comparisons if c.group == "completed")
    assert comp.verdict == "too small to evaluate"


def test_table_f_survival_and_mean_days():
    frame = records("F")
    reoffenders = frame[frame["reoffend"] == 1]
    means = reoffenders.groupby("group")["days"].mean().round(1).to_dict()
    assert means == {"breached": 93.0, "completed": 257.0, "suitable control": 102.0}
    surv = reproduce("F").survival
    by = {c.group: c for c in surv.curves}
    assert round(by["completed"].survival_at_horizon, 4) == round(53 / 54, 4)
    assert surv.logrank_p < 0.05


def test_table_e_and_b_reported_discrepancies():
    e = reproduce("E")
    assert any("41%" in d and "39.5%" in d for d in e.discrepancies)
    b = reproduce("B")
    assert all(s.agrees for s in b.stated)  # 54% and 40% follow from the rounded percentages
    violence = next(c for c in b.comparisons if c.category == "violence")
    assert violence.fair.group_rate.n == 28 and violence.fair.control_rate.n == 52


def test_tables_are_complete():
    assert set(TABLES) == {"D", "E", "F", "G"}
