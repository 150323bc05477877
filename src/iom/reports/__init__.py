"""Board report: self-contained HTML with charts rendered to inline images (no network)."""

from iom.plugins import Domain

DOMAIN = Domain(name="reports", cli=("iom.reports.cli:register",))
