"""A referral's lifecycle, after the MoJ "refer and monitor an intervention" service:

    draft → sent → accepted → in progress (sessions) → completed | ended early
    cancelled from draft, sent or accepted (before the first session)

The machine is declared with python-statemachine, which checks the graph when the class is
built (every state reachable, final states final) and refuses any event its state has no
transition for; this module only puts its refusals into words."""

from __future__ import annotations

from types import SimpleNamespace

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from iom.errors import UserError


class ReferralLifecycle(StateMachine):
    draft = State("draft", initial=True, value="draft")
    sent = State("sent", value="sent")
    accepted = State("accepted", value="accepted")
    in_progress = State("in progress", value="in progress")
    completed = State("completed", final=True, value="completed")
    ended_early = State("ended early", final=True, value="ended early")
    cancelled = State("cancelled", final=True, value="cancelled")

    # ``send`` is the machine's own method: the event that sends a referral is ``send_out``.
    send_out = draft.to(sent)
    accept = sent.to(accepted)
    start = accepted.to(in_progress)
    record_session = in_progress.to.itself()
    complete = in_progress.to(completed)
    end_early = in_progress.to(ended_early)
    cancel = draft.to(cancelled) | sent.to(cancelled) | accepted.to(cancelled)


#: What a user asks for (CLI, API, forms) → the machine's event.
EVENTS = {"send": "send_out", "accept": "accept", "start": "start", "session": "record_session",
          "complete": "complete", "end": "end_early", "cancel": "cancel"}
#: Actions that change the status (a session keeps it).
TRANSITIONS = ("send", "accept", "start", "complete", "end", "cancel")
STATUSES = tuple(s.value for s in ReferralLifecycle.states)
FINAL = frozenset(s.value for s in ReferralLifecycle.final_states)
#: The date column each status change stamps.
STAMPS = {"send": "sent_on", "accept": "accepted_on", "start": "started_on", "complete": "ended_on",
          "end": "ended_on", "cancel": "ended_on"}

#: (status, action) → status, read off the machine once: for code that walks many referrals at
#: a time (the synthetic step) without building a machine per step.
TABLE = {(t.source.value, action): t.target.value
         for state in ReferralLifecycle.states for t in state.transitions
         for action, event in EVENTS.items() if event == t.event}

_DONE = {"send": "sent", "accept": "accepted", "start": "started", "session": "given a session",
         "complete": "completed", "end": "ended early", "cancel": "cancelled"}
_A_REFERRAL = {"draft": "a draft referral", "sent": "a sent referral", "accepted": "an accepted referral",
               "in progress": "a referral in progress", "completed": "a completed referral",
               "ended early": "a referral that ended early", "cancelled": "a cancelled referral"}
_ACTION_WORDS = {"send": "sent", "accept": "accepted", "start": "started", "session": "given sessions",
                 "complete": "completed", "end": "ended early", "cancel": "cancelled"}


def machine(status: str) -> ReferralLifecycle:
    """The lifecycle standing at ``status`` (on a throwaway model: nothing is changed)."""
    return ReferralLifecycle(model=SimpleNamespace(status=status), state_field="status")


def allowed(status: str) -> list[str]:
    """The actions a referral at ``status`` allows, in lifecycle order."""
    events = {e.id for e in machine(status).allowed_events}
    return [action for action, event in EVENTS.items() if event in events]


def after(status: str, action: str) -> str:
    """The status ``action`` leads to from ``status``, or a refusal in words
    ("a completed referral cannot be sent")."""
    if action not in EVENTS:
        raise UserError(f"no action {action!r}: choose one of {', '.join(EVENTS)}")
    if status not in STATUSES:
        raise UserError(f"a referral cannot be in status {status!r}")
    lifecycle = machine(status)
    try:
        lifecycle.send(EVENTS[action])
    except TransitionNotAllowed:
        raise UserError(refusal(status, action)) from None
    return lifecycle.model.status


def refusal(status: str, action: str) -> str:
    can = [_ACTION_WORDS[a] for a in allowed(status)]
    hint = ("it has ended, so nothing more can change" if status in FINAL else
            "from here it can be " + (", ".join(can[:-1]) + " or " if len(can) > 1 else "") + can[-1])
    return f"{_A_REFERRAL[status]} cannot be {_DONE[action]} ({hint})"
