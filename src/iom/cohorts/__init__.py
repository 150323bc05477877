"""IOM cohorts: classifications, membership over time, risk and management histories."""

from iom.plugins import Domain

DOMAIN = Domain(name="cohorts", reference_tables="iom.cohorts.reference_tables:REFERENCE_TABLES")
