"""Administrators manage people, departments, teams and deputies through the web UI; the
customers of a moved account manager follow them to the new department."""

from django.test import Client
from django.urls import reverse

import factories
from guanxi.customers.models import Customer
from guanxi.org.models import Department, Deputy, Team, User


def _admin(org) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(org.admin)
    return c


def test_admin_creates_a_user_with_role_and_team(org):
    resp = _admin(org).post(
        reverse("org:user_create"),
        {"username": "rep9", "display_name": "赵六", "role": "account_manager", "department": org.sales2.pk,
         "team": org.team2a.pk, "is_active": "on", "password": "Zhao-liu-2026"},
    )  # fmt: skip
    assert resp.status_code == 302
    u = User.objects.get(username="rep9")
    assert (u.role, u.department_id, u.team_id) == ("account_manager", org.sales2.pk, org.team2a.pk)
    assert u.check_password("Zhao-liu-2026")


def test_bad_user_input_names_the_field_and_saves_nothing(org):
    resp = _admin(org).post(
        reverse("org:user_create"),
        {"username": "rep1a", "role": "account_manager", "department": org.sales1.pk, "team": org.team2a.pk,
         "password": "123"},
    )  # fmt: skip
    assert resp.status_code == 200
    form = resp.context["form"]
    assert "username" in form.errors and "team" in form.errors and "password" in form.errors
    assert User.objects.filter(username="rep1a").count() == 1


def test_moving_a_rep_moves_their_customers(org):
    c = factories.make_customer(org.rep1a)
    resp = _admin(org).post(
        reverse("org:user_edit", args=[org.rep1a.pk]),
        {"display_name": "张伟", "role": "account_manager", "department": org.sales2.pk,
         "team": org.team2b.pk, "is_active": "on"},
    )  # fmt: skip
    assert resp.status_code == 302
    c = Customer.objects.get(pk=c.pk)
    assert (c.department_id, c.team_id) == (org.sales2.pk, org.team2b.pk)


def test_departments_teams_and_deputies(org):
    client = _admin(org)
    assert (
        client.post(reverse("org:department_create"), {"name": "产品部", "kind": "product"}).status_code
        == 302
    )
    dept = Department.objects.get(name="产品部")
    assert (
        client.post(reverse("org:team_create"), {"name": "平台组", "department": dept.pk}).status_code == 302
    )
    assert Team.objects.filter(name="平台组", department=dept).exists()
    resp = client.post(
        reverse("org:deputy_create"),
        {"absent": org.rep1a.pk, "deputy": org.rep1b.pk, "starts_on": "2026-12-01", "ends_on": "2026-11-01"},
    )
    assert resp.status_code == 200 and "ends_on" in resp.context["form"].errors
    assert not Deputy.objects.exists()


def test_a_manager_adds_a_deputy_only_in_their_department(org):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager1)
    ok = client.post(
        reverse("org:deputy_create"),
        {"absent": org.rep1a.pk, "deputy": org.rep1b.pk, "starts_on": "2026-12-01", "ends_on": "2026-12-10"},
    )
    assert ok.status_code == 302
    refused = client.post(
        reverse("org:deputy_create"),
        {"absent": org.rep2a.pk, "deputy": org.rep1b.pk, "starts_on": "2026-12-01", "ends_on": "2026-12-10"},
    )
    assert refused.status_code == 200
    assert Deputy.objects.count() == 1
