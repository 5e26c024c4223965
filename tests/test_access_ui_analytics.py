"""The access matrix of the analytics pages, for every role.

A customer's scores follow the customer's finance (analytics/rules.py): the account team, their
deputies and managers see their own customers' scores, analysts company customers, auditors and
administrators all, service agents none (they have no analytics pages at all: 403). A customer out
of scope never shows up in a list, an export or the card's box, and its win-back answers 404; a
visible customer the role may not change answers 403 to the win-back, which then changes nothing.
"""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.analytics.models import AnalyticsRun
from guanxi.core.models import ExportLog
from guanxi.engagement.models import VisitPlan
from test_access_ui import _users
from test_analytics_ui import make_scores

COVERED_PAGES = {
    "analytics:index",
    "analytics:run_detail",
    "analytics:abc",
    "analytics:rfm",
    "analytics:churn",
    "analytics:winback",
    "analytics:products",
    "analytics:groups",
    "analytics:export",
    "analytics:customer_box",
}
PLAIN = ["index", "abc", "rfm", "churn", "products", "groups"]
# role → the customers whose scores it sees (by conftest.world key)
SCORES = {
    "admin": "AICB",
    "auditor": "AICB",
    "service": "",
    "analyst": "ACB",  # company customers
    "manager1": "AIC",
    "manager2": "B",
    "rep1a": "AI",
    "rep1b": "CAI",  # deputises for rep1a
    "rep2a": "B",
    "rep2b": "A",  # on A's account team
}
# role → the customers it sees at all (the card, the win-back's 404)
CUSTOMERS = {**SCORES, "service": "AICB"}
CHANGES = {"admin", "manager1", "manager2", "rep1a", "rep1b", "rep2a", "rep2b"}
EXPORTS = {"admin", "auditor", "analyst", "manager1", "manager2", "rep1a", "rep1b", "rep2a", "rep2b"}
PRODUCT_FIGURES = {"admin", "auditor", "analyst", "manager1", "manager2"}
ROLES = list(SCORES)


@pytest.fixture
def scored(world):
    make_scores(world)
    return world


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


@pytest.mark.parametrize("role", ROLES)
def test_pages_show_only_the_scores_in_scope(scored, role):
    user = _users(scored)[role]
    client = _client(user)
    hidden = [c for k, c in scored.customers.items() if k not in SCORES[role]]
    urls = [reverse(f"analytics:{n}") for n in PLAIN]
    urls += [
        reverse("analytics:churn") + "?min_risk=0",
        reverse("analytics:abc") + "?not_key=1",
        reverse("analytics:rfm") + "?segment=important_keep",
        reverse("analytics:groups") + "?by=province",
        reverse("analytics:run_detail", args=[AnalyticsRun.objects.get().pk]),
        reverse("today:index"),
    ]
    for url in urls:
        resp = client.get(url)
        expected = 403 if role == "service" and "/analytics/" in url else 200
        assert resp.status_code == expected, (role, url, resp.status_code)
        body = resp.content.decode()
        for c in hidden:
            assert c.name not in body, (role, url, c.name)
    if role != "service":
        body = client.get(reverse("analytics:churn") + "?min_risk=0").content.decode()
        for k in SCORES[role]:
            assert scored.customers[k].name in body, (role, k)


@pytest.mark.parametrize("role", ROLES)
def test_customer_box_follows_the_customer_and_its_finance(scored, role):
    client = _client(_users(scored)[role])
    for key, customer in scored.customers.items():
        resp = client.get(reverse("analytics:customer_box", args=[customer.pk]))
        if key not in CUSTOMERS[role]:
            assert resp.status_code == 404, (role, key)
        elif key in SCORES[role]:
            assert resp.status_code == 200 and b'id="analytics"' in resp.content, (role, key)
        else:
            assert resp.status_code == 200 and resp.content == b"", (role, key)


@pytest.mark.parametrize("role", ROLES)
def test_winback_404_outside_scope_403_without_change(scored, role):
    client = _client(_users(scored)[role])
    for key, customer in scored.customers.items():
        before = list(VisitPlan.objects.order_by("pk").values())
        resp = client.post(reverse("analytics:winback", args=[customer.pk]))
        after = list(VisitPlan.objects.order_by("pk").values())
        if role == "service":
            assert resp.status_code == 403, (role, key)  # no analytics pages at all
        elif key not in CUSTOMERS[role]:
            assert resp.status_code == 404 and customer.name not in resp.content.decode(), (role, key)
        elif role in CHANGES:
            assert resp.status_code == 302, (role, key, resp.status_code)
            continue
        else:
            assert resp.status_code == 403, (role, key)
        assert before == after, (role, key)


@pytest.mark.parametrize("role", ROLES)
def test_exports_hold_only_rows_in_scope(scored, role):
    from openpyxl import load_workbook

    client = _client(_users(scored)[role])
    for what in ("abc", "rfm", "churn", "groups", "products"):
        url = reverse("analytics:export", args=[what])
        allowed = role in (PRODUCT_FIGURES if what == "products" else EXPORTS)
        resp = client.get(url)
        assert resp.status_code == (200 if allowed else 403), (role, what, resp.status_code)
        resp = client.post(url, {"purpose": "权限测试", "min_risk": "0"})
        if not allowed:
            assert resp.status_code == 403
            continue
        assert resp.status_code == 200, (role, what)
        wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)), read_only=True)
        text = " ".join(str(v) for r in wb.active.iter_rows(values_only=True) for v in r)
        for key, c in scored.customers.items():
            if what in ("abc", "rfm", "churn"):
                assert (c.name in text) == (key in SCORES[role]), (role, what, key)
            else:
                assert c.name not in text
    assert ExportLog.objects.filter(user=_users(scored)[role]).count() == (
        (4 if role in EXPORTS else 0) + (1 if role in PRODUCT_FIGURES else 0)
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_managers_and_analysts_start_runs(scored, role):
    client = _client(_users(scored)[role])
    n = AnalyticsRun.objects.count()
    data = {"as_of": "2024-06-30", "abc_by": "revenue", "preset": "pareto", "abc_a": "80", "abc_b": "95",
            "period_days": "365"}  # fmt: skip
    resp = client.post(reverse("analytics:index"), data)
    if role in ("admin", "manager1", "manager2", "analyst"):
        assert resp.status_code == 302 and AnalyticsRun.objects.count() == n + 1, role
        assert "Start an analysis" in client.get(reverse("analytics:index")).content.decode()
    else:
        assert resp.status_code == 403 and AnalyticsRun.objects.count() == n, role
        if role != "service":
            assert "Start an analysis" not in client.get(reverse("analytics:index")).content.decode()
