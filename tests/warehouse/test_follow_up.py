"""The courses' follow-up outcomes (``iom.warehouse.follow_up``) at the window's edges."""

from __future__ import annotations

import datetime as dt

from iom.dates import months_after
from iom.warehouse import follow_up

D = dt.date


def test_the_window_is_after_the_index_day_up_to_its_end_inclusive():
    index = D(2020, 1, 31)
    end = months_after(index, 1)
    assert end == D(2020, 2, 29)
    cases = [(0, 1, index, end), (1, 2, index, end), (2, 3, index, end)]
    records = [
        # person, committed, is_crime, violent, alcohol, da
        (1, index, True, False, False, False),            # on the index day: not after it
        (1, D(2020, 2, 10), False, False, False, True),   # a DA incident that was not a crime
        (1, end, True, True, True, False),                # on the last day: counted
        (1, D(2020, 3, 1), True, False, False, True),     # after the end
        (2, D(2020, 2, 1), True, False, False, True),
        (2, D(2020, 2, 20), True, True, False, False),
    ]
    out = follow_up.outcomes_of(cases, records).set_index("case_no")
    one, two, three = out.loc[0], out.loc[1], out.loc[2]
    assert (one.reoffend, one.violent, one.alcohol, one.da_offence, one.da_incident) == (True, True, True, False, True)
    assert one.days == (end - index).days
    assert (two.reoffend, two.violent, two.alcohol, two.da_offence, two.da_incident) == (True, True, False, True, False)
    assert two.days == 1
    assert not three[list(follow_up.OUTCOMES)].any() and three.isna()["days"]
    assert list(out.index) == [0, 1, 2]
