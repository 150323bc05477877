"""The case file: a person's record (summary, timeline, every domain's parts), the caseload
and the unit dashboard, read only through audited, scoped access (``access.Access``)."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="casefile",
    cli=("iom.casefile.cli:register",),
    routers=("iom.casefile.routes:pages", "iom.casefile.routes:api", "iom.casefile.routes:person_api"),
    nav=(("/caseload", "Caseload", "read_people"), ("/dashboard", "Dashboard", "read_people")),
    template_filters=(("code_name", "iom.register.labels:code_name"),),
    templates=True,
)
