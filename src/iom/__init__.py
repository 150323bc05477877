"""IOM: Integrated Offender Management and diversion for UK police forces."""

__version__ = "0.1.0"
