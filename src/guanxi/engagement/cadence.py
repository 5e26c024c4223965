"""The cadence rules (C6), as pure functions of a policy and a customer's recent contacts.

A requirement "at least ``count`` contacts of ``kind`` every ``period_days`` days" is met on day
``as_of`` when at least ``count`` such contacts fall in the window ``(as_of - period_days, as_of]``.
A contact on day ``d`` counts until day ``d + period_days`` (exclusive), so the requirement is due
on ``d_k + period_days`` where ``d_k`` is the ``count``-th most recent qualifying contact. Without
enough contacts it is due one period after ``since`` (the customer came under the policy).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

CONTACT = "contact"
KEEP = 40  # dates kept per kind in the summary (enough for any count and the 30-day maximum)

# the seeds' minimums (大客户管理: 分级维护机制): (kind, count, period_days)
DEFAULT_POLICIES: dict[tuple[str, str], dict] = {
    ("strategic_type", "breakthrough"): {
        "requirements": [("executive_visit", 1, 31), ("service_review", 1, 31)],
        "service_plan": "大客户经理牵头，每月一次高层拜访和一次服务回顾会；专属服务团队，优先响应。",
    },
    ("strategic_type", "cultivate"): {
        "requirements": [("needs_survey", 1, 92), (CONTACT, 2, 92)],
        "service_plan": "每季度一次需求调研、至少两次联系，挖掘潜在需求。",
    },
    ("strategic_type", "long_term"): {
        "requirements": [("strategic_planning", 1, 183)],
        "service_plan": "每半年一次战略规划会，辅以不定期增值服务推送。",
    },
    ("maintenance_tier", "core"): {"requirements": [(CONTACT, 2, 31)], "service_plan": ""},
    ("maintenance_tier", "important"): {"requirements": [(CONTACT, 1, 31)], "service_plan": ""},
    ("maintenance_tier", "ordinary"): {"requirements": [(CONTACT, 1, 92)], "service_plan": ""},
}
DEFAULT_MAX_CONTACTS_30D = 8


@dataclass(frozen=True)
class Requirement:
    kind: str
    count: int
    period_days: int


@dataclass(frozen=True)
class RequirementStatus:
    requirement: Requirement
    period_days: int  # after the customer's override
    in_window: int
    last: datetime.date | None  # the most recent qualifying contact
    due_on: datetime.date
    met: bool


def scaled(period_days: int, scale_pct: int) -> int:
    return max(1, round(period_days * scale_pct / 100))


def add_date(recent: dict[str, list[str]], kinds: list[str], day: datetime.date) -> dict[str, list[str]]:
    """``recent`` with ``day`` added under each of ``kinds`` (newest first, at most KEEP each)."""
    out = {k: list(v) for k, v in recent.items()}
    for kind in kinds:
        dates = out.setdefault(kind, [])
        dates.append(day.isoformat())
        dates.sort(reverse=True)
        del dates[KEEP:]
    return out


def _dates(recent: dict[str, list[str]], kind: str) -> list[datetime.date]:
    return sorted((datetime.date.fromisoformat(d) for d in recent.get(kind, [])), reverse=True)


def evaluate(
    requirements: list[Requirement],
    recent: dict[str, list[str]],
    as_of: datetime.date,
    since: datetime.date,
    scale_pct: int = 100,
) -> list[RequirementStatus]:
    out = []
    for req in requirements:
        period = scaled(req.period_days, scale_pct)
        dates = [d for d in _dates(recent, req.kind) if d <= as_of]
        start = as_of - datetime.timedelta(days=period)
        in_window = sum(1 for d in dates if d > start)
        if len(dates) >= req.count:
            due = dates[req.count - 1] + datetime.timedelta(days=period)
        else:
            due = since + datetime.timedelta(days=period)
        out.append(
            RequirementStatus(
                requirement=req,
                period_days=period,
                in_window=in_window,
                last=dates[0] if dates else None,
                due_on=due,
                met=due > as_of,
            )
        )
    return out


def due_on(statuses: list[RequirementStatus]) -> datetime.date | None:
    return min((s.due_on for s in statuses), default=None)


def contacts_in_30_days(recent: dict[str, list[str]], as_of: datetime.date) -> int:
    start = as_of - datetime.timedelta(days=30)
    return sum(1 for d in _dates(recent, CONTACT) if start < d <= as_of)
