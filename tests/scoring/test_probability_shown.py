"""Model probabilities read as percentages wherever they are printed (issue 15 item 6)."""

from __future__ import annotations

import re

from sqlalchemy import select

from iom.formatting import probability
from iom.scoring import service
from iom.scoring.models import Score
from tests.scoring.conftest import AS_OF


def test_an_explanation_gives_the_model_probability_as_a_percentage(db_session, small_register):
    run = service.score_all(db_session, as_of=AS_OF, train=True)
    scored = db_session.scalars(select(Score).where(Score.run_id == run.id, Score.risk.is_not(None)).limit(3)).all()
    assert scored, "the small register trains a model, so someone has a probability"
    for score in scored:
        e = service.explain(db_session, person_id=score.person_id, as_of=AS_OF)
        label = next(p.label for p in e.parts if p.score == "composite" and p.factor == "risk")
        assert f"(probability {probability(e.risk)})" in label
        assert re.search(r"\(probability (under 1%|over 99%|\d{1,2}%)\)", label), label


def test_the_edges_are_said_in_words():
    assert [probability(p) for p in (0.004, 0.37, 0.995, None)] == ["under 1%", "37%", "over 99%", "–"]
