"""Every installed domain's tables, imported so ``Base.metadata`` is complete (Alembic,
tests): each domain in ``iom.plugins.INSTALLED`` that has a ``models`` module."""

import importlib
import importlib.util

from iom.db import Base
from iom.plugins import INSTALLED

for _package in INSTALLED:
    if importlib.util.find_spec(f"{_package}.models") is not None:
        importlib.import_module(f"{_package}.models")

metadata = Base.metadata
