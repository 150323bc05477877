"""MAPPA: categories and levels over time, panels and their schedule, ViSOR and the
partnering officer; a current MAPPA record is what makes a record's fields restricted."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="mappa",
    restricted_people=("iom.mappa.service:restricted_people",),
)
