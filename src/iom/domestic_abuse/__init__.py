"""Domestic abuse: the monthly serial-perpetrator list (RFGV-ranked), DASH, MARAC referrals
and repeat MARAC, SARA v3 and SAM (structure only), the pilot cohort, and DRIVE and CARA
referrals. Read by offender managers in their scope and by analysts under pseudonyms; every
read is audited."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="domestic_abuse",
    cli=("iom.domestic_abuse.cli:register",),
    routers=("iom.domestic_abuse.routes:pages", "iom.domestic_abuse.routes:api"),
    timeline=("iom.domestic_abuse.views:timeline",),
    record_parts=(RecordPart(name="domestic_abuse", schema="iom.domestic_abuse.schemas:DaPartOrNone",
                             build="iom.domestic_abuse.views:for_record", label="Domestic abuse",
                             tab_template="domestic_abuse/record_tab.html"),),
    synth_steps=("iom.domestic_abuse.synth:step",),
    nav=(("/da/list", "DA monthly list", "read_domestic_abuse"),),
    templates=True,
)
