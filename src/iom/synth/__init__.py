"""The synthetic force: fictional people and ten years of crime, calibrated to published figures."""

from iom.plugins import Domain

DOMAIN = Domain(name="synth", cli=("iom.synth.cli:register",))
