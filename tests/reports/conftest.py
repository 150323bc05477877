from __future__ import annotations

import datetime as dt

import pytest

from iom.analytics.sample import random_register
from iom.analytics.source import from_frames


@pytest.fixture(scope="session")
def report_path(tmp_path_factory):
    """One report built from a random register of 1,500 people (shared by this module)."""
    from iom.reports.paper import build_report

    con = from_frames(random_register(seed=2, people=1500))
    return build_report(tmp_path_factory.mktemp("report"), con=con, as_of=dt.date(2018, 12, 31),
                        programmes=("oocd-vs-charge", "iom-mappa"))
