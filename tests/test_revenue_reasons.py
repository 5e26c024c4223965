"""A significant period-over-period revenue change asks the owner for a reason (C1): the rule, the
"reason owed" list and explaining it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import factories
from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers import selectors, services
from guanxi.customers.models import RevenueReasonRequest
from guanxi.customers.services import significant_change

money = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False)
pct = st.decimals(min_value=1, max_value=500, places=2, allow_nan=False, allow_infinity=False)


# --- the rule ------------------------------------------------------------------------------------


@given(previous=money, current=money, threshold=pct, min_base=money)
def test_significant_change_rule(previous, current, threshold, min_base):
    needed, change = significant_change(previous, current, threshold, min_base)
    if max(previous, current) < min_base:
        assert (needed, change) == (False, None)
    elif previous == 0:
        assert (needed, change) == (current != 0, None)
    else:
        exact = (current - previous) / previous * 100
        assert needed == (abs(exact) >= threshold)
        assert change == exact.quantize(Decimal("0.01"))


@given(base=st.decimals(min_value=100_000, max_value=10**10, places=0), step=st.decimals(0, 100, places=1),
       threshold=pct)  # fmt: skip
def test_rise_and_fall_by_the_same_share_are_treated_alike(base, step, threshold):
    up = base * (1 + step / 100)
    down = base * (1 - step / 100)
    up_needed, up_pct = significant_change(base, up, threshold, Decimal(10_000))
    down_needed, down_pct = significant_change(base, down, threshold, Decimal(10_000))
    assert up_needed == down_needed == (step >= threshold)
    assert up_pct == -down_pct


@given(previous=money, current=money, threshold=pct)
def test_a_higher_threshold_never_asks_more(previous, current, threshold):
    assume(previous > 0)
    low, _ = significant_change(previous, current, threshold, Decimal(0))
    high, _ = significant_change(previous, current, threshold + 10, Decimal(0))
    assert low or not high


def test_rule_examples():
    t, base = Decimal(30), Decimal(10_000)
    assert significant_change(Decimal(100_000), Decimal(130_000), t, base) == (True, Decimal("30.00"))
    assert significant_change(Decimal(100_000), Decimal(129_999), t, base)[0] is False
    assert significant_change(Decimal(100_000), Decimal(70_000), t, base) == (True, Decimal("-30.00"))
    assert significant_change(Decimal(100_000), Decimal(70_001), t, base)[0] is False
    assert significant_change(Decimal(5_000), Decimal(9_999), t, base) == (False, None)  # both small
    assert significant_change(Decimal(5_000), Decimal(10_000), t, base) == (True, Decimal("100.00"))
    assert significant_change(Decimal(0), Decimal(50_000), t, base) == (True, None)  # from nothing
    assert significant_change(Decimal(50_000), Decimal(0), t, base) == (True, Decimal("-100.00"))
    assert significant_change(Decimal(0), Decimal(0), t, Decimal(0)) == (False, None)


# --- recording revenue ---------------------------------------------------------------------------


def open_reasons(customer) -> dict[str, RevenueReasonRequest]:
    return {
        r.period_start.strftime("%Y-%m"): r
        for r in RevenueReasonRequest.objects.filter(customer=customer, explained_at__isnull=True)
    }


def test_a_significant_change_asks_the_owner(org):
    c = factories.make_customer(org.admin, owner=org.rep1a)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-01", revenue=100_000)
    assert open_reasons(c) == {}  # no previous month: nothing to compare
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-02", revenue=125_000)
    assert open_reasons(c) == {}  # +25 %: below the default 30 %
    services.record_revenue(actor=org.manager1, customer_id=c.pk, period_start="2024-03", revenue=60_000)
    req = open_reasons(c)["2024-03"]
    assert req.owner_id == org.rep1a.pk  # the owner owes it, whoever recorded the figure
    assert (req.previous_revenue, req.revenue, req.change_pct) == (
        Decimal(125_000),
        Decimal(60_000),
        Decimal("-52.00"),
    )


def test_the_following_month_is_re_evaluated(org):
    c = factories.make_customer(org.rep1a)
    rec = services.record_revenue
    rec(actor=org.rep1a, customer_id=c.pk, period_start="2024-01", revenue=100_000)
    rec(actor=org.rep1a, customer_id=c.pk, period_start="2024-02", revenue=100_000)
    rec(actor=org.rep1a, customer_id=c.pk, period_start="2024-03", revenue=105_000)
    assert open_reasons(c) == {}
    # February corrected to 50k: February drops 50 % and March (its base) now rises 110 %
    rec(actor=org.rep1a, customer_id=c.pk, period_start="2024-02-15", revenue=50_000)
    assert set(open_reasons(c)) == {"2024-02", "2024-03"}
    assert open_reasons(c)["2024-03"].previous_revenue == Decimal(50_000)
    # corrected back: both requests go away (they were never explained)
    rec(actor=org.rep1a, customer_id=c.pk, period_start="2024-02", revenue=98_000)
    assert open_reasons(c) == {}
    # a figure for a month with nothing before it asks for nothing; a later month's base appears
    rec(actor=org.rep1a, customer_id=c.pk, period_start="2023-12", revenue=10_000_000)
    assert set(open_reasons(c)) == {"2024-01"}


def test_an_explained_reason_is_kept_when_the_figures_change(org):
    c = factories.make_customer(org.rep1a)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-01", revenue=100_000)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-02", revenue=200_000)
    req = open_reasons(c)["2024-02"]
    services.explain_revenue_change(actor=org.rep1a, request_id=req.pk, reason="年度框架合同首单")
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-02", revenue=101_000)
    req.refresh_from_db()
    assert req.reason == "年度框架合同首单"


def test_threshold_and_base_are_configurable(org):
    services.update_settings(actor=org.admin, data={"revenue_change_threshold_pct": Decimal(50)})
    c = factories.make_customer(org.rep1a)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-01", revenue=100_000)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-02", revenue=140_000)
    assert open_reasons(c) == {}
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-03", revenue=210_000)
    assert set(open_reasons(c)) == {"2024-03"}
    services.update_settings(actor=org.admin, data={"revenue_change_min_base": Decimal(1_000_000)})
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-04", revenue=900_000)
    assert set(open_reasons(c)) == {"2024-03"}  # both months below the base now
    with pytest.raises(Forbidden):
        services.update_settings(actor=org.manager1, data={"revenue_change_threshold_pct": Decimal(1)})
    with pytest.raises(ValidationFailed):
        services.update_settings(actor=org.admin, data={"revenue_change_threshold_pct": "lots"})


def test_bad_revenue_input(org, api_as):
    c = factories.make_customer(org.rep1a)
    with pytest.raises(ValidationFailed) as e:
        services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-13", revenue=1)
    assert "period_start" in e.value.errors
    with pytest.raises(ValidationFailed) as e:
        services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2024-01", revenue="many")
    assert "revenue" in e.value.errors
    resp = api_as(org.rep1a).post(f"customers/{c.pk}/revenue", json={"period": "soon", "revenue": 5})
    assert resp.status_code == 422


# --- the reason-owed list and explaining ---------------------------------------------------------


def test_reasons_owed_through_the_api(org, api_as):
    c = factories.make_customer(org.rep1a, name="营收波动有限公司")
    rep = api_as(org.rep1a)
    assert (
        rep.post(f"customers/{c.pk}/revenue", json={"period": "2024-05", "revenue": "100000"}).json()[
            "reason_owed"
        ]
        is False
    )
    resp = rep.post(f"customers/{c.pk}/revenue", json={"period": "2024-06", "revenue": "250000"})
    assert resp.status_code == 200 and resp.json()["reason_owed"] is True

    mine = rep.get("reasons-owed", {"mine": "true"}).json()
    assert mine["count"] == 1
    item = mine["items"][0]
    assert (item["customer_name"], item["period_start"], item["is_open"]) == (
        "营收波动有限公司",
        "2024-06-01",
        True,
    )
    assert Decimal(item["change_pct"]) == Decimal("150.00")
    # the manager sees it in the department's list, not as their own
    manager = api_as(org.manager1)
    assert manager.get("reasons-owed").json()["count"] == 1
    assert manager.get("reasons-owed", {"mine": "true"}).json()["count"] == 0
    # another department does not see it and cannot explain it
    other = api_as(org.rep2a)
    assert other.get("reasons-owed").json()["count"] == 0
    resp = other.post(f"reasons-owed/{item['id']}/explain", json={"reason": "瞎说"})
    assert resp.status_code == 404 and "营收波动" not in resp.content.decode()

    assert rep.post(f"reasons-owed/{item['id']}/explain", json={"reason": "  "}).status_code == 422
    resp = rep.post(f"reasons-owed/{item['id']}/explain", json={"reason": "新增两条产线的设备采购"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["is_open"] is False and body["reason"] == "新增两条产线的设备采购"
    assert body["explained_by"] == org.rep1a.pk
    assert rep.get("reasons-owed").json()["count"] == 0
    closed = rep.get("reasons-owed", {"include_explained": "true"}).json()["items"]
    assert [i["reason"] for i in closed] == ["新增两条产线的设备采购"]


def test_read_only_roles_cannot_explain(world):
    req = world.A.reason_requests.get()
    for user in (world.org.service, world.org.auditor, world.org.analyst):
        with pytest.raises((Forbidden, NotFound)):
            services.explain_revenue_change(actor=user, request_id=req.pk, reason="x")
    assert selectors.reasons_owed(world.org.rep1a, only_mine=True).count() == 2  # A and I


# --- annual revenue on the customer itself -------------------------------------------------------


def test_significant_change_of_annual_revenue_needs_a_reason(org, api_as):
    c = factories.make_customer(org.rep1a, annual_revenue=Decimal(10_000_000))
    api = api_as(org.rep1a)
    resp = api.patch(f"customers/{c.pk}", json={"version": 1, "annual_revenue": "20000000"})
    assert resp.status_code == 422
    assert list(resp.json()["errors"]) == ["reason"]
    resp = api.patch(f"customers/{c.pk}", json={"version": 1, "annual_revenue": "11000000"})
    assert resp.status_code == 200  # +10 %: no reason needed
    resp = api.patch(
        f"customers/{c.pk}", json={"version": 2, "annual_revenue": "5000000", "reason": "剥离业务"}
    )
    assert resp.status_code == 200
    entry = api.get(f"customers/{c.pk}/history").json()["items"][0]
    assert entry["reason"] == "剥离业务"
    # first figure: nothing to compare with
    d = factories.make_customer(org.rep1a)
    factories.update_customer(org.rep1a, d, annual_revenue=Decimal(5_000_000))


def test_a_hand_over_passes_open_reasons_to_the_new_owner(org):
    from guanxi.customers import selectors, services

    c = factories.make_customer(org.rep1a)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2026-01", revenue=500000)
    services.record_revenue(actor=org.rep1a, customer_id=c.pk, period_start="2026-02", revenue=100000)
    assert [r.customer_id for r in selectors.reasons_owed(org.rep1a, only_mine=True)] == [c.pk]
    services.update_customer(actor=org.manager1, customer_id=c.pk, version=1, data={"owner": org.rep1b.pk})
    assert list(selectors.reasons_owed(org.rep1a, only_mine=True)) == []
    owed = list(selectors.reasons_owed(org.rep1b, only_mine=True))
    assert [r.customer_id for r in owed] == [c.pk]
    services.explain_revenue_change(actor=org.rep1b, request_id=owed[0].pk, reason="交接前的大单已结束")


def test_an_individual_customer_is_not_asked_for_company_facts(org):
    from guanxi.customers import services

    c = services.create_customer(
        actor=org.rep1a,
        data={"kind": "individual", "name": "王小明", "province": "上海", "phone": "13800138000"},
    )
    assert services.missing_required(c) == []
    assert "industry" not in services.missing_required(c)
