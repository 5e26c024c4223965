"""The analytics pages (C4): overview and runs, ABC with its Pareto chart, RFM grid, churn warning
list with the win-back action, best and slow sellers, customer groups, exports, the customer
card's analytics box and the Today section; in zh-Hans and English, within each role's scope.

Scores are written by ``make_scores`` (a done run with known per-customer results) so that every
figure on the pages is known in advance; test_analytics_api.py also drives a real run.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.analytics import selectors, services
from guanxi.analytics.math.churn import REASONS
from guanxi.analytics.models import AnalyticsRun, CustomerScore
from guanxi.core.models import ExportLog
from guanxi.engagement.models import Trigger, VisitPlan


def bits(*codes: str) -> int:
    return sum(1 << REASONS.index(c) for c in codes)


# per customer of conftest.world: ABC (class, rank, value, share, cumulative), RFM segment, churn
SCORES = {
    "A": dict(abc_class="A", abc_rank=1, abc_value=500_000, abc_cumulative=0.5,
              rfm_segment="important_value", rfm_code=555, churn_risk=20, churn_reasons=0,
              p_alive=0.95, recency_days=10, frequency=12, monetary=40_000, clv=480_000),
    "B": dict(abc_class="A", abc_rank=2, abc_value=300_000, abc_cumulative=0.8,
              rfm_segment="important_keep", rfm_code=255, churn_risk=85,
              churn_reasons=bits("low_p_alive", "overdue_rhythm"), p_alive=0.2, recency_days=200, frequency=9,
              monetary=30_000, clv=60_000),
    "C": dict(abc_class="B", abc_rank=3, abc_value=150_000, abc_cumulative=0.95,
              rfm_segment="general_retain", rfm_code=122, churn_risk=60,
              churn_reasons=bits("falling_revenue"), p_alive=0.6, recency_days=90, frequency=3,
              monetary=20_000, clv=50_000),
    "I": dict(abc_class="C", abc_rank=4, abc_value=50_000, abc_cumulative=1.0,
              rfm_segment="general_develop", rfm_code=411, churn_risk=75,
              churn_reasons=bits("open_complaints", "overdue_receivables"), p_alive=0.7, recency_days=30,
              frequency=0, monetary=None, clv=8_000),
}  # fmt: skip


def make_scores(world, *, as_of: datetime.date | None = None, scores=SCORES, **run_fields) -> AnalyticsRun:
    """A finished run with the given results for the world's customers."""
    now = timezone.now()
    run = AnalyticsRun.objects.create(
        as_of=as_of or timezone.localdate(), state="done", started_at=now - datetime.timedelta(seconds=3),
        finished_at=now, customers=len(scores), trigger="cli",
        figures={"time_unit": "days",
                 "bgnbd": {"r": 0.8, "alpha": 40.0, "a": 0.5, "b": 2.5, "log_likelihood": -1234.5},
                 "gammagamma": {"p": 6.0, "q": 4.0, "v": 15000.0, "log_likelihood": -456.7},
                 "abc": {"total": 1_000_000.0}},
        **run_fields,
    )  # fmt: skip
    for key, fields in scores.items():
        c = world.customers[key]
        age = fields["recency_days"] + (30 if fields["frequency"] else 0)  # T; t_x = 0 without repeats
        CustomerScore.objects.create(run=run, customer=c, age_days=age, **fields)
    return run


@pytest.fixture
def scored(world):
    make_scores(world)
    return world


