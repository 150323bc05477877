"""Measures on the shared synthetic force (seed 1): the shape the seed papers describe."""

import pytest

from iom.analytics.service import all_measures, before_during_after
from iom.analytics.source import connect


@pytest.fixture(scope="module")
def force_con(force_engine):
    return connect(engine=force_engine)


def test_every_npu_and_both_definitions(force_con):
    every = all_measures(force_con)
    npu = every["npu"].set_index("group")
    assert set(npu.index) >= {"WS", "WV", "SW", "DY", "SH", "CV", "BE", "BW", "BN", "BS"}
    # Proven reoffending (a charge or caution within the wait) is rarer than police-recorded.
    assert (npu["proven_rate"] < npu["recorded_rate"]).all()
    assert (npu["recorded_lower"] < npu["recorded_rate"]).all() and (npu["recorded_rate"] < npu["recorded_upper"]).all()
    assert every["force"]["offenders"].iloc[0] == npu["offenders"].sum()
    assert every["lomu"]["offenders"].sum() == npu["offenders"].sum()


def test_before_during_after_shape(force_con):
    bda = before_during_after(force_con).set_index("npu")
    total = bda.loc["all"]
    # Longer windows: more offences during than before, as in the seed's table...
    assert total.during_offences > total.before_offences > total.after_offences
    # ...yet fewer per offender-month, which the seed's table cannot show.
    assert total.during_offences_per_offender_month < total.before_offences_per_offender_month
    assert total.current_members == 6501


def test_programme_reads_only_the_years_it_needs_with_the_same_result(force_engine, force_con):
    from iom.evaluation.programmes import evaluate_programme

    trimmed = evaluate_programme(force_engine, name="oocd-vs-charge", follow_up_months=12)
    assert trimmed == evaluate_programme(con=force_con, name="oocd-vs-charge", follow_up_months=12)
    assert trimmed.groups[0].n > 60 and trimmed.comparisons[0].verdict
