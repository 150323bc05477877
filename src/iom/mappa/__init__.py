"""MAPPA: categories and levels over time, panels and their schedule, ViSOR and the
partnering officer; a current MAPPA record is what makes a record's fields restricted."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="mappa",
    cli=("iom.mappa.cli:register",),
    routers=("iom.mappa.routes:pages", "iom.mappa.routes:api"),
    timeline=("iom.mappa.views:timeline",),
    record_parts=(RecordPart(name="mappa", schema="iom.mappa.schemas:MappaPartOrNone", build="iom.mappa.views:for_record",
                             label="MAPPA", tab_template="mappa/record_tab.html"),),
    attention=("iom.mappa.views:attention",),
    restricted_people=("iom.mappa.service:restricted_people",),
    synth_steps=("iom.mappa.synth:step",),
    nav=(("/mappa/due", "MAPPA panels", "read_restricted"),),
    template_filters=(("mappa_category", "iom.mappa.schemas:category_label"),
                      ("mappa_level", "iom.mappa.schemas:level_label")),
    templates=True,
)
