"""The cadence rules (C6): pure functions, then the policies applied to customers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

import factories
from guanxi.engagement import cadence, selectors, services
from guanxi.engagement.cadence import CONTACT, Requirement
from guanxi.engagement.models import CadencePolicy

D = datetime.date
SINCE = D(2024, 1, 1)


def recent_of(kind_dates: dict[str, list[datetime.date]]) -> dict[str, list[str]]:
    recent: dict[str, list[str]] = {}
    for kind, dates in kind_dates.items():
        for d in dates:
            recent = cadence.add_date(recent, [kind], d)
    return recent


def test_one_contact_a_month_is_due_a_period_after_the_last_contact():
    reqs = [Requirement(CONTACT, 1, 31)]
    recent = recent_of({CONTACT: [D(2025, 3, 1)]})
    [s] = cadence.evaluate(reqs, recent, D(2025, 3, 31), SINCE)
    assert (s.met, s.due_on, s.in_window, s.last) == (True, D(2025, 4, 1), 1, D(2025, 3, 1))
    [s] = cadence.evaluate(reqs, recent, D(2025, 4, 1), SINCE)
    assert not s.met and s.in_window == 0


def test_two_contacts_a_quarter_count_the_second_most_recent():
    reqs = [Requirement(CONTACT, 2, 92)]
    recent = recent_of({CONTACT: [D(2025, 1, 10), D(2025, 3, 1)]})
    [s] = cadence.evaluate(reqs, recent, D(2025, 3, 2), SINCE)
    assert s.met and s.due_on == D(2025, 1, 10) + datetime.timedelta(days=92)
    recent = recent_of({CONTACT: [D(2025, 3, 1)]})
    [s] = cadence.evaluate(reqs, recent, D(2025, 3, 2), SINCE)
    assert s.due_on == SINCE + datetime.timedelta(days=92) and not s.met  # never twice: due since long ago


def test_a_kind_requirement_ignores_other_kinds():
    reqs = [Requirement("executive_visit", 1, 31), Requirement("service_review", 1, 31)]
    recent = recent_of({CONTACT: [D(2025, 5, 1)], "executive_visit": [D(2025, 5, 1)]})
    ex, review = cadence.evaluate(reqs, recent, D(2025, 5, 10), D(2025, 4, 1))
    assert ex.met and not review.met
    assert cadence.due_on([ex, review]) == review.due_on == D(2025, 5, 2)


def test_a_customer_without_contacts_gets_one_period_of_grace():
    [s] = cadence.evaluate([Requirement(CONTACT, 1, 31)], {}, D(2025, 1, 20), D(2025, 1, 1))
    assert s.met and s.due_on == D(2025, 2, 1) and s.last is None


def test_override_scales_the_period():
    reqs = [Requirement(CONTACT, 1, 30)]
    recent = recent_of({CONTACT: [D(2025, 1, 1)]})
    assert cadence.evaluate(reqs, recent, D(2025, 1, 2), SINCE, 50)[0].due_on == D(2025, 1, 16)
    assert cadence.evaluate(reqs, recent, D(2025, 1, 2), SINCE, 200)[0].due_on == D(2025, 3, 2)


def test_contacts_in_30_days():
    recent = recent_of({CONTACT: [D(2025, 1, 1), D(2025, 1, 20), D(2025, 1, 30), D(2025, 2, 10)]})
    assert cadence.contacts_in_30_days(recent, D(2025, 2, 10)) == 3  # window (Jan 11, Feb 10]


dates = st.dates(min_value=D(2020, 1, 1), max_value=D(2026, 12, 31))


@given(
    contacts=st.lists(dates, max_size=12),
    count=st.integers(1, 4),
    period=st.integers(1, 400),
    as_of=dates,
    scale=st.sampled_from([50, 100, 150, 200]),
)
def test_met_means_enough_contacts_in_the_window(contacts, count, period, as_of, scale):
    """The rule against its definition: met ⇔ at least ``count`` contacts in (as_of - p, as_of], for
    a customer under the policy for longer than one period; and the due date is the first day it
    would stop being met without further contact."""
    since = D(2019, 1, 1)
    contacts = [d for d in contacts if d <= as_of]  # what is known on the day
    recent = recent_of({CONTACT: contacts})
    [s] = cadence.evaluate([Requirement(CONTACT, count, period)], recent, as_of, since, scale)
    p = cadence.scaled(period, scale)
    kept = sorted(contacts, reverse=True)[: cadence.KEEP]
    window = [d for d in kept if as_of - datetime.timedelta(days=p) < d <= as_of]
    if as_of >= since + datetime.timedelta(days=p):
        assert s.met == (len(window) >= count)
    assert s.in_window == len(window)
    if s.met:
        # still met the day before it is due, not on the due day (no new contact)
        later = s.due_on - datetime.timedelta(days=1)
        assert cadence.evaluate([Requirement(CONTACT, count, period)], recent, later, since, scale)[0].met
        assert not cadence.evaluate([Requirement(CONTACT, count, period)], recent, s.due_on, since, scale)[
            0
        ].met


@given(st.lists(dates, min_size=1, max_size=60))
def test_summary_keeps_the_newest_dates(days):
    recent = recent_of({CONTACT: days})
    kept = recent[CONTACT]
    assert len(kept) == min(len(days), cadence.KEEP)
    assert kept == sorted(kept, reverse=True)
    assert kept[0] == max(days).isoformat()


# --- the seeds' defaults and customers ------------------------------------------------------------


def test_seed_defaults_are_installed(db):
    got = {
        (p.dimension, p.value): sorted((r.kind, r.count, r.period_days) for r in p.requirements.all())
        for p in CadencePolicy.objects.all()
    }
    assert got[("strategic_type", "breakthrough")] == [("executive_visit", 1, 31), ("service_review", 1, 31)]
    assert got[("strategic_type", "cultivate")] == [(CONTACT, 2, 92), ("needs_survey", 1, 92)]
    assert got[("strategic_type", "long_term")] == [("strategic_planning", 1, 183)]


def _visit(user, customer, days_ago: int, category: str = "routine"):
    return services.record_visit(
        actor=user,
        customer_id=customer.pk,
        data={
            "visited_on": timezone.localdate() - datetime.timedelta(days=days_ago),
            "content": "回访",
            "category": category,
        },
    )


def test_breakthrough_customer_is_overdue_for_owner_and_manager_and_explained(world):
    o = world.org
    c = factories.update_customer(o.admin, world.A, strategic_type="breakthrough")
    _visit(o.rep1a, c, 40, "executive_visit")
    _visit(o.rep1a, c, 5, "service_review")
    status = selectors.cadence_status(o.rep1a, c.pk)
    assert status.policy.value == "breakthrough" and status.overdue
    ex = next(s for s in status.statuses if s.requirement.kind == "executive_visit")
    assert not ex.met and ex.last == timezone.localdate() - datetime.timedelta(days=40)
    assert c.pk in set(selectors.overdue_customers(o.rep1a).values_list("pk", flat=True))
    assert c.pk in set(selectors.overdue_customers(o.manager1).values_list("pk", flat=True))
    assert c.pk not in set(selectors.overdue_customers(o.manager2).values_list("pk", flat=True))
    assert c.pk not in set(
        selectors.overdue_customers(o.rep2b).values_list("pk", flat=True)
    )  # team, not owner
    # an executive visit today puts it back within its cadence
    _visit(o.rep1a, c, 0, "executive_visit")
    assert not selectors.cadence_status(o.rep1a, c.pk).overdue
    assert not selectors.overdue_customers(o.rep1a).filter(pk=c.pk).exists()


def test_relaxed_override_and_over_maintenance_warning(world):
    o = world.org
    c = factories.update_customer(o.admin, world.C, maintenance_tier="important")  # 1 contact / 31 days
    _visit(o.rep1b, c, 40)
    assert selectors.cadence_status(o.rep1b, c.pk).overdue
    with pytest.raises(services.ValidationFailed) as e:
        services.set_override(actor=o.rep1b, customer_id=c.pk, period_scale_pct=200)
    assert "reason" in e.value.errors
    services.set_override(
        actor=o.rep1b, customer_id=c.pk, period_scale_pct=200, max_contacts_30d=2, reason="客户要求减少打扰"
    )
    status = selectors.cadence_status(o.rep1b, c.pk)
    assert not status.overdue and status.statuses[0].period_days == 62
    for days in (1, 2, 3):
        _visit(o.rep1b, c, days)
    status = selectors.cadence_status(o.rep1b, c.pk)
    assert status.contacts_30d == 3 and status.over_maintained
    assert [x[0].pk for x in selectors.over_maintained(o.rep1b)] == [c.pk]


def test_policy_change_moves_due_dates_and_only_admins_change_policies(world):
    o = world.org
    c = factories.update_customer(o.admin, world.B, maintenance_tier="ordinary")
    _visit(o.rep2a, c, 50)
    assert not selectors.cadence_status(o.rep2a, c.pk).overdue
    with pytest.raises(services.Forbidden):
        services.save_policy(
            actor=o.manager2, dimension="maintenance_tier", value="ordinary", requirements=[]
        )
    services.save_policy(
        actor=o.admin,
        dimension="maintenance_tier",
        value="ordinary",
        requirements=[{"kind": "contact", "count": 1, "period_days": 30}],
    )
    assert selectors.overdue_customers(o.rep2a).filter(pk=c.pk).exists()
    with pytest.raises(services.ValidationFailed):
        services.save_policy(
            actor=o.admin,
            dimension="maintenance_tier",
            value="ordinary",
            requirements=[{"kind": "nonsense", "count": 1, "period_days": 30}],
        )
