"""An out-of-court disposal's life:

    proposed → authorised → issued → complied
                                   → breached → prosecuted (2017 conditional caution; 2022 diversionary caution)
                                              → penalty    (2022 community caution)
    withdrawn from proposed or authorised

Declared with python-statemachine, which checks the graph when the class is built and refuses
any event its state has no transition for; which consequence a breach has is the tier's
(``rules.Tier.breach``), checked in ``service``."""

from __future__ import annotations

from types import SimpleNamespace

from statemachine import State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from iom.errors import UserError


class DisposalLifecycle(StateMachine):
    proposed = State("proposed", initial=True, value="proposed")
    authorised = State("authorised", value="authorised")
    issued = State("issued", value="issued")
    complied = State("complied", final=True, value="complied")
    breached = State("breached", value="breached")
    prosecuted = State("prosecuted", final=True, value="prosecuted")
    penalty = State("penalty", final=True, value="penalty")
    withdrawn = State("withdrawn", final=True, value="withdrawn")

    authorise = proposed.to(authorised)
    issue = authorised.to(issued)
    comply = issued.to(complied)
    breach = issued.to(breached)
    prosecute = breached.to(prosecuted)
    fine = breached.to(penalty)
    withdraw = proposed.to(withdrawn) | authorised.to(withdrawn)


ACTIONS = ("authorise", "issue", "comply", "breach", "prosecute", "fine", "withdraw")
STATUSES = tuple(s.value for s in DisposalLifecycle.states)
FINAL = frozenset(s.value for s in DisposalLifecycle.final_states)
#: (status, action) → status, read off the machine once (for the synthetic step).
TABLE = {(t.source.value, t.event): t.target.value for state in DisposalLifecycle.states for t in state.transitions}

_DONE = {"authorise": "authorised", "issue": "issued", "comply": "marked complied", "breach": "marked breached",
         "prosecute": "sent for prosecution", "fine": "given a financial penalty", "withdraw": "withdrawn"}


def machine(status: str) -> DisposalLifecycle:
    return DisposalLifecycle(model=SimpleNamespace(status=status), state_field="status")


def allowed(status: str) -> list[str]:
    events = {e.id for e in machine(status).allowed_events}
    return [a for a in ACTIONS if a in events]


def after(status: str, action: str) -> str:
    """The status ``action`` leads to, or a refusal in words."""
    if action not in ACTIONS:
        raise UserError(f"no action {action!r}: choose one of {', '.join(ACTIONS)}")
    if status not in STATUSES:
        raise UserError(f"a disposal cannot be {status!r}")
    lifecycle = machine(status)
    try:
        lifecycle.send(action)
    except TransitionNotAllowed:
        can = [_DONE[a] for a in allowed(status)]
        hint = ("it has ended, so nothing more can change" if status in FINAL else
                "from here it can be " + " or ".join(can) if can else "nothing can follow it")
        raise UserError(f"a disposal that is {status} cannot be {_DONE[action]} ({hint})") from None
    return lifecycle.model.status
