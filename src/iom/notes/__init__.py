"""Free-text notes on a person's record: written by offender managers and specialists, never
shown to pseudonymised readers (free text may name people)."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="notes",
    cli=("iom.notes.cli:register",),
    routers=("iom.notes.routes:pages", "iom.notes.routes:api"),
    live_timeline=("iom.notes.service:timeline",),
    record_parts=(RecordPart(name="notes", schema="iom.notes.schemas:NoteList", build="iom.notes.service:for_record",
                             kept=False, template="notes/record_notes.html"),),
    templates=True,
)
