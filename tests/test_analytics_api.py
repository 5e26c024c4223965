"""The analytics API (/api/v1/analytics/…): runs (start, list, detail, 422s and 403s), the lists
(ABC, RFM, churn, products, groups), a customer's scores and the win-back action; and a real run
computed from orders feeding the same surfaces."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from guanxi.analytics.models import AnalyticsRun, CustomerScore
from guanxi.engagement.models import Trigger, VisitPlan
from test_analytics_ui import make_scores


@pytest.fixture
def scored(world):
    make_scores(world)
    return world


def test_runs_list_and_detail_hide_company_figures_from_account_managers(scored, api_as):
    o = scored.org
    run = AnalyticsRun.objects.get()
    data = api_as(o.analyst).get("analytics/runs").json()
    assert data["count"] == 1 and data["items"][0]["figures"]["bgnbd"]["r"] == 0.8
    assert data["items"][0]["customers"] == 4
    item = api_as(o.rep1a).get(f"analytics/runs/{run.pk}").json()
    assert item["as_of"] == run.as_of.isoformat() and item["state"] == "done"
    assert item["figures"] is None and item["customers"] is None
    assert api_as(o.service).get("analytics/runs").json()["count"] == 0
    assert api_as(o.service).get(f"analytics/runs/{run.pk}").status_code == 404
    assert api_as(o.admin).get("analytics/runs/999999").status_code == 404


def test_start_run(scored, api_as, django_capture_on_commit_callbacks):
    o = scored.org
    resp = api_as(o.manager1).post("analytics/runs", {"abc_a": 0.7, "abc_b": 0.9, "abc_by": "profit"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["state"] == "queued" and body["trigger"] == "api" and body["abc_by"] == "profit"
    assert (body["abc_a"], body["abc_b"]) == (0.7, 0.9) and body["as_of"] == timezone.localdate().isoformat()
    run = AnalyticsRun.objects.get(pk=body["id"])
    assert run.requested_by == o.manager1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"abc_a": 0.95, "abc_b": 0.8}, "abc_b"),
        ({"abc_a": 0.8, "abc_b": 0.8}, "abc_b"),
        ({"abc_a": 0, "abc_b": 0.9}, "abc_a"),
        ({"abc_a": 0.8, "abc_b": 1.5}, "abc_b"),
        ({"abc_a": "x"}, "abc_a"),
        ({"as_of": "2024-13-40"}, "as_of"),
        ({"as_of": "2999-01-01"}, "as_of"),
        ({"abc_by": "margin"}, "abc_by"),
        ({"period_days": -1}, "period_days"),
    ],
)
def test_start_run_answers_422_naming_the_field(scored, api_as, payload, field):
    n = AnalyticsRun.objects.count()
    resp = api_as(scored.org.analyst).post("analytics/runs", payload)
    assert resp.status_code == 422, resp.content
    assert field in resp.json()["errors"], resp.json()
    assert AnalyticsRun.objects.count() == n


@pytest.mark.parametrize("role", ["rep1a", "service", "auditor"])
def test_start_run_is_refused_to_roles_that_may_not(scored, api_as, role):
    user = getattr(scored.org, role)
    resp = api_as(user).post("analytics/runs", {})
    assert resp.status_code == 403
    assert AnalyticsRun.objects.count() == 1


def _names(data) -> set[str]:
    return {i["customer_name"] for i in data["items"]}


def test_lists_follow_the_callers_scope(scored, api_as):
    w = scored
    rep, manager, analyst = api_as(w.org.rep1a), api_as(w.org.manager1), api_as(w.org.analyst)
    abc = manager.get("analytics/abc").json()
    assert [i["customer_name"] for i in abc["items"]] == [w.A.name, w.C.name, w.I.name]
    assert abc["items"][0]["abc_cumulative"] == 0.5 and abc["abc_a"] == 0.8
    assert {c["cls"]: c["customers"] for c in abc["classes"]} == {"A": 1, "B": 1, "C": 1}
    assert _names(rep.get("analytics/abc").json()) == {w.A.name, w.I.name}
    assert _names(analyst.get("analytics/abc").json()) == {w.A.name, w.B.name, w.C.name}
    # the analyst counts every customer in aggregates
    classes = {c["cls"]: c["customers"] for c in analyst.get("analytics/abc").json()["classes"]}
    assert classes == {"A": 2, "B": 1, "C": 1}
    assert _names(manager.get("analytics/abc", {"not_key": "true"}).json()) == {w.A.name}

    rfm = manager.get("analytics/rfm", {"segment": "general_retain"}).json()
    assert _names(rfm) == {w.C.name} and rfm["items"][0]["rfm_segment_label"] == "一般挽留客户"
    assert sum(s["customers"] for s in rfm["segments"]) == 3

    churn = manager.get("analytics/churn").json()
    assert [i["customer_name"] for i in churn["items"]] == [w.I.name, w.C.name]
    assert churn["items"][0]["churn_reasons"] == ["open_complaints", "overdue_receivables"]
    assert churn["items"][0]["churn_reason_labels"] == ["有未结投诉", "有逾期应收款"]  # the default language
    assert _names(manager.get("analytics/churn", {"min_risk": 0, "owner": w.org.rep1b.pk}).json()) == {
        w.C.name
    }
    assert _names(rep.get("analytics/churn", {"min_risk": 0}).json()) == {w.A.name, w.I.name}

    groups = manager.get("analytics/groups", {"by": "province"}).json()
    assert groups["by"] == "province" and sum(g["customers"] for g in groups["items"]) == 3

    assert api_as(w.org.service).get("analytics/abc").status_code == 403
    assert api_as(w.org.service).get("analytics/churn").status_code == 403


def test_lists_sort_and_page(scored, api_as):
    api = api_as(scored.org.admin)
    data = api.get("analytics/abc", {"sort": "-value", "limit": 2, "offset": 1}).json()
    assert data["count"] == 4 and [i["abc_rank"] for i in data["items"]] == [2, 3]
    data = api.get("analytics/churn", {"min_risk": 0, "sort": "name"}).json()
    names = [i["customer_name"] for i in data["items"]]
    assert names == sorted(names)


def test_customer_scores(scored, api_as):
    w = scored
    data = api_as(w.org.rep2a).get(f"customers/{w.B.pk}/scores").json()
    assert data["abc_class"] == "A" and data["rfm_segment"] == "important_keep" and data["churn_risk"] == 85
    assert data["churn_reasons"] == ["low_p_alive", "overdue_rhythm"] and data["p_alive"] == 0.2
    assert data["last_purchase"] == (timezone.localdate() - datetime.timedelta(days=200)).isoformat()
    assert api_as(w.org.rep1a).get(f"customers/{w.B.pk}/scores").status_code == 404
    assert api_as(w.org.service).get(f"customers/{w.B.pk}/scores").status_code == 403
    assert api_as(w.org.analyst).get(f"customers/{w.I.pk}/scores").status_code == 404  # individual
    CustomerScore.objects.filter(customer=w.B).delete()
    assert api_as(w.org.rep2a).get(f"customers/{w.B.pk}/scores").status_code == 404


def test_winback_creates_one_plan_and_returns_it_again(scored, api_as):
    w = scored
    api = api_as(w.org.rep1a)
    resp = api.post(f"analytics/churn/{w.I.pk}/winback")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["created"] and body["trigger"] == "win_back" and body["assignee_id"] == w.org.rep1a.pk
    again = api_as(w.org.manager1).post(f"analytics/churn/{w.I.pk}/winback")
    assert (
        again.status_code == 200
        and again.json()["plan_id"] == body["plan_id"]
        and not again.json()["created"]
    )
    assert VisitPlan.objects.filter(customer=w.I, trigger=Trigger.WIN_BACK).count() == 1
    churn = api.get("analytics/churn").json()
    assert next(i for i in churn["items"] if i["customer_id"] == w.I.pk)["winback_plan_id"] == body["plan_id"]
    assert api_as(w.org.rep2a).post(f"analytics/churn/{w.I.pk}/winback").status_code == 404
    assert api_as(w.org.analyst).post(f"analytics/churn/{w.C.pk}/winback").status_code == 403
    assert api.post("analytics/churn/999999/winback").status_code == 404


def test_products_api(world, api_as):
    from guanxi.sales import services as sales

    o = world.org
    p = sales.create_product(actor=o.admin, data={"name": "球阀 DN50", "code": "BV50"})
    sales.create_product(actor=o.admin, data={"name": "蝶阀 DN100"})
    sales.create_order(actor=o.admin, customer_id=world.A.pk,
                       data={"lines": [{"product": p.pk, "quantity": 3, "amount": 900}]})  # fmt: skip
    data = api_as(o.analyst).get("analytics/products").json()
    assert [i["name"] for i in data["items"]] == ["球阀 DN50"]
    assert data["items"][0]["revenue"] == 900 and data["items"][0]["quantity"] == 3
    assert data["items"][0]["growth_pct"] is None and data["items"][0]["share_pct"] == 100
    slow = api_as(o.analyst).get("analytics/products", {"mode": "slow"}).json()
    assert [i["name"] for i in slow["items"]] == ["蝶阀 DN100", "球阀 DN50"]
    assert api_as(o.rep1a).get("analytics/products").json()["count"] == 0  # company-wide figures


# --- a real run: orders → runs.execute → the same surfaces ------------------------------------------


@pytest.fixture
def ordered(world):
    """Two years of orders for a dozen customers of Sales 1 and the world's others: steady buyers,
    buyers who stopped, one-off buyers."""
    import random

    import factories
    from guanxi.sales import services as sales

    o = world.org
    rng = random.Random(7)
    today = timezone.localdate()
    customers = [world.A, world.C, world.B, world.I]
    customers += [factories.make_customer(o.admin, owner=o.rep1a if i % 2 else o.rep1b) for i in range(12)]
    for i, c in enumerate(customers):
        stopped = i % 4 == 1  # stopped buying a year ago
        one_off = i % 4 == 3
        day = today - datetime.timedelta(days=700 - rng.randint(0, 60))
        end = today - datetime.timedelta(days=360) if stopped else today
        while day <= end:
            amount = rng.randint(2, 40) * 1000 * (5 if i == 0 else 1)
            sales.create_order(actor=o.admin, customer_id=c.pk,
                               data={"order_date": day, "lines": [{"amount": amount}]})  # fmt: skip
            if one_off:
                break
            day += datetime.timedelta(days=rng.randint(20, 70))
    world.all_customers = customers
    return world


def test_a_real_run_feeds_the_pages_and_the_api(ordered, api_as):
    from guanxi.analytics import runs

    w = ordered
    run = runs.run_now(actor=w.org.admin, trigger="cli")
    assert run.state == "done", run.error
    assert CustomerScore.objects.filter(run=run).count() == len(w.all_customers)
    admin = api_as(w.org.admin)
    abc = admin.get("analytics/abc", {"limit": 200}).json()
    assert abc["run_id"] == run.pk and abc["count"] == len(w.all_customers)
    assert abc["items"][0]["customer_name"] == w.A.name  # the biggest buyer
    ranks = [i["abc_rank"] for i in abc["items"]]
    assert ranks == sorted(ranks) and abc["items"][-1]["abc_cumulative"] == pytest.approx(1.0)
    # the counts an unrestricted scope reads from the run's figures agree with the rows
    scored = CustomerScore.objects.filter(run=run)
    assert admin.get("analytics/churn").json()["count"] == scored.filter(churn_risk__gte=50).count()
    assert admin.get("analytics/rfm").json()["count"] == scored.filter(rfm_segment_no__isnull=False).count()
    assert admin.get("analytics/abc", {"cls": "A"}).json()["count"] == scored.filter(abc_class="A").count()
    churn = admin.get("analytics/churn", {"min_risk": 0, "limit": 200}).json()
    risk = {i["customer_id"]: i["churn_risk"] for i in churn["items"]}
    stopped = [c.pk for i, c in enumerate(w.all_customers) if i % 4 == 1]
    steady = [c.pk for i, c in enumerate(w.all_customers) if i % 4 in (0, 2)]
    assert min(risk[c] for c in stopped) > max(risk[c] for c in steady)
    # the overview shows the fitted parameters; the rep's pages only their book
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(w.org.manager1)
    body = client.get("/analytics/").content.decode()
    assert "Fitted models" in body and f"{run.figures['bgnbd']['r']:.4f}" in body
    rep = api_as(w.org.rep1a).get("analytics/abc", {"limit": 200}).json()
    owners = {i["owner_id"] for i in rep["items"]}
    assert owners == {w.org.rep1a.pk}
    # win-back from the real warning names its reasons
    top = churn["items"][0]
    plan = admin.post(f"analytics/churn/{top['customer_id']}/winback").json()
    assert all(label in plan["purpose"] for label in top["churn_reason_labels"])
