"""Every domain's tables, imported so ``Base.metadata`` is complete (Alembic, tests).

A new domain adds its ``models`` module here."""

from iom.db import Base
from iom.register import models as register_models  # noqa: F401
from iom.cohorts import models as cohorts_models  # noqa: F401
from iom.scoring import models as scoring_models  # noqa: F401
from iom.security import models as security_models  # noqa: F401

metadata = Base.metadata
