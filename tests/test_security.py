"""Security baseline: argon2 password hashes, login throttling (django-axes), CSRF on the login form
and on session-authenticated API writes, safe response headers."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.test import Client
from django.urls import reverse

import factories
from conftest import PASSWORD
from guanxi.customers.models import Customer
from guanxi.org.models import Role, User

CSRF_SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"  # 32 characters from the CSRF alphabet


@pytest.fixture
def production_hashers(settings):
    """Undo the fast test hasher: the hashers exactly as the settings module configures them."""
    configured = importlib.import_module("guanxi.config.settings").PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = configured
    return configured


def test_passwords_are_hashed_with_argon2(db, production_hashers):
    assert production_hashers[0].endswith("Argon2PasswordHasher")
    user = User.objects.create_user("hashme", password="Correct-horse-9", role=Role.ACCOUNT_MANAGER)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert "Correct-horse-9" not in user.password
    assert check_password("Correct-horse-9", user.password)
    assert Client().login(username="hashme", password="Correct-horse-9")


def test_an_older_hash_is_upgraded_to_argon2_on_login(db, production_hashers, settings):
    settings.PASSWORD_HASHERS = [production_hashers[1]]  # PBKDF2 only, as an older install had
    user = User.objects.create_user("legacy", password="Correct-horse-9")
    assert user.password.startswith("pbkdf2_")
    settings.PASSWORD_HASHERS = production_hashers
    assert Client().login(username="legacy", password="Correct-horse-9")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def test_login_form_works(org, axes_on):
    c = Client()
    resp = login(c, "rep1a", PASSWORD)
    assert resp.status_code == 302
    assert logged_in(c)


def test_five_wrong_passwords_lock_the_account(org, axes_on):
    c = Client()
    for _ in range(4):
        resp = login(c, "rep1a", "wrong-password")
        assert resp.status_code == 200  # the form again, with an error
        assert not logged_in(c)
    resp = login(c, "rep1a", "wrong-password")  # the fifth
    assert resp.status_code in (403, 429)
    # now even the right password is refused
    c2 = Client()
    resp = login(c2, "rep1a", PASSWORD)
    assert resp.status_code in (403, 429)
    assert not logged_in(c2)
    # other users are not affected
    c3 = Client()
    assert login(c3, "rep1b", PASSWORD).status_code == 302
    assert logged_in(c3)


def test_a_successful_login_resets_the_count(org, axes_on):
    c = Client()
    for _ in range(4):
        login(c, "rep1a", "wrong-password")
    assert login(c, "rep1a", PASSWORD).status_code == 302
    c.logout()
    for _ in range(4):
        assert login(c, "rep1a", "wrong-password").status_code == 200
    assert login(c, "rep1a", PASSWORD).status_code == 302


def test_login_form_enforces_csrf(org):
    c = Client(enforce_csrf_checks=True)
    resp = c.post(reverse("login"), {"username": "rep1a", "password": PASSWORD})
    assert resp.status_code == 403
    assert not logged_in(c)
    # with the token from the form it works
    page = c.get(reverse("login"))
    token = page.context["csrf_token"]
    resp = c.post(
        reverse("login"), {"username": "rep1a", "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert resp.status_code == 302
    assert logged_in(c)


def test_session_authenticated_api_write_needs_csrf(org):
    c = Client(enforce_csrf_checks=True)
    c.force_login(org.rep1a)
    body = factories.customer_data(name="CSRF测试有限公司")
    # reading with the session is fine
    assert c.get("/api/v1/customers").status_code == 200
    resp = c.post("/api/v1/customers", data=body, content_type="application/json")
    assert resp.status_code in (401, 403)
    assert not Customer.objects.filter(name="CSRF测试有限公司").exists()
    # with the CSRF cookie and header the same session may write
    c.cookies["csrftoken"] = CSRF_SECRET
    resp = c.post("/api/v1/customers", data=body, content_type="application/json",
                  headers={"X-CSRFToken": CSRF_SECRET})  # fmt: skip
    assert resp.status_code == 201, resp.content
    cid = resp.json()["id"]
    # a PATCH and a DELETE without the token are refused as well
    c2 = Client(enforce_csrf_checks=True)
    c2.force_login(org.rep1a)
    resp = c2.patch(
        f"/api/v1/customers/{cid}", data={"version": 1, "city": "上海"}, content_type="application/json"
    )
    assert resp.status_code in (401, 403)
    assert c2.delete(f"/api/v1/customers/{cid}").status_code in (401, 403)
    assert Customer.objects.get(pk=cid).city == "北京"


def test_bearer_token_writes_need_no_csrf(org, api_as):
    client = api_as(org.rep1a)
    client.client = Client(enforce_csrf_checks=True)
    resp = client.post("customers", json=factories.customer_data())
    assert resp.status_code == 201


def test_security_headers_and_cookies(org):
    c = Client()
    resp = c.get(reverse("login"))
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    resp = login(c, "rep1a", PASSWORD)
    assert c.cookies["sessionid"]["httponly"]


def test_pages_need_login(org):
    c = Client()
    for name in ("customers:list", "today:index"):
        resp = c.get(reverse(name))
        assert resp.status_code == 302
        assert reverse("login") in resp.headers["Location"]
