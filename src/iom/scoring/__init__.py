"""Scoring and selection: the RFG(V) + harm matrix, vulnerability, OGRS3, the force-trained
model, explanations, selection lists within capacity, overrides and the fairness audit."""

from iom.plugins import Domain, RecordPart

DOMAIN = Domain(
    name="scoring",
    cli=("iom.scoring.cli:register",),
    routers=("iom.scoring.routes:pages", "iom.scoring.routes:api"),
    live_timeline=("iom.scoring.views:override_events",),
    attention=("iom.scoring.views:attention",),
    record_parts=(RecordPart(name="scores", schema="iom.scoring.views:ScoreList", build="iom.scoring.views:record_scores",
                             default=[], template="scoring/record_scores_summary.html", label="Scores",
                             tab_template="scoring/record_scores.html"),),
    nav=(("/selection", "Selection review", "read_people"), ("/approvals", "Approvals", "read_people"),
         ("/fairness", "Fairness", "review_fairness")),
    templates=True,
)
