"""Diversion: out-of-court disposals under the NPCC 2017 tiers or the 2022 Act's (a policy as
data), the decision with its rule-by-rule eligibility, conditions that may refer to a provider,
the lifecycle to compliance or breach and its consequence, Table A from the records, and the
scrutiny panel's seeded dip samples and verdicts."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="diversion",
    cli=("iom.diversion.cli:register",),
    routers=("iom.diversion.routes:pages", "iom.diversion.routes:api"),
    live_timeline=("iom.diversion.views:timeline",),
    record_parts=(RecordPart(name="diversion", schema="iom.diversion.schemas:DiversionPartOrNone",
                             build="iom.diversion.views:for_record", kept=False, label="Diversion",
                             tab_template="diversion/record_tab.html"),),
    synth_steps=("iom.diversion.synth:step",),
    referral_followers=("iom.diversion.service:follow_referral",),
    nav=(("/oocd", "Out-of-court disposals", "read_people"), ("/scrutiny", "Scrutiny panel", "scrutinise_oocd")),
    template_filters=(("oocd_choices", "iom.diversion.views:form_choices"),),
    templates=True,
)