def client_for(user, lang: str = "en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(user)
    return c


PAGES = ["index", "abc", "rfm", "churn", "products", "groups"]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_renders_in_both_languages(scored, lang):
    client = client_for(scored.org.manager1, lang)
    titles = {
        "index": ("客户分析", "Customer analytics"),
        "abc": ("ABC分析表", "ABC analysis"),
        "rfm": ("重要价值客户", "Key value customers"),
        "churn": ("流失预警", "Churn early warning"),
        "products": ("畅销与滞销产品", "Best and slow sellers"),
        "groups": ("主要客户群", "Main customer groups"),
    }
    for name in PAGES:
        resp = client.get(reverse(f"analytics:{name}"))
        assert resp.status_code == 200, name
        body = resp.content.decode()
        zh, en = titles[name]
        assert (zh if lang == "zh-hans" else en) in body, (name, lang)
    # the reasons are in words, in the language of the page
    body = client.get(reverse("analytics:churn")).content.decode()
    assert ("有未结投诉" if lang == "zh-hans" else "Open complaints") in body


def test_overview_shows_the_fitted_parameters_and_counts(scored):
    body = client_for(scored.org.admin).get(reverse("analytics:index")).content.decode()
    assert "0.8000" in body and "40.0000" in body and "15000.0000" in body  # r, alpha, v
    assert "about once every 50 days" in body  # alpha / r
    assert "Start an analysis" in body and "the 80/20 rule" in body and "70 % of sales" in body
    # an account manager sees the date and state of runs, not the company's fitted figures
    body = client_for(scored.org.rep1a).get(reverse("analytics:index")).content.decode()
    assert "Fitted models" not in body and "40.0000" not in body and "Start an analysis" not in body
    assert "Your customers analysed" in body


def test_service_agents_have_no_analytics_pages(scored):
    client = client_for(scored.org.service)
    for name in PAGES:
        assert client.get(reverse(f"analytics:{name}")).status_code == 403, name
    assert "analytics/" not in client.get(reverse("today:index")).content.decode()


def _names(page) -> set[str]:
    return {s.customer.name for s in page.items}


def test_lists_follow_each_roles_scope(scored):
    w, o = scored, scored.org
    run = selectors.latest_run(o.admin)
    names = {k: c.name for k, c in w.customers.items()}

    def keys(user, fn, **kw):
        return {k for k, n in names.items() if n in _names(fn(user, run, min_risk=0, **kw))}

    churn = selectors.churn_list
    assert keys(o.admin, churn) == {"A", "B", "C", "I"}
    assert keys(o.manager1, churn) == {"A", "C", "I"}
    assert keys(o.rep1a, churn) == {"A", "I"}
    assert keys(o.rep1b, churn) == {"A", "C", "I"}  # deputises for rep1a
    assert keys(o.rep2b, churn) == {"A"}  # on A's account team
    assert keys(o.analyst, churn) == {"A", "B", "C"}  # company customers
    assert keys(o.auditor, churn) == {"A", "B", "C", "I"}
    assert keys(o.service, churn) == set()
    # aggregates: analysts count every customer, the others their own scope
    assert sum(c["customers"] for c in selectors.abc_summary(o.analyst, run)) == 4
    assert sum(c["customers"] for c in selectors.abc_summary(o.rep1a, run)) == 2
    assert sum(c["customers"] for c in selectors.abc_summary(o.service, run)) == 0
    assert selectors.pareto(o.rep1a, run)["n"] == 2


def test_abc_page_ranks_with_shares_and_flags_a_customers_not_yet_key_accounts(scored):
    w = scored
    client = client_for(w.org.admin)
    body = client.get(reverse("analytics:abc")).content.decode()
    assert body.index(w.A.name) < body.index(w.B.name) < body.index(w.C.name) < body.index(w.I.name)
    assert "50.0%" in body and "80.0%" in body  # cumulative shares
    assert 'data-chart="pareto"' in body and "chart-pareto" in body and "echarts.min.js" in body
    assert "propose as key account" in body
    body = client.get(reverse("analytics:abc") + "?not_key=1").content.decode()
    assert w.A.name in body and w.B.name in body and w.C.name not in body
    from factories import update_customer

    update_customer(w.org.admin, w.A, is_key_account=True, reason="大客户", address="上海市浦东新区",
                    employees=800, annual_revenue=300_000_000, overview="精密机械制造")  # fmt: skip
    body = client.get(reverse("analytics:abc") + "?not_key=1").content.decode()
    assert w.A.name not in body and w.B.name in body
    # the class filter and sorting
    body = client.get(reverse("analytics:abc") + "?cls=B").content.decode()
    assert w.C.name in body and w.A.name not in body
    body = client.get(reverse("analytics:abc") + "?sort=-rank").content.decode()
    assert body.index(w.I.name) < body.index(w.A.name)


def test_pareto_chart_data(scored):
    p = selectors.pareto(scored.org.admin, selectors.latest_run(scored.org.admin))
    assert p["n"] == 4 and p["by_rank"] and p["labels"] == [1, 2, 3, 4]
    assert p["bars"] == [50.0, 30.0, 15.0, 5.0] and p["line"] == [50.0, 80.0, 95.0, 100.0]
    assert p["classes"] == ["A", "A", "B", "C"] and (p["cut_a"], p["cut_b"]) == (0.8, 0.95)


def test_pareto_groups_many_customers_into_slices(world):
    scores = {k: dict(SCORES[k]) for k in SCORES}
    run = make_scores(world, scores=scores)
    p = selectors.pareto(world.org.admin, run, buckets=2)
    assert not p["by_rank"] and p["labels"] == [50.0, 100.0] and p["line"] == [80.0, 100.0]


def test_rfm_grid_counts_and_drill_down(scored):
    w = scored
    client = client_for(w.org.admin)
    body = client.get(reverse("analytics:rfm")).content.decode()
    assert "Key value customers" in body and "General customers to win back" in body
    grid = selectors.rfm_grid(w.org.admin, selectors.latest_run(w.org.admin))
    cells = {c["code"]: c for row in grid["rows"] for c in row["cells"]}
    assert cells["important_value"]["customers"] == 1 and cells["important_value"]["value"] == 500_000
    assert sum(c["customers"] for c in cells.values()) == 4
    body = client.get(reverse("analytics:rfm") + "?segment=important_keep").content.decode()
    list_part = body[body.index('id="list"') :]
    assert w.B.name in list_part and w.A.name not in list_part


def test_churn_list_filters_by_owner_and_reason_and_shows_reasons_in_words(scored):
    w = scored
    client = client_for(w.org.manager1)
    body = client.get(reverse("analytics:churn")).content.decode()
    # risk ≥ 50 by default: C (60) and I (75) of Sales 1; A (20) is below
    assert w.I.name in body and w.C.name in body and w.A.name not in body and w.B.name not in body
    assert "Open complaints" in body and "Overdue receivables" in body and "Falling revenue" in body
    body = client.get(reverse("analytics:churn") + f"?owner={w.org.rep1b.pk}").content.decode()
    assert w.C.name in body and w.I.name not in body
    body = client.get(reverse("analytics:churn") + "?reason=falling_revenue").content.decode()
    assert w.C.name in body and w.I.name not in body
    body = client.get(reverse("analytics:churn") + "?min_risk=0").content.decode()
    assert w.A.name in body


def test_win_back_creates_exactly_one_plan_for_the_owner(scored):
    w = scored
    client = client_for(w.org.manager1)
    url = reverse("analytics:winback", args=[w.I.pk])
    assert f'hx-post="{url}"' in client.get(reverse("analytics:churn")).content.decode()
    resp = client.post(url, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert f'id="churn-{w.I.pk}"' in body and "Task created" in body
    plan = VisitPlan.objects.get(customer=w.I)
    assert plan.trigger == Trigger.WIN_BACK and plan.assignee == w.org.rep1a and plan.state == "planned"
    assert plan.created_by == w.org.manager1
    assert (
        "Open complaints" in plan.purpose and "Overdue receivables" in plan.purpose and "75" in plan.purpose
    )
    day = timezone.localtime(plan.scheduled_at).date()
    assert day > timezone.localdate() and services.next_working_day(timezone.localdate()) == day
    # a second click (or another user's) while the first is open does not duplicate it
    assert client.post(url, HTTP_HX_REQUEST="true").status_code == 200
    resp = client_for(w.org.rep1a).post(url, {"next": "//evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == reverse("analytics:churn")
    assert VisitPlan.objects.filter(customer=w.I, trigger=Trigger.WIN_BACK).count() == 1
    # the list shows it
    body = client.get(reverse("analytics:churn")).content.decode()
    assert reverse("engagement:plan_detail", args=[plan.pk]) in body
    # once the plan is cancelled a new one may be created
    from guanxi.engagement import services as engagement

    engagement.transition_plan(actor=w.org.rep1a, plan_id=plan.pk, to="cancelled")
    client.post(url)
    assert VisitPlan.objects.filter(customer=w.I, trigger=Trigger.WIN_BACK).count() == 2


def test_win_back_is_refused_outside_scope_and_without_the_right_to_change(scored):
    w = scored
    assert client_for(w.org.manager2).post(reverse("analytics:winback", args=[w.I.pk])).status_code == 404
    assert client_for(w.org.analyst).post(reverse("analytics:winback", args=[w.C.pk])).status_code == 403
    assert client_for(w.org.auditor).post(reverse("analytics:winback", args=[w.C.pk])).status_code == 403
    assert not VisitPlan.objects.exists()
    # and roles that may not create one see no button
    body = client_for(w.org.analyst).get(reverse("analytics:churn")).content.decode()
    assert "Create win-back task" not in body


def test_win_back_shows_on_the_owners_today(scored):
    w = scored
    rep = client_for(w.org.rep1a)
    body = rep.get(reverse("today:index")).content.decode()
    assert "Customers at risk of churning" in body and w.I.name in body
    section = body[body.index('id="today-churn_risk"') :]
    assert w.A.name not in section[: section.index("</section>")]  # risk 20
    client_for(w.org.manager1).post(reverse("analytics:winback", args=[w.I.pk]))
    body = rep.get(reverse("today:index")).content.decode()
    assert "Customers at risk of churning" not in body  # the task is planned: no longer a warning
    assert "today-visits_due" in body or w.I.name in rep.get(reverse("engagement:plans")).content.decode()


def test_run_form_starts_a_run_and_checks_the_thresholds(scored):
    o = scored.org
    today = timezone.localdate().isoformat()
    data = {
        "as_of": today,
        "abc_by": "revenue",
        "preset": "seed70",
        "abc_a": "1",
        "abc_b": "2",
        "period_days": 365,
    }
    resp = client_for(o.analyst).post(reverse("analytics:index"), data)
    assert resp.status_code == 302
    run = AnalyticsRun.objects.order_by("-pk").first()
    assert (run.abc_a, run.abc_b, run.trigger, run.requested_by) == (0.7, 0.9, "ui", o.analyst)
    bad = {**data, "preset": "custom", "abc_a": "95", "abc_b": "80"}
    resp = client_for(o.manager1).post(reverse("analytics:index"), bad)
    assert resp.status_code == 422 and "Class B must" in resp.content.decode()
    future = {**data, "as_of": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()}
    assert client_for(o.admin).post(reverse("analytics:index"), future).status_code == 422
    n = AnalyticsRun.objects.count()
    assert client_for(o.rep1a).post(reverse("analytics:index"), data).status_code == 403
    assert client_for(o.auditor).post(reverse("analytics:index"), data).status_code == 403
    assert AnalyticsRun.objects.count() == n


def test_runs_list_polls_while_a_run_is_queued(scored):
    AnalyticsRun.objects.create(as_of=timezone.localdate(), state="queued", trigger="ui")
    client = client_for(scored.org.rep1a)
    body = client.get(reverse("analytics:index")).content.decode()
    assert 'hx-trigger="every 3s"' in body
    part = client.get(reverse("analytics:index"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs")
    assert part.content.decode().lstrip().startswith('<div id="runs"') and "HX-Refresh" not in part
    # once done, the polling page reloads to show the results
    AnalyticsRun.objects.filter(state="queued").update(state="done", finished_at=timezone.now())
    part = client.get(reverse("analytics:index"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="runs")
    assert part["HX-Refresh"] == "true" and 'hx-trigger="every 3s"' not in part.content.decode()


def _xlsx_rows(resp) -> list[list]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("what", ["abc", "rfm", "churn", "groups"])
def test_exports_are_logged_and_hold_only_rows_in_scope(scored, what):
    w = scored
    client = client_for(w.org.manager1)
    url = reverse("analytics:export", args=[what])
    assert client.get(url).status_code == 200
    assert client.post(url, {"purpose": ""}).status_code == 422
    assert not ExportLog.objects.exists()
    params = {"purpose": "季度客户分析会", **({"min_risk": "0"} if what == "churn" else {})}
    resp = client.post(url, params)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _xlsx_rows(resp)
    flat = " ".join(str(v) for r in rows for v in r)
    if what == "groups":
        assert rows[1][1] == 3  # Sales 1's three customers, all in one industry
    else:
        assert w.A.name in flat and w.C.name in flat and w.I.name in flat and w.B.name not in flat
    log = ExportLog.objects.get()
    assert log.what == f"analytics:{what}" and log.user == w.org.manager1 and log.row_count == len(rows) - 1


def test_exports_refused_to_roles_without_export(scored):
    # account managers export their own customers; service agents have no analytics at all
    assert client_for(scored.org.service).get(reverse("analytics:export", args=["abc"])).status_code == 403
    assert client_for(scored.org.rep1a).get(reverse("analytics:export", args=["products"])).status_code == 403
    assert client_for(scored.org.rep1a).get(reverse("analytics:export", args=["nothing"])).status_code == 404


@pytest.fixture
def sold(world):
    """Three products: one selling more this year than last, one selling less, one never sold."""
    from guanxi.sales import services as sales

    o = world.org
    cat = sales.create_category(actor=o.admin, name="阀门")
    up = sales.create_product(actor=o.admin, data={"name": "球阀 DN50", "code": "BV50", "category": cat.pk})
    down = sales.create_product(actor=o.admin, data={"name": "闸阀 DN80", "code": "GV80", "category": cat.pk})
    sales.create_product(actor=o.admin, data={"name": "蝶阀 DN100", "code": "FV100"})
    today = timezone.localdate()
    last_year = today - datetime.timedelta(days=400)
    for product, now_amount, before in ((up, 9000, 3000), (down, 1000, 4000)):
        for d, amount in ((today, now_amount), (last_year, before)):
            line = {"product": product.pk, "quantity": 2, "amount": amount}
            sales.create_order(actor=o.admin, customer_id=world.A.pk, data={"order_date": d, "lines": [line]})
    return world


def test_best_and_slow_sellers(sold):
    client = client_for(sold.org.manager1)
    body = client.get(reverse("analytics:products")).content.decode()
    assert body.index("球阀 DN50") < body.index("闸阀 DN80") and "蝶阀 DN100" not in body
    assert "+200.0%" in body and "-75.0%" in body
    body = client.get(reverse("analytics:products") + "?mode=slow").content.decode()
    assert body.index("蝶阀 DN100") < body.index("闸阀 DN80") < body.index("球阀 DN50")
    assert "no sales" in body
    # company-wide figures: an account manager sees none
    body = client_for(sold.org.rep1a).get(reverse("analytics:products")).content.decode()
    assert "球阀 DN50" not in body and "Company-wide product figures" in body
    resp = client.post(reverse("analytics:export", args=["products"]), {"purpose": "产品会", "mode": "slow"})
    rows = _xlsx_rows(resp)
    assert [r[1] for r in rows[1:]] == ["蝶阀 DN100", "闸阀 DN80", "球阀 DN50"]


def test_groups_by_industry_region_and_size(scored):
    from factories import update_customer

    w = scored
    update_customer(
        w.org.admin, w.B, industry="I", province="广东", employees=1200, annual_revenue=2_000_000_000
    )
    update_customer(w.org.admin, w.A, employees=50, annual_revenue=50_000_000)
    run = selectors.latest_run(w.org.admin)
    by_industry = {r["key"]: r for r in selectors.groups(w.org.admin, run, by="industry").items}
    assert by_industry["I"]["customers"] == 1 and by_industry["I"]["a_customers"] == 1
    assert by_industry["C"]["customers"] == 3 and by_industry["C"]["value"] == 700_000
    by_size = {r["key"]: r for r in selectors.groups(w.org.admin, run, by="employees").items}
    assert (
        by_size["e4"]["customers"] == 1 and by_size["e2"]["customers"] == 1 and by_size[""]["customers"] == 2
    )
    by_rev = {r["key"]: r for r in selectors.groups(w.org.admin, run, by="revenue").items}
    assert by_rev["r4"]["customers"] == 1 and by_rev["r2"]["customers"] == 1
    body = client_for(w.org.admin).get(reverse("analytics:groups") + "?by=province").content.decode()
    assert "广东" in body and "北京" in body and 'data-chart="groups"' in body
    # a manager's groups count the department's customers only
    mine = selectors.groups(w.org.manager1, run, by="industry").items
    assert sum(r["customers"] for r in mine) == 3


def test_customer_card_shows_the_analytics_box_to_those_who_may_see_it(scored):
    w = scored
    url = reverse("analytics:customer_box", args=[w.B.pk])
    body = client_for(w.org.rep2a).get(url).content.decode()
    assert "Key customers to keep" in body and "Probably stopped buying" in body and "85" in body
    assert client_for(w.org.service).get(url).content == b""  # sees the customer, not its figures
    assert client_for(w.org.rep1a).get(url).status_code == 404
    card = client_for(w.org.rep2a).get(reverse("customers:detail", args=[w.B.pk])).content.decode()
    assert url in card
    # zh-Hans
    body = client_for(w.org.rep2a, "zh-hans").get(url).content.decode()
    assert "重要保持客户" in body and "流失风险" in body


def test_pages_for_an_older_run_and_missing_runs(scored):
    w = scored
    old = make_scores(w, as_of=timezone.localdate() - datetime.timedelta(days=30))
    AnalyticsRun.objects.filter(pk=old.pk).update(finished_at=timezone.now() - datetime.timedelta(days=30))
    client = client_for(w.org.admin)
    assert client.get(reverse("analytics:abc") + f"?run={old.pk}").status_code == 200
    assert client.get(reverse("analytics:abc") + "?run=999999").status_code == 404
    assert client.get(reverse("analytics:run_detail", args=[old.pk])).status_code == 200
    CustomerScore.objects.all().delete()
    AnalyticsRun.objects.all().delete()
    for name in PAGES:
        assert client.get(reverse(f"analytics:{name}")).status_code == 200, name


def test_cached_aggregates_never_cross_scopes(scored):
    """Aggregates are cached per run and scope: one user's figures never answer another's."""
    o = scored.org
    run = selectors.latest_run(o.admin)

    def counted(user):
        grid = selectors.rfm_grid(user, run)
        return sum(c["customers"] for row in grid["rows"] for c in row["cells"])

    assert [counted(u) for u in (o.manager1, o.manager2, o.admin, o.rep1a, o.analyst)] == [3, 1, 4, 2, 4]
    # asked again (now from the cache): the same answers
    assert [counted(u) for u in (o.manager1, o.manager2, o.admin, o.rep1a, o.analyst)] == [3, 1, 4, 2, 4]
    assert [selectors.counted_customers(u, run) for u in (o.manager2, o.admin)] == [1, 4]
    groups = {
        u.username: sum(r["customers"] for r in selectors.groups(u, run).items) for u in (o.rep1a, o.admin)
    }
    assert groups == {"rep1a": 2, "admin": 4}
