"""Casework: needs over the pathways, Control/Change case plans, risk reviews, adoption to and
exit from the cohort, and the lead-agency check, plugged into the case file."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="casework",
    cli=("iom.casework.cli:register", "iom.casework.checks_cli:register_checks"),
    routers=("iom.casework.routes:pages", "iom.casework.routes:api"),
    live_timeline=("iom.casework.service:timeline",),
    record_parts=(RecordPart(name="casework", schema="iom.casework.schemas:Casework", build="iom.casework.service:for_record",
                             kept=False, label="Case plan", tab_template="casework/record_tab.html"),),
    attention=("iom.casework.views:attention",),
    nav=(("/casework/overdue", "Overdue actions", "read_people"),),
    template_filters=(("choices", "iom.register.labels:choices"),),
    synth_steps=("iom.casework.synth:step",),
    templates=True,
)
