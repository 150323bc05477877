"""Referrals to partners and providers: the directory with its eligibility rules, and each
referral's lifecycle (sent, accepted, sessions, completed or ended)."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="referrals",
    cli=("iom.referrals.cli:register",),
    routers=("iom.referrals.routes:pages", "iom.referrals.routes:api"),
    live_timeline=("iom.referrals.service:timeline",),
    record_parts=(RecordPart(name="referrals", schema="iom.referrals.schemas:ReferralList",
                             build="iom.referrals.service:for_record", default=[], kept=False, label="Referrals",
                             tab_template="referrals/record_referrals.html"),),
    nav=(("/providers", "Providers", "read_people"),),
    synth_steps=("iom.referrals.synth:step",),
    templates=True,
)
