"""A random register held as frames (no database): enough people for programmes to evaluate."""

from __future__ import annotations

import pytest

from iom.analytics.sample import random_register
from iom.analytics.source import from_frames


@pytest.fixture(scope="session")
def random_frames():
    return random_register()


@pytest.fixture
def random_con(random_frames):
    return from_frames(random_frames)
