"""Casework: needs over the pathways, Control/Change case plans, risk reviews, adoption to and
exit from the cohort, and the lead-agency check, plugged into the case file."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="casework",
    cli=("iom.casework.checks_cli:register_checks",),
    synth_steps=("iom.casework.synth:step",),
)
