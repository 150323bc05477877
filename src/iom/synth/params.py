"""Calibration targets and generator parameters, with where each comes from.

Published figures (``PUBLISHED_*``) are reproduced exactly at the reference date; the rest
are modelling assumptions, named so a force can see and change them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

#: The date of the published cohort figures (seed paper 000 §18-19, "Mar 2019").
REFERENCE_DATE = dt.date(2019, 3, 31)
DEFAULT_PEOPLE = 200_000
HISTORY_YEARS = 10
#: At or above this population the published cohort is reproduced exactly; below it the
#: cohort targets shrink in proportion, so small test forces stay plausible.
FULL_COHORT_POPULATION = 20_000

PUBLISHED_MEMBERS = 6_501
PUBLISHED_RISK = {"High": 614, "Medium": 1_164, "Low": 4_723}
PUBLISHED_CLASSIFICATIONS = {
    "BURGLARY": 4_047,
    "ROBBERY": 4_107,
    "VEHICLE": 4_539,
    "MSV": 5_690,
    "OCG": 382,
    "USG": 320,
    "PPO": 380,
    "DYO": 78,
    "HCCU": 14,
    "MAPPA": 296,
}
#: Seed paper 000 §25: IOM offenders per NPU. These add to 5,710, not 6,501: the current
#: cohort is shared out in proportion.
PUBLISHED_NPU_OFFENDERS = {
    "WS": 910, "WV": 1_106, "SW": 801, "DY": 613, "SH": 363,
    "CV": 364, "BE": 850, "BW": 338, "BN": 146, "BS": 219,
}
#: Table A (seed paper 000 §38): out-of-court disposals by financial year. The 2017/18
#: parts are used (they add to 8,260; the published total says 7,764).
PUBLISHED_OOCD = {
    2017: {"adult_caution": 3_269, "adult_cr": 3_126, "youth_caution": 610, "youth_cr": 1_255},
    2018: {"adult_caution": 2_399, "adult_cr": 2_818, "youth_caution": 329, "youth_cr": 841},
}
#: Share of adult cautions that are conditional (assumption; Table A does not split them).
CONDITIONAL_SHARE_OF_ADULT_CAUTIONS = 0.25

#: Mean recorded crimes per offender over ten years, outside DA incidents (1.43M / 200k).
MEAN_GENERAL_CRIMES = 7.15

#: Offence families: share of recorded crime among offenders (assumption shaped on ONS
#: police-recorded crime by offence group) and the catalogue codes within each family.
FAMILIES: dict[str, tuple[float, dict[str, float]]] = {
    "theft": (0.26, {"046/01": 0.45, "049/09": 0.18, "049/01": 0.07, "039/01": 0.06, "040/01": 0.05,
                     "044/01": 0.02, "054/01": 0.08, "053/01": 0.05, "053/07": 0.01, "061/01": 0.03}),
    "burglary": (0.07, {"028/01": 0.55, "030/01": 0.30, "030/02": 0.08, "028/04": 0.04, "029/01": 0.03}),
    "vehicle": (0.06, {"045/01": 0.45, "048/01": 0.25, "126/01": 0.12, "037/02": 0.06, "058/02": 0.12}),
    "robbery": (0.025, {"034/01": 0.80, "034/02": 0.18, "034/HC": 0.02}),
    "violence": (0.28, {"105/01": 0.45, "008/06": 0.22, "008/01": 0.04, "005/01": 0.02, "008/20": 0.06,
                        "008/30": 0.03, "008/41": 0.06, "008/40": 0.03, "008/50": 0.02, "008/51": 0.01,
                        "008/90": 0.04, "008/81": 0.015, "002/00": 0.002, "004/01": 0.001, "001/00": 0.001}),
    "weapons": (0.03, {"010/01": 0.75, "010/02": 0.15, "081/02": 0.07, "081/01": 0.03}),
    "drugs": (0.08, {"092/07": 0.45, "092/06": 0.20, "092/04": 0.20, "092/05": 0.10, "092/01": 0.04, "092/10": 0.01}),
    "public_order": (0.06, {"125/10": 0.30, "125/01": 0.25, "009/01": 0.20, "066/01": 0.15, "062/01": 0.03,
                            "009/HC": 0.03, "125/HC": 0.03, "125/05": 0.01}),
    "damage": (0.08, {"058/09": 0.55, "058/01": 0.30, "056/02": 0.08, "056/01": 0.02, "058/HC": 0.05}),
    "sexual": (0.015, {"017/04": 0.40, "088/01": 0.15, "086/01": 0.20, "019/07": 0.15, "020/01": 0.07, "019/16": 0.03}),
    "other": (0.035, {"802/01": 0.35, "805/01": 0.25, "804/01": 0.10, "080/01": 0.20, "099/01": 0.05,
                      "096/01": 0.03, "099/05": 0.02}),
    "hate": (0.005, {"105/HC": 0.35, "008/H6": 0.15, "008/HC": 0.03, "008/4H": 0.15, "008/9H": 0.12,
                     "NC/HI1": 0.20}),
}
#: DA incidents (crime and non-crime) between partners or family members.
DA_OFFENCES = {
    "105/DA": 0.30, "NC/DA1": 0.20, "NC/DA2": 0.15, "008/D6": 0.08, "008/4D": 0.05, "008/79": 0.06,
    "058/DA": 0.06, "008/3D": 0.02, "008/5D": 0.02, "008/80": 0.04, "008/10": 0.02, "008/DA": 0.005,
    "005/DA": 0.002, "019/DA": 0.008, "001/DA": 0.0002,
}
#: Which offence family each offence-based classification leans on, and by how much.
CLASSIFICATION_FAMILIES = {
    "BURGLARY": {"burglary": 0.25},
    "ROBBERY": {"robbery": 0.20},
    "VEHICLE": {"vehicle": 0.25},
    "MSV": {"violence": 0.20, "weapons": 0.06},
    "OCG": {"drugs": 0.25, "weapons": 0.08},
    "USG": {"weapons": 0.12, "violence": 0.10},
    "PPO": {"theft": 0.20, "burglary": 0.10},
    "DYO": {"theft": 0.10, "damage": 0.10},
    "HCCU": {"theft": 0.25, "drugs": 0.15},
    "MAPPA": {"sexual": 0.30, "violence": 0.10},
}
#: IOM effect on an adopted person's offending rate (assumption): a rise in the six months
#: that lead to adoption, a fall while managed, and a lower rate after exit.
RATE_BEFORE_ADOPTION = 1.6
RATE_DURING = 0.65
RATE_AFTER_EXIT = 0.40
#: Outcome probabilities by gravity (charge, caution, conditional caution, community
#: resolution, NFA): assumptions shaped on Home Office outcome statistics.
OUTCOME_BY_GRAVITY = {
    1: (0.10, 0.07, 0.01, 0.20, 0.62),
    2: (0.22, 0.08, 0.03, 0.10, 0.57),
    3: (0.35, 0.05, 0.03, 0.02, 0.55),
    4: (0.55, 0.01, 0.00, 0.00, 0.44),
}
#: ONS 2021 ethnicity shares among the force's offenders (assumption, West Midlands shape).
ETHNICITY_SHARES = {
    "W_BRI": 0.60, "W_IRI": 0.01, "W_GYP": 0.005, "W_ROM": 0.005, "W_OTH": 0.03,
    "A_PAK": 0.08, "A_IND": 0.035, "A_BAN": 0.02, "A_CHI": 0.003, "A_OTH": 0.012,
    "B_CAR": 0.05, "B_AFR": 0.035, "B_OTH": 0.01,
    "M_WBC": 0.04, "M_WBA": 0.005, "M_WAS": 0.005, "M_OTH": 0.01,
    "O_ARA": 0.005, "O_OTH": 0.01, "NS": 0.025,
}
#: Probability of each vulnerability marker for (other offenders, IOM members).
MARKER_RATES = {
    "MENTAL_HEALTH": (0.15, 0.35),
    "SUBSTANCE_MISUSE": (0.20, 0.45),
    "HOMELESSNESS": (0.05, 0.12),
    "CARE_LEAVER": (0.04, 0.15),
    "LEARNING_DISABILITY": (0.03, 0.06),
    "EXPLOITATION": (0.01, 0.04),
}
#: Where the lead-agency rule allows more than one agency (medium or low risk: CRC or
#: police), the one the generator picks by risk level (assumption).
PREFERRED_LEAD_AGENCY = {"Medium": "Probation provider (CRC)", "Low": "Police"}

# --- Casework (iom.casework.synth): needs, plan actions, risk reviews ----------------------
# No figure in the seed papers gives how common each need is, how plans are kept or how
# late reviews run: every number below is an assumption unless it names a paragraph.

#: Needs assessments: every managed offender has one (seed paper 000 §66, "a needs
#: assessment is completed with each offender"; 002 §27), made within a fortnight of adoption
#: (assumption) and repeated about once a year while managed (assumption).
NEEDS_FIRST_WITHIN_DAYS = 14
NEEDS_REASSESSMENT_DAYS = 365
NEEDS_REASSESSMENT_JITTER_DAYS = 30
#: Non-members assessed: this share of the offenders never in the cohort who were given a
#: conditional caution or community resolution in the two years to the as-of date (000 §66-67
#: and §86: the PIPT assesses those offered an out-of-court disposal; the share is assumed).
NON_MEMBER_ASSESSED_SHARE = 0.3
NON_MEMBER_LOOKBACK_DAYS = 730
#: Per pathway, the chance of a (standard, severe) need for (non-members, members). Members
#: are chosen for persistent offending, so every member rate is at least the non-member one;
#: accommodation and ETE rank high among needs (002 §12, §27); shapes otherwise assumed.
NEED_RATES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "accommodation": ((0.12, 0.04), (0.22, 0.10)),
    "ete": ((0.30, 0.08), (0.40, 0.18)),
    "health": ((0.18, 0.05), (0.28, 0.10)),
    "drugs": ((0.14, 0.05), (0.28, 0.14)),
    "alcohol": ((0.15, 0.05), (0.20, 0.08)),
    "finance": ((0.22, 0.05), (0.32, 0.10)),
    "children_families": ((0.12, 0.04), (0.18, 0.07)),
    "attitudes": ((0.35, 0.08), (0.45, 0.22)),
    "abuse_sex_work": ((0.15, 0.05), (0.25, 0.10)),
}
#: A pathway missing from NEED_RATES (a force's own pathways file): this rate for everyone.
NEED_RATE_OTHER = (0.15, 0.05)
#: A vulnerability marker in force on the assessment day raises the pathway it bears on to at
#: least a standard need, and to severe with this chance (assumption: the marker is evidence).
MARKER_NEEDS: dict[str, tuple[str, float]] = {
    "HOMELESSNESS": ("accommodation", 0.60),
    "SUBSTANCE_MISUSE": ("drugs", 0.40),
    "CLASS_A": ("drugs", 0.80),
    "MENTAL_HEALTH": ("health", 0.40),
    "DA_VICTIM": ("abuse_sex_work", 0.30),  # the women's pathway: rated for women only
}
#: Between one assessment and the next, the chance a need falls one level (met or eased by
#: the plan) or rises one (assumption: support works slowly, setbacks are rarer).
NEED_EASES = 0.25
NEED_WORSENS = 0.05
#: Case plans balance Control and Change (000 §12). At each assessment a rated need gets a
#: Change action with this chance by level, and the plan gets 1 + Poisson(mean) Control
#: actions (assumption).
CHANGE_ACTION_CHANCE = {"standard": 0.6, "severe": 0.9}
CONTROL_ACTIONS_EXTRA_MEAN = 0.6
#: Days from an action's creation to its due date (uniform, assumption).
ACTION_DUE_DAYS = {"change": (28, 120), "control": (14, 60)}
#: Status shares (done, cancelled, in progress, open) of actions from the latest assessment
#: that fell due before the as-of date (the open and in-progress ones are overdue), of those
#: not yet due, and of those from an assessment since superseded (assumption).
ACTION_STATUS_PAST_DUE = (0.80, 0.08, 0.08, 0.04)
ACTION_STATUS_NOT_DUE = (0.10, 0.02, 0.48, 0.40)
ACTION_STATUS_SUPERSEDED = (0.88, 0.12, 0.0, 0.0)
#: A done Change action's outcome: achieved, partly achieved, not achieved (the grades of the
#: MoJ interventions service's end-of-service report, domain.md; shares assumed).
CHANGE_OUTCOME_SHARES = (0.55, 0.30, 0.15)
#: Share of done Control actions that found a breach (assumption).
CONTROL_BREACH_SHARE = 0.10
#: Risk reviews follow the interval for the level in force (cohorts/data/review-intervals-v1.toml).
#: A review is on time within this many days of its due date, either side; this share is
#: held late, by a uniform number of days in the range (assumption: no published figure).
REVIEW_ON_TIME_DAYS = 7
REVIEW_LATE_SHARE = 0.15
REVIEW_LATE_DAYS = (8, 45)
#: Of Low-risk members adopted a year or more ago, the share whose latest review recommends
#: exit from the cohort (assumption; 000 names exit reasons, not their rate).
REVIEW_EXIT_RECOMMENDED_SHARE = 0.03

# --- Referrals (iom.referrals.synth) ---------------------------------------------------------
# Modelling assumptions, none published: the seed papers give no referral volumes or outcomes.
#: Share of people with a MENTAL_HEALTH marker who are also on their GP's Serious Mental
#: Illness register or under a community mental health team (the SMI_REGISTER marker, which
#: Better Pathways needs). About one in five: SMI is a minority of offenders' mental ill-health.
SMI_SHARE_OF_MENTAL_HEALTH = 0.20
#: Share of current cohort members referred at least once in the year before the date, and
#: of everyone else (a few: voluntary referrals after a charge or NFA, out-of-court disposals).
REFERRED_MEMBER_SHARE = 0.45
REFERRED_OTHER_SHARE = 0.004
#: Referrals made in this many days before the date.
REFERRAL_WINDOW_DAYS = 365
#: Further referrals per referred person (Poisson mean; at most MAX_REFERRALS_PER_PERSON).
EXTRA_REFERRALS_MEAN = 0.4
MAX_REFERRALS_PER_PERSON = 3
#: How a referral was made: the case plan, an out-of-court disposal, voluntarily, other.
REFERRAL_SOURCES = {"plan": 0.70, "oocd": 0.15, "voluntary": 0.10, "other": 0.05}
#: Pathway weights before needs: a pathway rated standard or severe in the latest needs
#: assessment (or, without one, suggested by a marker) weighs NEEDED_PATHWAY_BOOST times more.
PATHWAY_WEIGHTS = {"ete": 1.0, "finance": 0.6, "attitudes": 0.8, "accommodation": 0.5, "health": 0.5, "drugs": 0.6,
                   "alcohol": 0.4, "children_families": 0.3, "abuse_sex_work": 0.3}
NEEDED_PATHWAY_BOOST = 5.0
#: The lifecycle's chances and delays (days, low and high inclusive).
CANCELLED_AS_DRAFT = 0.02     # cancelled before it was sent
LEFT_AS_DRAFT = 0.03          # never sent (still a draft on the date)
SEND_DAYS = (0, 3)
DECLINED_WHEN_SENT = 0.10     # cancelled after sending (the provider declined, or the person did)
ACCEPT_DAYS = (2, 14)
CANCELLED_WHEN_ACCEPTED = 0.06
START_DAYS = (3, 21)
SESSIONS_PLANNED = (4, 10)
SESSION_GAP_DAYS = (5, 10)
#: Chance a referral in progress ends early, after a share of its planned sessions.
ENDED_EARLY = 0.22
END_DAYS = (1, 7)
ATTENDANCE = {"attended": 0.72, "late": 0.10, "did not attend": 0.18}
BEHAVIOUR_NOTE_SHARE = 0.3
#: End-of-service grades (achieved, partly, not) of each desired outcome.
OUTCOMES_COMPLETED = (0.55, 0.30, 0.15)
OUTCOMES_ENDED_EARLY = (0.10, 0.30, 0.60)

# --- MAPPA (iom.mappa.synth) ------------------------------------------------------------------


@dataclass(frozen=True)
class MappaRates:
    """Modelling assumptions, none published for the seed force. Shares are shaped on the
    national MAPPA annual reports as recalled, not checked (most MAPPA-eligible people are
    category 1, about a quarter category 2, few category 3; few are managed at level 2 or 3),
    with more at level 2 or 3 here because an IOM cohort holds the riskier cases (seed paper
    000 §17: risk offenders are managed at level 2 or 3)."""

    #: Category shares (1, 2, 3, 4) by the person's offender type; "other" for the rest.
    category_shares: dict[str, tuple[float, float, float, float]] = field(default_factory=lambda: {
        "Sex Offender Management": (0.92, 0.05, 0.03, 0.00),
        "Risk": (0.10, 0.78, 0.10, 0.02),
        "other": (0.25, 0.65, 0.10, 0.00),
    })
    #: Level shares (1, 2, 3) by offender type: "Risk" cases are the level-2/3 ones (000 §14, §17).
    level_shares: dict[str, tuple[float, float, float]] = field(default_factory=lambda: {
        "Risk": (0.55, 0.35, 0.10),
        "other": (0.80, 0.16, 0.04),
    })
    #: Share of level-2 and level-3 cases that began a level lower and were raised later, no
    #: sooner than ``raise_after_days`` after adoption and at least two weeks before the end.
    raised_share: float = 0.25
    raise_after_days: int = 28
    #: Chairing agency of level-2/3 category-1 cases: the police chair the sex offender panels
    #: (seed paper 000 §17).
    sexual_chair: str = "Police"
    #: Chairing agency shares for the other categories (assumption: probation leads most).
    other_chairs: dict[str, float] = field(default_factory=lambda: {
        "National Probation Service": 0.85, "Police": 0.10, "Prison Service": 0.05})
    #: Share of each category holding a ViSOR reference: every registered sexual offender;
    #: most violent offenders (seed paper 000 §28: ViSOR records for MAPPA 1 violent offenders
    #: were being created from 2019); half the rest.
    visor_shares: dict[int, float] = field(default_factory=lambda: {1: 1.0, 2: 0.8, 3: 0.5, 4: 0.5})
    #: Days after a level is set to its first panel (uniform, inclusive).
    first_panel_days: tuple[int, int] = (0, 21)
    #: A panel held on time falls this many days either side of its due date ...
    on_time_days: tuple[int, int] = (-7, 3)
    #: ... while this share of panels slip, late by a uniform number of days in the range.
    late_share: float = 0.40
    late_days: tuple[int, int] = (7, 49)
    #: What a panel records (fictional, generic).
    outcomes: tuple[str, ...] = (
        "risk management plan reviewed; level confirmed",
        "actions agreed between police and probation; level confirmed",
        "licence conditions and restrictions reviewed; level confirmed",
        "victim safety measures reviewed; level confirmed",
    )


MAPPA_RATES = MappaRates()


# --- Domestic abuse (iom.domestic_abuse.synth): DASH, MARAC, SARA v3 and SAM -----------------
# The seed papers give no DASH or MARAC figures for the force: every number is an assumption
# unless it names a source.

@dataclass(frozen=True)
class DaRates:
    """Modelling assumptions for DASH, MARAC referrals and SARA/SAM records."""

    #: DASH is completed for DA incidents recorded from this many days before the as-of date.
    dash_lookback_days: int = 3 * 365
    #: Share of DA incidents with a victim for which a DASH is recorded (assumption: most, not all,
    #: are completed; some victims decline).
    dash_share: float = 0.70
    #: Days from recording to the DASH (uniform, inclusive).
    dash_days: tuple[int, int] = (0, 2)
    #: Chance each question is answered "yes", by the incident's gravity (1-4), and "not known".
    #: Shaped so that about one DASH in eight is high risk (assumption, near SafeLives' national
    #: MARAC-referral share as recalled, not checked).
    yes_chance: dict[int, float] = field(default_factory=lambda: {1: 0.22, 2: 0.30, 3: 0.42, 4: 0.55})
    #: A further incident against the same victim raises each answer's chance by this much.
    yes_chance_per_repeat: float = 0.04
    not_known_chance: float = 0.05
    #: Share of standard- and medium-band DASH raised one band by professional judgement.
    judgement_raise_share: float = 0.04
    judgement_reasons: tuple[str, ...] = (
        "Recent escalation reported by the IDVA not reflected in the answers",
        "Victim minimised the abuse; the officer's observations indicate higher risk",
        "Perpetrator's history with previous partners indicates higher risk",
    )
    #: Relationship of each perpetrator-victim pair (domain.md; the generator's DA incidents are
    #: between partners or family members).
    intimate_partner_share: float = 0.80
    #: Share of high-band DASH referred to MARAC (assumption: nearly all), days to the referral,
    #: and the share of medium-band DASH referred on professional judgement.
    marac_high_share: float = 0.95
    marac_days: tuple[int, int] = (0, 7)
    marac_judgement_share: float = 0.05
    marac_judgement_reasons: tuple[str, ...] = (
        "Officer's judgement: controlling behaviour escalating after separation",
        "Children at risk in the household; victim frightened of further harm",
    )
    #: No second referral for a victim within this many days of the last (the same case).
    marac_min_gap_days: int = 28
    referring_agencies: dict[str, float] = field(default_factory=lambda: {
        "Police": 0.72, "Independent domestic violence adviser (IDVA)": 0.14, "Children's social care": 0.05,
        "Health": 0.04, "Probation": 0.03, "Housing": 0.02})
    #: The SARA/SAM pilot (seed paper 000 §23-24): share of the as-of month's pilot cohort with a
    #: SARA v3 record, the share of those still drafts, and the share of the cohort also
    #: assessed with SAM (those with stalking in their history; assumption).
    sara_share: float = 0.60
    draft_share: float = 0.20
    sam_share: float = 0.15
    #: Days before the as-of date a pilot assessment was made (uniform, inclusive).
    spj_days: tuple[int, int] = (1, 60)


DA_RATES = DaRates()


# --- Diversion (iom.diversion.synth): out-of-court disposals and the scrutiny panel ---------
# Volumes follow Table A exactly (the crimes' outcomes are calibrated to it); the rest are
# assumptions unless they name a source.

@dataclass(frozen=True)
class DiversionRates:
    """Modelling assumptions for decisions, conditions, compliance and the scrutiny panel."""

    #: Disposals are recorded from this date: conditional cautions began in the force in 2016
    #: (seed paper 000 §30).
    records_from: dt.date = dt.date(2016, 4, 1)
    #: Days from decision to issue (uniform, inclusive).
    decide_days: tuple[int, int] = (0, 2)
    #: Share of crimes with a victim whose views are recorded (the weapons panel asked for
    #: victims' views to be recorded, 000 §87: not always done).
    victim_views_share: float = 0.85
    victim_views: tuple[str, ...] = (
        "Victim supports an out-of-court disposal and wants an apology",
        "Victim does not wish to support a prosecution; content with a conditional caution",
        "Victim wants compensation for the damage",
        "Victim satisfied with a restorative approach",
    )
    #: Share of community resolutions with a reparative condition, and their deadline (days).
    cr_condition_share: float = 0.70
    cr_due_days: int = 28
    #: Conditional cautions: a rehabilitative condition always, a reparative one in this share;
    #: deadline in days (16 weeks).
    cc_reparative_share: float = 0.40
    cc_due_days: int = 112
    #: Share complied with by the deadline (seed paper 000 §55 reports completion and breach of
    #: conditional cautions by course; this overall share is an assumption).
    cr_complied_share: float = 0.92
    cc_complied_share: float = 0.82
    #: Days before the deadline a complied condition was completed (uniform, inclusive).
    complied_days_early: tuple[int, int] = (1, 60)
    #: Days from a breach to the prosecution decision (uniform, inclusive).
    prosecute_days: tuple[int, int] = (7, 30)
    rehabilitative: tuple[str, ...] = (
        "Attend the Alcohol Related Violence course", "Attend the Victim Awareness Course",
        "Attend an assessment with the Drug Intervention Programme", "Attend CARA workshops",
        "Attend an appointment with Liaison and Diversion",
    )
    reparative: tuple[str, ...] = (
        "Write a letter of apology to the victim", "Pay compensation for the damage",
        "Repair the damage caused", "Meet the victim in a restorative justice conference",
    )
    #: The scrutiny panels the paper reports (000 §87): category, panel month, sample size
    #: (assumed), share appropriate (published), the seed, and the actions set (published).
    panels: tuple[tuple[str, str, int, float, int, tuple[str, ...]], ...] = (
        ("hate", "2018-05", 50, 0.86, 501, ("Positive prosecution policy for hate crime circulated",
                                            "Inspector's authority required for community resolutions",
                                            "Youth cases to be referred to the Youth Offending Service")),
        ("sexual", "2018-10", 36, 0.89, 502, ("Youth Crime Officers to market their services to the Sexual "
                                              "Offences Investigation Teams",)),
        ("serious_assault", "2019-01", 40, 0.85, 503, ("Record the victim's views and the rationale for the "
                                                        "disposal decision",)),
        ("weapons", "2019-06", 50, 0.72, 504, ("Solihull YOS to train investigators on the Youth Offending "
                                               "Service's offer", "Guidance re-circulated on young people found in "
                                                                  "possession of weapons")),
    )
    #: Of the disposals found appropriate, the share with comments (assumption).
    with_comments_share: float = 0.30


DIVERSION_RATES = DiversionRates()


# --- Courses (iom.courses.synth) -----------------------------------------------------------------
# Each course's referrals as cohorts: a fate (completed, breached = ended early, withdrawn =
# cancelled before it started, control = suitable but not referred, or a trial's control arm),
# how many (at the default 200,000 people; scaled with the force), the window the index date
# falls in, and where the evaluation publishes them, the people in the cohort with each
# follow-up outcome in the 12 months after. Sizes: Table C (000 §45) for referrals and
# completions; Tables D, E (24-month group sizes: the first quarter's referrals), F and G for
# the groups whose follow-up is complete by the reference date. Where a published group is
# split across two windows, its outcome counts are split by the ratio of the windows' sizes.
# The remaining referrals (made after the evaluated windows, or withdrawn) complete Table C.

@dataclass(frozen=True)
class CourseCohort:
    fate: str
    n: int
    start: dt.date
    end: dt.date
    outcomes: dict[str, int] = field(default_factory=dict)
    #: Why a control was not referred (recorded with it).
    reason: str = ""


def _cohort(fate, n, start, end, reason="", **outcomes):
    return CourseCohort(fate, n, dt.date.fromisoformat(start), dt.date.fromisoformat(end), outcomes, reason)


#: Referrals end at least this many days before the reference date, so each has ended by then.
COURSE_LAST_REFERRAL_DAYS = 60
COURSE_COHORTS: dict[str, tuple[CourseCohort, ...]] = {
    "arv": (
        _cohort("control", 315, "2016-01-01", "2016-12-31", "assessed as suitable before the course began",
                reoffend=124, violent=108, alcohol=40),
        _cohort("control", 3, "2017-04-01", "2018-03-31", "no place on a course within the month",
                reoffend=0, violent=0, alcohol=0),
        _cohort("completed", 48, "2017-01-01", "2017-03-31", reoffend=4, violent=3, alcohol=1),
        _cohort("completed", 116, "2017-04-01", "2018-03-31", reoffend=11, violent=7, alcohol=2),
        _cohort("breached", 23, "2017-01-01", "2017-03-31", reoffend=11, violent=10, alcohol=3),
        _cohort("breached", 64, "2017-04-01", "2018-03-31", reoffend=29, violent=26, alcohol=6),
        _cohort("withdrawn", 30, "2017-01-01", "2018-03-31"),
        _cohort("completed", 258, "2018-04-01", "2019-03-31"),
        _cohort("breached", 100, "2018-04-01", "2019-03-31"),
        _cohort("withdrawn", 42, "2018-04-01", "2019-03-31"),
    ),
    # The trial: the control arm's cohort is the allocations the seed's blocks put in control.
    "cara": (
        _cohort("control", 49, "2017-07-01", "2018-03-31", reoffend=10, da_offence=1, da_incident=14),
        _cohort("completed", 54, "2017-07-01", "2018-03-31", reoffend=1, da_offence=0, da_incident=10),
        _cohort("breached", 16, "2017-07-01", "2018-03-31", reoffend=7, da_offence=5, da_incident=4),
        _cohort("withdrawn", 4, "2017-07-01", "2018-03-31"),
        _cohort("completed", 227, "2018-04-01", "2019-03-31"),
        _cohort("breached", 70, "2018-04-01", "2019-03-31"),
        _cohort("withdrawn", 30, "2018-04-01", "2019-03-31"),
    ),
    "arda": (
        _cohort("control", 134, "2017-01-01", "2017-06-30", "assessed as suitable before the course began",
                reoffend=40, da_offence=12, da_incident=16),
        _cohort("completed", 20, "2017-07-01", "2018-03-31", reoffend=2, da_offence=0, da_incident=2),
        _cohort("breached", 35, "2017-07-01", "2018-03-31", reoffend=3, da_offence=1, da_incident=13),
        _cohort("withdrawn", 10, "2017-07-01", "2018-03-31"),
        _cohort("completed", 85, "2018-04-01", "2018-08-15"),
        _cohort("breached", 50, "2018-04-01", "2018-08-15"),
        _cohort("withdrawn", 29, "2018-04-01", "2018-08-15"),
    ),
    # Consider: 90% of 36 cannot be had; 32 of 36 (88.9%) is the nearest.
    "consider": (
        _cohort("completed", 32, "2018-04-01", "2019-03-31"),
        _cohort("breached", 2, "2018-04-01", "2019-03-31"),
        _cohort("withdrawn", 2, "2018-04-01", "2019-03-31"),
    ),
    "vac": (
        _cohort("completed", 211, "2018-04-01", "2019-03-31"),
        _cohort("breached", 52, "2018-04-01", "2019-03-31"),
        _cohort("withdrawn", 30, "2018-04-01", "2019-03-31"),
    ),
}
#: The trial's seed (searched from this one for a block sequence whose first evaluated window
#: holds the published 49 control and 74 course allocations).
COURSE_TRIAL_SEED = 2017
#: Days from the index offence's record to the referral or assessment (uniform, inclusive).
COURSE_INDEX_DAYS = (3, 30)
COURSE_ACCEPT_DAYS = (1, 7)
COURSE_START_DAYS = (7, 35)
#: Two sessions (two weeknights; a Saturday is one long session recorded twice), days apart.
COURSE_SESSION_GAP_DAYS = (1, 7)
COURSE_ROUTES = {"oocd": 0.0, "plan": 0.35, "voluntary": 0.65}
#: Cohorts starting on or after this day are not evaluated (their 12-month follow-up is not complete).
COURSE_LATER_FROM = dt.date(2018, 4, 1)


# --- breach of orders and licences (iom.breach.synth) ----------------------------------------
# Modelling assumptions, none published: the seed papers say the central IOM team processes
# breach (000 §13) but give no volumes.

@dataclass(frozen=True)
class BreachRates:
    #: Of current members supervised by probation or the YOT (an order or a licence), the share
    #: with a breach in the two years before the reference date.
    breach_share: float = 0.18
    #: Share of those with a second breach.
    second_share: float = 0.25
    licence_share: float = 0.45
    natures: dict[str, float] = field(default_factory=lambda: {
        "non-compliance": 0.3, "missed appointment": 0.35, "further offence": 0.15, "re-arrest": 0.1,
        "condition broken": 0.1})
    #: The action by nature of the order: a licence is mostly recalled, an order mostly taken to court.
    licence_actions: dict[str, float] = field(default_factory=lambda: {"warning": 0.3, "recall": 0.6, "warrant": 0.1})
    order_actions: dict[str, float] = field(default_factory=lambda: {"warning": 0.45, "court": 0.45, "warrant": 0.1})
    #: Days from a breach to its outcome; a breach more recent than the outcome is still open.
    outcome_days: tuple[int, int] = (7, 120)
    #: Custody after a recall or a court breach, and its length in days.
    custody_share: float = 0.5
    custody_days: tuple[int, int] = (28, 540)


BREACH_RATES = BreachRates()
