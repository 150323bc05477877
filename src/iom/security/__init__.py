"""Users, roles, unit scoping and the append-only audit log."""
