"""Users, roles, unit scoping and the append-only audit log."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="security",
    cli=("iom.security.cli:register",),
)
