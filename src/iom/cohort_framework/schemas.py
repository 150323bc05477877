"""What the cohort framework returns: the reset review, exit proposals, officers' loads,
allocations and consistency across LOMUs."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from iom.http.schemas import Text


class LapsedMember(BaseModel):
    membership_id: int
    person_id: int
    pseudo_id: str
    lomu_code: str | None
    classification: str
    adopted_on: dt.date
    why: str = Field(description="Why the classification's rules no longer hold")
    eligible_instead: str | None = Field(description="The classification the person is eligible for now, if any")


class ResetReview(BaseModel):
    as_of: dt.date
    lomu: str | None
    rules_version: str
    members_checked: int
    people_checked: int
    lapsed: list[LapsedMember]

    def summary(self) -> str:
        people = len({m.person_id for m in self.lapsed})
        return (f"reset review: {len(self.lapsed):,} of {self.members_checked:,} memberships "
                f"({people:,} people) no longer meet their classification's eligibility")


class ExitProposal(BaseModel):
    person_id: int
    pseudo_id: str
    lomu_code: str | None
    classifications: list[str]
    reasons: list[str]


class ExitProposals(BaseModel):
    as_of: dt.date
    lomu: str | None
    rules_version: str
    members_checked: int
    proposals: list[ExitProposal]

    def summary(self) -> str:
        return f"de-selection: {len(self.proposals):,} of {self.members_checked:,} members proposed for exit"


class OfficerLoad(BaseModel):
    lomu_code: str
    officer: str
    cases: int
    points: int
    capacity: int
    overridden: bool = Field(description="A supervisor has allocated over capacity, with a reason")

    @property
    def over(self) -> bool:
        return self.points > self.capacity

    @property
    def share(self) -> float:
        return self.points / self.capacity


class Workload(BaseModel):
    as_of: dt.date
    lomu: str | None
    rules_version: str
    officers: list[OfficerLoad]
    unallocated: dict[str, int]

    def summary(self) -> str:
        over = sum(o.over for o in self.officers)
        return (f"{len(self.officers):,} officers, {sum(o.cases for o in self.officers):,} cases allocated, "
                f"{sum(self.unallocated.values()):,} unallocated; {over:,} over capacity")


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer: Text | None = Field(default=None, max_length=80, description="Default: the officer with most room")
    reason: Text | None = Field(default=None, max_length=2000, description="Needed to go over capacity")


class AllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    lomu_code: str
    officer: str
    allocated_on: dt.date
    points: int
    load_before: int
    capacity: int
    over_capacity_reason: str | None


class UnitConsistency(BaseModel):
    lomu_code: str | None
    members: int
    officers: int
    members_per_officer: float | None
    months: int
    adopted: int
    exited: int
    adoption_rate: float | None
    exit_rate: float | None
    lapsed: int
    lapsed_share: float | None
