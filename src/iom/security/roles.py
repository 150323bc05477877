"""What each role may do. Checked by the services, never by the routes alone."""

from __future__ import annotations

from dataclasses import dataclass

OFFENDER_MANAGER = "offender_manager"
SUPERVISOR = "supervisor"
ANALYST = "analyst"
MAPPA_SPECIALIST = "mappa_specialist"
ADMINISTRATOR = "administrator"

PERMISSIONS: dict[str, frozenset[str]] = {
    OFFENDER_MANAGER: frozenset({"read_people", "write_notes", "propose_override"}),
    SUPERVISOR: frozenset({"read_people", "write_notes", "propose_override", "approve_override"}),
    ANALYST: frozenset({"read_people", "pseudonymised"}),
    MAPPA_SPECIALIST: frozenset({"read_people", "write_notes", "read_restricted"}),
    ADMINISTRATOR: frozenset({"read_audit", "manage_users"}),
}

LABELS = {
    OFFENDER_MANAGER: "Offender manager",
    SUPERVISOR: "Supervisor",
    ANALYST: "Analyst",
    MAPPA_SPECIALIST: "MAPPA / sex-offender specialist",
    ADMINISTRATOR: "Administrator",
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a logged-in user, or a named system actor for the CLI."""

    username: str
    role: str
    lomu_code: str | None = None
    user_id: int | None = None
    session_epoch: int = 0

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def pseudonymised(self) -> bool:
        return self.can("pseudonymised")

    @property
    def label(self) -> str:
        return LABELS.get(self.role, self.role)


def cli_actor(username: str = "cli") -> Principal:
    """The audit log's actor for a command run at the console: someone with database access,
    named as they say (``--user``, default ``$USER``), acting with administrator rights."""
    return Principal(username=username, role=ADMINISTRATOR)
