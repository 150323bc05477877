"""The cohort framework: eligibility per classification (Fixed, Flex and Free), the
classification selection proposes, de-selection and the reset review, allocation to officers
by workload."""

from iom.plugins import Domain

DOMAIN = Domain(
    name="cohort_framework",
    cli=("iom.cohort_framework.cli:register",),
    routers=("iom.cohort_framework.routes:pages", "iom.cohort_framework.routes:api"),
    nav=(("/cohorts/officers", "Officers", "manage_cohort"),),
    templates=True,
)
