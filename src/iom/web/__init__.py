"""The web shell: app factory, middleware, error pages, sign-in, the audit log's pages, base templates, `iom serve`.
Every page and endpoint beyond sign-in comes from a domain's ``Domain.routers``."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="web",
    cli=("iom.web.cli:register",),
    routers=("iom.web.api:router", "iom.web.routes:router", "iom.web.audit:pages", "iom.web.audit:api",
             "iom.web.users:pages"),
    nav=(("/audit", "Audit log", "read_audit"), ("/admin/users", "Users", "manage_users")),
    template_filters=(("audit_detail", "iom.web.audit:readable_detail"),),
    templates=True,
)
