"""The `iom` command: refusals exit 2 with the rule's words on stderr (the real command, in a
subprocess); a referral goes through its whole life from the console (in process, where a
refusal is the UserError that the command prints before exiting 2)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from iom.cli import app
from iom.errors import UserError
from iom.referrals.models import Referral, ReferralEvent
from iom.security.models import AuditEvent

DAY = ["--as-of", "2019-03-31"]


@pytest.fixture
def cli(scratch_db, cast):
    """``cli(*args)`` -> (stdout, the UserError a refusal raised or None), in this process."""
    runner = CliRunner()

    def run(*args: str, refused: bool = False) -> tuple[str, UserError | None]:
        done = runner.invoke(app, ["--db", scratch_db.url, *args], standalone_mode=False, catch_exceptions=True)
        if done.exception is not None and not isinstance(done.exception, UserError):
            raise done.exception
        assert (done.exception is not None) == refused, done.output or done.exception
        return done.output, done.exception

    return run


def _referrals(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Referral))


def test_a_17_year_old_is_refused_thrive_into_work_with_the_rules_words(iom, cast, web_db):
    done = iom("refer", str(cast.youth), "--provider", "thrive-into-work", "--pathway", "ete", "--reason",
               "Out of work", *DAY)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Thrive into Work takes adults aged 18 or over" in done.stderr
    assert "Traceback" not in done.stderr and "living in" not in done.stderr  # BW: the area rule holds
    assert _referrals(web_db[0]) == 0


def test_a_walsall_resident_is_refused_thrive_into_work_with_the_rules_words(iom, cast, web_db):
    done = iom("refer", str(cast.walsall), "--provider", "thrive-into-work", "--pathway", "ete", "--reason",
               "Out of work", *DAY)
    assert done.returncode == 2
    assert "Thrive into Work takes people living in the Birmingham West, Dudley or Sandwell NPUs" in done.stderr
    assert "aged 18" not in done.stderr
    assert _referrals(web_db[0]) == 0


def test_a_pathway_the_provider_does_not_serve_is_refused(cli, cast):
    _, refused = cli("refer", str(cast.bw_adult), "--provider", "thrive-into-work", "--pathway", "drugs", "--reason", "x",
                     *DAY, refused=True)
    assert "does not take referrals for drugs" in str(refused)
    _, unknown = cli("refer", str(cast.bw_adult), "--provider", "nobody", "--pathway", "ete", "--reason", "x", *DAY,
                     refused=True)
    assert "no provider 'nobody'" in str(unknown)


def test_a_referral_through_its_whole_life_at_the_console(cli, iom, cast, web_db):
    made, _ = cli("refer", str(cast.bw_adult), "--provider", "thrive-into-work", "--pathway", "ete", "--reason",
                  "Out of work since the summer", "--outcome", "Finds paid work", "--outcome", "Writes a CV", "--send",
                  "--json", *DAY)
    referral = json.loads(made)
    rid = str(referral["id"])
    assert referral["status"] == "sent" and referral["version"] == 2 and referral["created_on"] == "2019-03-31"
    cli("referral", "accept", rid, "--version", "2", *DAY)
    # a stale version, at the real command: exit 2 and both versions named
    stale = iom("referral", "start", rid, "--version", "2", *DAY)
    assert stale.returncode == 2 and "you had version 2, it is now version 3" in stale.stderr
    cli("referral", "start", rid, "--version", "3", *DAY)
    _, early = cli("referral", "complete", rid, "--outcome", "Finds paid work=achieved", "--outcome",
                   "Writes a CV=partly", *DAY, refused=True)
    assert "at least one session attended" in str(early)
    cli("referral", "session", rid, "--on", "2019-03-31", "--attendance", "did-not-attend", *DAY)
    cli("referral", "session", rid, "--on", "2019-03-31", "--attendance", "attended", "--behaviour", "Keen", *DAY)
    _, missing = cli("referral", "complete", rid, "--outcome", "Finds paid work=achieved", *DAY, refused=True)
    assert "Writes a CV" in str(missing)
    done, _ = cli("referral", "complete", rid, "--outcome", "Finds paid work=achieved", "--outcome", "Writes a CV=partly",
                  "--json", *DAY)
    final = json.loads(done)
    assert final["status"] == "completed" and final["version"] == 7 and final["allowed_actions"] == []
    assert [(o["desired_outcome"], o["achievement"]) for o in final["outcomes"]] == [
        ("Finds paid work", "achieved"), ("Writes a CV", "partly")]
    assert [s["attendance"] for s in final["sessions"]] == ["did not attend", "attended"]
    _, again = cli("referral", "send", rid, *DAY, refused=True)
    assert str(again).startswith("a completed referral cannot be sent")
    with Session(web_db[0]) as session:
        events = session.scalars(select(ReferralEvent.to_status).where(ReferralEvent.referral_id == int(rid))
                                 .order_by(ReferralEvent.id)).all()
        assert events == ["draft", "sent", "accepted", "in progress", "in progress", "in progress", "completed"]
        writes = session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "write", AuditEvent.resource == "referral"))
        assert writes == 6  # made (and sent), accept, start, two sessions, complete: refusals write nothing
    shown, _ = cli("referral", "show", rid, *DAY)
    assert "completed" in shown and "Writes a CV: partly" in shown
    listed, _ = cli("referral", "list", str(cast.bw_adult), "--status", "completed", *DAY)
    assert f"#{rid}" in listed and "1 referrals" in listed


def test_cancel_and_end_need_a_reason(cli, cast):
    made = json.loads(cli("refer", str(cast.bw_adult), "--provider", "mind", "--pathway", "health", "--reason",
                          "Low mood", "--json", *DAY)[0])
    rid = str(made["id"])
    assert made["status"] == "draft"
    _, no_reason = cli("referral", "cancel", rid, "--reason", "  ", *DAY, refused=True)
    assert str(no_reason) == "say why the referral is cancelled"
    cancelled = json.loads(cli("referral", "cancel", rid, "--reason", "Declined", "--json", *DAY)[0])
    assert cancelled["status"] == "cancelled" and cancelled["end_reason"] == "Declined"
    assert cancelled["ended_on"] == "2019-03-31"


def test_providers_lists_each_rule_in_words(cli):
    listed = json.loads(cli("providers", "--json")[0])
    thrive = next(p for p in listed["providers"] if p["code"] == "thrive-into-work")
    assert {"kind": "min_age", "words": "Thrive into Work takes adults aged 18 or over"} in thrive["rules"]
    text = " ".join(cli("providers")[0].split())
    assert "No Wrong Door takes people with multiple needs" in text and listed["version"] in text
