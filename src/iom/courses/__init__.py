"""Courses: the force's commissioned intervention courses as a catalogue (data), referrals to
them through the referral lifecycle (from a disposal's condition, a plan or a voluntary
route), places and waiting, completion (Table C), and the groups their evaluations read
from the register: suitable controls, completers and breaches, or a trial's allocation."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="courses",
    cli=("iom.courses.cli:register",),
    routers=("iom.courses.routes:pages", "iom.courses.routes:api"),
    synth_steps=("iom.courses.synth:step",),
    nav=(("/courses", "Courses", "read_people"),),
    templates=True,
)
