"""The review loop as data: states, who may move a case from where to where, outcomes.

待交办 → 已交办 → 核查中 → 已反馈 → 审核 → 已销号; 退回 sends a case back to 核查中 with a
reason; 挂起 parks it until a date; a closed case reopens only with a second person's approval.
The store (store.py) enforces these; nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass

PENDING, ASSIGNED, VERIFYING, REPORTED, REVIEWING, CLOSED, SUSPENDED = (
    "待交办", "已交办", "核查中", "已反馈", "审核", "已销号", "挂起")
STATES = (PENDING, ASSIGNED, VERIFYING, REPORTED, REVIEWING, CLOSED, SUSPENDED)
OPEN_STATES = (PENDING, ASSIGNED, VERIFYING, REPORTED, REVIEWING)

COUNTY_ADMIN, COUNTY_REVIEWER, TOWNSHIP_VERIFIER, LEADER = (
    "county_admin", "county_reviewer", "township_verifier", "leader")
ROLES = {COUNTY_ADMIN: "县管理员", COUNTY_REVIEWER: "县审核员", TOWNSHIP_VERIFIER: "乡镇核查员", LEADER: "领导"}
COUNTY = (COUNTY_ADMIN, COUNTY_REVIEWER)

CONFIRMED, PARTLY, REFUTED, UNVERIFIABLE = "属实", "部分属实", "不属实", "无法核实"
OUTCOMES = (CONFIRMED, PARTLY, REFUTED, UNVERIFIABLE)
MEASURES = ("停发", "追缴", "移送")

# The old CLI vocabulary (fw_reviews.status) for an outcome, so the scan reads one language.
OUTCOME_AS_REVIEW = {CONFIRMED: "confirmed", PARTLY: "confirmed", REFUTED: "cleared", UNVERIFIABLE: "in_progress"}

# 办理时限: days from 交办 to 销号 per programme, unless the settings say otherwise.
DEFAULT_DUE_DAYS = {"dibao": 30, "subsidy": 30, "housing": 45, "cooperative": 60, "cross": 45}


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name, a role, and for a township role its township code (9 digits)."""

    username: str
    role: str
    township: str | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")
        if self.role == TOWNSHIP_VERIFIER and not self.township:
            raise ValueError(f"a {ROLES[self.role]} needs a township")

    @property
    def county_wide(self) -> bool:
        return self.role != TOWNSHIP_VERIFIER


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change (reassign, reopen request)
    roles: tuple[str, ...]
    needs_reason: bool = False


TRANSITIONS = {t.action: t for t in (
    Transition("assign", (PENDING,), ASSIGNED, COUNTY),
    Transition("reassign", (ASSIGNED, VERIFYING), None, COUNTY, needs_reason=True),
    Transition("start", (ASSIGNED,), VERIFYING, (TOWNSHIP_VERIFIER,)),
    Transition("feedback", (VERIFYING,), REPORTED, (TOWNSHIP_VERIFIER,), needs_reason=True),
    Transition("begin_review", (REPORTED,), REVIEWING, COUNTY),
    Transition("return", (REPORTED, REVIEWING), VERIFYING, COUNTY, needs_reason=True),
    Transition("close", (REVIEWING,), CLOSED, COUNTY, needs_reason=True),
    Transition("suspend", OPEN_STATES, SUSPENDED, COUNTY, needs_reason=True),
    Transition("resume", (SUSPENDED,), None, COUNTY),  # back to the state it was suspended from
    Transition("request_reopen", (CLOSED,), None, COUNTY, needs_reason=True),
    Transition("approve_reopen", (CLOSED,), VERIFYING, COUNTY),
)}


def label(state_or_role: str) -> str:
    return ROLES.get(state_or_role, state_or_role)
