"""The access matrix over the web UI: every page of every app, for every role.

The URL patterns are read from the resolver, so a new page joins the matrix by itself; a page
with a parameter the matrix cannot fill makes ``test_every_page_is_in_the_matrix`` fail until it
is taught here. For each role the expected rows follow the rules in customers/rules.py:
out-of-scope records answer 404 and never show up in a list, a search or a card; personal contact
fields appear only for the account team, managers and administrators.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from guanxi.customers.models import Contact, Customer, RevenueReasonRequest

APPS = ("customers", "org", "today")

# role → customers (by world key) it may see, and those whose contacts' personal fields it sees
VISIBLE = {
    "admin": ("AICB", "AICB"),
    "auditor": ("AICB", ""),
    "service": ("AICB", ""),
    "analyst": ("ACB", ""),
    "manager1": ("AIC", "AIC"),
    "manager2": ("B", "B"),
    "rep1a": ("AI", "AI"),
    "rep1b": ("CAI", "CAI"),  # deputises for rep1a
    "rep2a": ("B", "B"),
    "rep2b": ("A", "A"),  # on A's account team
}
CONTACTS_HIDDEN_FROM = {"analyst"}  # contacts are personal data: analysts see none
PERSONAL_MARKER = {"A1": "围棋和钓鱼", "B1": "瑜伽"}

CUSTOMER_PAGES = {"detail", "edit", "history", "contact_create"}
CUSTOMER_POSTS = {"delete", "revenue"}
CONTACT_PAGES = {"contact_detail", "contact_edit", "contact_history"}
CONTACT_POSTS = {"contact_delete"}
REASON_POSTS = {"reason_explain"}
TOKEN_POSTS = {"revoke_token"}
USER_PAGES = {"user_edit"}
PLAIN_PAGES = {
    "customers": {"list", "search", "create", "export", "audit", "settings", "reasons"},
    "org": {"people", "tokens", "user_create", "deputy_create", "department_create", "team_create"},
    "today": {"index"},
}


def _patterns(namespaces=APPS) -> list[tuple[str, str, list[str]]]:
    """(namespace, name, parameter names) of every named page of the given apps (None: all)."""
    out = []
    for entry in get_resolver().url_patterns:
        if (
            isinstance(entry, URLResolver)
            and entry.namespace
            and entry.namespace != "api"
            and (namespaces is None or entry.namespace in namespaces)
        ):
            for p in entry.url_patterns:
                if isinstance(p, URLPattern) and p.name:
                    out.append((entry.namespace, p.name, sorted(p.pattern.converters)))
    return out


def test_every_page_is_in_the_matrix():
    known = (
        CUSTOMER_PAGES
        | CUSTOMER_POSTS
        | CONTACT_PAGES
        | CONTACT_POSTS
        | REASON_POSTS
        | TOKEN_POSTS
        | USER_PAGES
    )
    # an app added later keeps its own matrix in tests/test_access_ui_<app>.py and lists the
    # pages it walks there as COVERED_PAGES = {"namespace:name", ...}
    import importlib
    from pathlib import Path

    elsewhere: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_access_ui_*.py")):
        elsewhere |= set(getattr(importlib.import_module(path.stem), "COVERED_PAGES", ()))
    unknown = []
    for ns, name, params in _patterns(None):
        if f"{ns}:{name}" in elsewhere:
            continue
        if ns not in APPS:
            unknown.append(f"{ns}:{name}")
            continue
        if params:
            if name not in known:
                unknown.append(f"{ns}:{name}")
        elif name not in PLAIN_PAGES.get(ns, set()):
            unknown.append(f"{ns}:{name}")
    assert not unknown, f"pages the access matrix does not cover: {unknown}"


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def _users(world):
    o = world.org
    return {
        "admin": o.admin, "auditor": o.auditor, "service": o.service, "analyst": o.analyst,
        "manager1": o.manager1, "manager2": o.manager2, "rep1a": o.rep1a, "rep1b": o.rep1b,
        "rep2a": o.rep2a, "rep2b": o.rep2b,
    }  # fmt: skip


ROLES = list(VISIBLE)


@pytest.mark.parametrize("role", ROLES)
def test_cards_and_their_pages_answer_404_outside_scope(world, role):
    user = _users(world)[role]
    client = _client(user)
    visible, _personal = VISIBLE[role]
    for key, customer in world.customers.items():
        for name in sorted(CUSTOMER_PAGES):
            url = reverse(f"customers:{name}", args=[customer.pk])
            resp = client.get(url)
            if key in visible:
                assert resp.status_code in (200, 403), (role, name, key, resp.status_code)
            else:
                assert resp.status_code == 404, (role, name, key, resp.status_code)
                assert customer.name not in resp.content.decode(), (role, name, key)


@pytest.mark.parametrize("role", ROLES)
def test_contact_pages_answer_404_outside_scope_and_hide_personal_fields(world, role):
    user = _users(world)[role]
    client = _client(user)
    visible, personal = VISIBLE[role]
    for key, contact in world.contacts.items():
        customer_key = key[0]
        may_see = customer_key in visible and role not in CONTACTS_HIDDEN_FROM
        for name in sorted(CONTACT_PAGES):
            resp = client.get(reverse(f"customers:{name}", args=[contact.pk]))
            body = resp.content.decode()
            if not may_see:
                assert resp.status_code == 404, (role, name, key, resp.status_code)
                assert contact.name not in body
                continue
            assert resp.status_code in (200, 403), (role, name, key, resp.status_code)
            marker = PERSONAL_MARKER.get(key)
            if marker and resp.status_code == 200 and customer_key not in personal:
                assert marker not in body, (role, name, key, "personal field shown")
        # the customer's card lists its contacts: personal fields only for the account team
        card = client.get(reverse("customers:detail", args=[contact.customer_id]))
        marker = PERSONAL_MARKER.get(key)
        if card.status_code == 200 and marker:
            assert (marker in card.content.decode()) == (customer_key in personal), (role, key)


@pytest.mark.parametrize("role", ROLES)
def test_lists_search_and_plain_pages_never_show_out_of_scope_rows(world, role):
    user = _users(world)[role]
    client = _client(user)
    visible, _personal = VISIBLE[role]
    hidden = [c for k, c in world.customers.items() if k not in visible]
    hidden_contacts = [
        c for k, c in world.contacts.items() if k[0] not in visible or role in CONTACTS_HIDDEN_FROM
    ]
    pages = [reverse(f"{ns}:{name}") for ns, names in PLAIN_PAGES.items() for name in sorted(names)]
    pages += [reverse("customers:list") + "?limit=200", reverse("customers:reasons") + "?include_explained=1"]
    # search with a part of each name (the page repeats the query, which is not a leak)
    for c in world.customers.values():
        pages.append(reverse("customers:search") + "?q=" + c.name[:2])
        pages.append(reverse("customers:list") + "?q=" + c.name[:2])
    for p in world.contacts.values():
        pages.append(reverse("customers:search") + "?q=" + p.name[:2])
    for url in pages:
        resp = client.get(url)
        assert resp.status_code in (200, 403, 404), (role, url, resp.status_code)
        body = resp.content.decode()
        for c in hidden:
            assert c.name not in body, (role, url, c.name)
        for p in hidden_contacts:
            assert p.name not in body, (role, url, p.name)
    # the visible ones do show up in the list
    body = client.get(reverse("customers:list") + "?limit=200").content.decode()
    for k in visible:
        assert world.customers[k].name in body, (role, k)


@pytest.mark.parametrize("role", ROLES)
def test_writes_outside_scope_change_nothing(world, role):
    user = _users(world)[role]
    client = _client(user)
    visible, _personal = VISIBLE[role]
    for key, customer in world.customers.items():
        before = Customer.objects.get(pk=customer.pk).version
        for name in sorted(CUSTOMER_POSTS):
            resp = client.post(
                reverse(f"customers:{name}", args=[customer.pk]),
                {"version": before, "period": "2024-03", "revenue": "1", "confirm": "1"},
            )
            if key not in visible:
                assert resp.status_code == 404, (role, name, key, resp.status_code)
        if key not in visible:
            assert Customer.objects.filter(pk=customer.pk, version=before).exists()
            assert not customer.revenue_figures.filter(period_start__month=3).exists()
    for key, contact in world.contacts.items():
        if key[0] in visible and role not in CONTACTS_HIDDEN_FROM:
            continue
        resp = client.post(
            reverse("customers:contact_delete", args=[contact.pk]), {"version": contact.version}
        )
        assert resp.status_code == 404, (role, key, resp.status_code)
        assert Contact.objects.filter(pk=contact.pk).exists()
    for req in RevenueReasonRequest.objects.filter(explained_at__isnull=True):
        key = next(k for k, c in world.customers.items() if c.pk == req.customer_id)
        resp = client.post(reverse("customers:reason_explain", args=[req.pk]), {"reason": "越权"})
        if key not in visible:
            assert resp.status_code == 404, (role, key, resp.status_code)
            req.refresh_from_db()
            assert req.explained_at is None


def test_a_token_of_another_user_cannot_be_revoked(world):
    from guanxi.org.models import ApiToken
    from guanxi.org.services import create_token

    token, _key = create_token(user=world.org.rep2a)
    resp = _client(world.org.rep1a).post(reverse("org:revoke_token", args=[token.pk]))
    assert resp.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


ADMIN_ONLY = ["org:user_create", "org:department_create", "org:team_create"]


@pytest.mark.parametrize("role", ROLES)
def test_organisation_administration_is_for_administrators(world, role):
    user = _users(world)[role]
    client = _client(user)
    urls = [reverse(n) for n in ADMIN_ONLY] + [reverse("org:user_edit", args=[world.org.rep1a.pk])]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == (200 if role == "admin" else 404), (role, url, resp.status_code)
        resp = client.post(url, {"username": "intruder", "name": "X", "kind": "sales", "role": "admin"})
        if role != "admin":
            assert resp.status_code == 404
    deputy = client.get(reverse("org:deputy_create"))
    assert deputy.status_code == (200 if role in ("admin", "manager1", "manager2") else 404)
    from guanxi.org.models import User

    assert not User.objects.filter(username="intruder").exists()
    world.org.rep1a.refresh_from_db()
    if role != "admin":
        assert world.org.rep1a.role == "account_manager"


def test_anonymous_users_are_sent_to_the_login_page(world):
    client = Client()
    for ns, name, params in _patterns():
        args = [world.A.pk] if params else []
        if name in USER_PAGES:
            args = [world.org.rep1a.pk]
        if name in CONTACT_PAGES | CONTACT_POSTS:
            args = [world.A1.pk]
        resp = client.get(reverse(f"{ns}:{name}", args=args))
        assert resp.status_code in (302, 405), (ns, name, resp.status_code)
        if resp.status_code == 302:
            assert reverse("login") in resp["Location"]


def test_service_agents_see_no_credit_payment_terms_or_revenue(world, api_as):
    """Issue 6: service agents see the customer fields a ticket needs, not credit or contracts."""
    from guanxi.customers import services

    services.update_customer(
        actor=world.org.admin, customer_id=world.A.pk, version=Customer.objects.get(pk=world.A.pk).version,
        data={"credit_limit": "8765432", "payment_terms": "月结九十天"},
    )  # fmt: skip
    for role, sees in (("service", False), ("rep1a", True), ("manager1", True), ("auditor", True)):
        user = _users(world)[role]
        body = _client(user).get(reverse("customers:detail", args=[world.A.pk])).content.decode()
        assert ("月结九十天" in body) == sees, role
        assert ("8,765,432" in body or "8765432" in body) == sees, role
        data = api_as(user).get(f"customers/{world.A.pk}").json()
        assert (data["payment_terms"] == "月结九十天") == sees, role
        assert data["finance_visible"] == sees
        history = api_as(user).get(f"customers/{world.A.pk}/history").json()["items"]
        shown = [c["new"] for e in history for c in e["changes"] if c["field"] == "payment_terms"]
        assert shown and (shown[0] == "月结九十天") == sees, (role, shown)
    # the reasons owed carry revenue figures: not for service agents
    assert api_as(world.org.service).get("reasons-owed").json()["count"] == 0
