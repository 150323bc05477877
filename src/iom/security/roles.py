"""What each role may do. Checked by the services, never by the routes alone."""

from __future__ import annotations

from dataclasses import dataclass

OFFENDER_MANAGER = "offender_manager"
SUPERVISOR = "supervisor"
ANALYST = "analyst"
MAPPA_SPECIALIST = "mappa_specialist"
ADMINISTRATOR = "administrator"
#: Someone at the console with database access (``iom`` commands): every permission a person
#: record has, never pseudonymised. Not a role a user account can hold.
CONSOLE = "console"

PERMISSIONS: dict[str, frozenset[str]] = {
    OFFENDER_MANAGER: frozenset({"read_people", "write_notes", "write_casework", "propose_override",
                                 "read_domestic_abuse"}),
    SUPERVISOR: frozenset({"read_people", "write_notes", "write_casework", "manage_cohort", "propose_override",
                           "approve_override", "review_fairness", "read_domestic_abuse", "authorise_oocd",
                           "scrutinise_oocd"}),
    ANALYST: frozenset({"read_people", "pseudonymised", "review_fairness", "read_domestic_abuse", "scrutinise_oocd"}),
    MAPPA_SPECIALIST: frozenset({"read_people", "write_notes", "write_casework", "read_restricted",
                                 "read_domestic_abuse"}),
    ADMINISTRATOR: frozenset({"read_audit", "manage_users"}),
    CONSOLE: frozenset({"read_people", "write_notes", "write_casework", "manage_cohort", "propose_override",
                        "approve_override", "read_restricted", "review_fairness", "read_domestic_abuse",
                        "authorise_oocd", "scrutinise_oocd"}),
}

#: Whose records each role reaches: one LOMU's, the whole force's, or nobody's.
SCOPES: dict[str, str] = {
    OFFENDER_MANAGER: "lomu",
    SUPERVISOR: "lomu",
    ANALYST: "force",
    MAPPA_SPECIALIST: "force",
    ADMINISTRATOR: "none",
    CONSOLE: "force",
}
#: Roles a user account may hold, and those of them that must name a LOMU.
USER_ROLES = (OFFENDER_MANAGER, SUPERVISOR, ANALYST, MAPPA_SPECIALIST, ADMINISTRATOR)
LOMU_ROLES = tuple(role for role in USER_ROLES if SCOPES[role] == "lomu")

LABELS = {
    OFFENDER_MANAGER: "Offender manager",
    SUPERVISOR: "Supervisor",
    ANALYST: "Analyst",
    MAPPA_SPECIALIST: "MAPPA / sex-offender specialist",
    ADMINISTRATOR: "Administrator",
    CONSOLE: "Console (iom command)",
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a logged-in user, or a named system actor for the CLI."""

    username: str
    role: str
    lomu_code: str | None = None
    user_id: int | None = None
    #: The officer management records name for this user (their own caseload), if linked.
    officer: str | None = None
    session_epoch: int = 0

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def scope(self) -> str:
        """``"lomu"``, ``"force"`` or ``"none"``: see ``SCOPES``."""
        return SCOPES.get(self.role, "none")

    @property
    def pseudonymised(self) -> bool:
        return self.can("pseudonymised")

    @property
    def label(self) -> str:
        return LABELS.get(self.role, self.role)


def console_user() -> str:
    """The operating-system account running this process, from its own uid where the system
    has one (``$USER``, which ``getpass.getuser`` reads first, can be set to anything)."""
    import getpass
    import os

    try:
        import pwd

        name = pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):
        name = ""
    if not name.strip():
        try:
            name = getpass.getuser()
        except Exception:  # noqa: BLE001 (no name at all: say which account it was)
            name = ""
    return name.strip()[:64] or f"uid {os.getuid() if hasattr(os, 'getuid') else 'unknown'}"


def cli_actor(username: str | None = None) -> Principal:
    """The actor for a command run at the console: someone with database access, named as
    they say (``--user``), else the operating-system account; never empty."""
    return Principal(username=(username or "").strip() or console_user(), role=CONSOLE)
