"""Breach of orders and licences: the record on the timeline, and the central team's queue."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="breach",
    cli=("iom.breach.cli:register",),
    routers=("iom.breach.routes:pages", "iom.breach.routes:api"),
    timeline=("iom.breach.views:timeline",),
    record_parts=(RecordPart(name="breaches", schema="iom.breach.schemas:BreachPart", build="iom.breach.views:for_record",
                             label="Breaches", tab_template="breach/record_tab.html"),),
    synth_steps=("iom.breach.synth:step",),
    nav=(("/breaches", "Breaches", "read_people"),),
    templates=True,
)
