"""Evaluation engine: treatment against control with honest uncertainty (Justice Data Lab
style): rates with intervals, survival, matched comparison, randomisation and return on
investment. Works on any table; the register supplies groups through ``programmes``."""

from iom.plugins import Domain

DOMAIN = Domain(name="evaluation", cli=("iom.evaluation.cli:register",))
