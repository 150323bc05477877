"""The force-trained model: strict cut-off (leakage), calibrated output, report beside OGRS3."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from iom.errors import UserError
from iom.scoring import model as model_mod
from iom.scoring import service
from iom.scoring.config import load_config
from iom.scoring.data import Register, day_number, load_register
from iom.scoring.schemas import ModelReport

CONFIG = load_config()
CUTOFF = dt.date(2017, 9, 30)


def _tampered(reg: Register, cutoff: dt.date) -> Register:
    """The same register with its future rewritten: every outcome reached after the cut-off
    flipped, and a proven offence added after the cut-off for everyone."""
    c = reg.crimes.copy()
    after = c["outcome_on"] > day_number(cutoff)
    c["proven"][after] = 1 - c["proven"][after]
    extra = reg.crimes[np.unique(reg.crimes["person_id"], return_index=True)[1]].copy()
    extra["id"] += 10_000_000
    extra["committed"] = day_number(cutoff) + 30
    extra["recorded"] = day_number(cutoff) + 31
    extra["outcome_on"] = day_number(cutoff) + 60
    extra["proven"] = 1
    extra["offender"] = 1
    return Register(crimes=np.concatenate([c, extra]), people=reg.people, markers=reg.markers)


def leaks(reg: Register, cutoff: dt.date) -> bool:
    """True if anything after ``cutoff`` changes the training rows or the fitted model."""
    X1, y1 = model_mod.training_frame(reg, cutoff, CONFIG)
    X2, y2 = model_mod.training_frame(_tampered(reg, cutoff), cutoff, CONFIG)
    if not X1.equals(X2) or not np.array_equal(y1, y2):
        return True
    probe = model_mod.features(reg, reg.crimes, cutoff)
    p1 = model_mod.train(reg, cutoff, CONFIG).predict(probe)
    p2 = model_mod.train(_tampered(reg, cutoff), cutoff, CONFIG).predict(probe)
    return not np.array_equal(p1, p2)


def test_training_uses_nothing_after_the_cutoff(db_session, small_register):
    reg = load_register(db_session, CONFIG)
    assert _tampered(reg, CUTOFF).crimes.shape != reg.crimes.shape  # the tampering is real
    assert not leaks(reg, CUTOFF)


def test_the_leakage_check_fails_when_the_cutoff_is_ignored(db_session, small_register, monkeypatch):
    reg = load_register(db_session, CONFIG)
    monkeypatch.setattr(model_mod, "visible_at", lambda crimes, cutoff: crimes.copy())
    assert leaks(reg, CUTOFF)


def test_validation_people_are_held_out_of_training(db_session, small_register):
    reg = load_register(db_session, CONFIG)
    X, _ = model_mod.training_frame(reg, CUTOFF, CONFIG)
    assert not model_mod.held_out(X.index.to_numpy()).any()
    assert model_mod.held_out(np.arange(1, 1001)).mean() == pytest.approx(0.3, abs=0.05)


def test_report_compares_both_models_on_the_same_held_out_people(db_session, small_register):
    row = service.train_model(db_session, cutoff=CUTOFF)
    report = json.loads(row.report)
    # model_report gives the typed report (a dict before the scoring service adopts it)
    assert ModelReport.model_validate(report) == ModelReport.model_validate(service.model_report(db_session))
    both = report["models"]
    assert set(both) == {"force model", "OGRS3 (1 year)"}
    n = report["held_out_people"]
    for name, m in both.items():
        assert 0 <= m["brier"] <= 1 and 0 <= m["auc"] <= 1
        assert sum(d["people"] for d in m["calibration"]) == n
        assert len(m["calibration"]) == 10
    # calibrated probabilities: the mean prediction sits near the observed rate
    assert abs(both["force model"]["mean_predicted"] - report["observed_rate"]) < 0.15
    assert both["force model"]["auc"] > 0.6


def test_report_refuses_an_incomplete_follow_up(db_session, small_register):
    reg = load_register(db_session, CONFIG)
    trained = model_mod.train(reg, dt.date(2019, 3, 31), CONFIG)
    with pytest.raises(UserError, match="follow-up after cut-off 2019-03-31 is incomplete"):
        model_mod.evaluate(reg, trained, CONFIG, dt.date(2019, 4, 5))


def test_report_is_typed_with_a_summary(db_session, small_register):
    reg = load_register(db_session, CONFIG)
    trained = model_mod.train(reg, CUTOFF, CONFIG)
    report = model_mod.evaluate(reg, trained, CONFIG, service.reference_date_or_none(db_session))
    assert isinstance(report, ModelReport)
    text = report.summary()
    assert text.startswith(f"Validation at cut-off 2017-09-30 on {report.held_out_people:,} held-out people")
    assert "force model AUC 0." in text and "OGRS3 (1 year) AUC 0." in text
    dumped = report.model_dump(mode="json")
    assert dumped["cutoff"] == "2017-09-30" and set(dumped["models"]) == {"force model", "OGRS3 (1 year)"}
    assert ModelReport.model_validate_json(json.dumps(dumped)) == report
    # What service stores: the JSON form, set from the typed report.
    trained.report = report
    assert trained.validation == report and trained.report == dumped
