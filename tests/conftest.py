"""Shared fixtures: an organisation with every role, a small world of customers and contacts made
through the services, and API clients that authenticate with a bearer token.

Fixtures
- ``org``       two sales departments (each a manager and two reps in two teams), a service
                department with a service agent, an analyst, an auditor and an administrator
- ``world``     four customers and three contacts spread over that organisation (see below)
- ``api_as``    ``api_as(user)`` → an ``ApiClient`` sending ``Authorization: Bearer <token>``
- ``anon_api``  the same client without credentials
- ``PASSWORD``  every user's password
"""

from __future__ import annotations

import datetime
import json as jsonlib
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

import factories
from browser_support import browser, browser_page  # noqa: F401  (fixtures shared by the browser tests)
from guanxi.org import services as org_services
from guanxi.org.models import Department, Role, Team, User

PASSWORD = "Guanxi-test-pw-1"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a database file like production (WAL, BEGIN IMMEDIATE) rather than in
    Django's shared-cache in-memory database, whose table locks fail concurrent writers at once
    ("database table is locked") instead of letting them queue; the race test and the live server
    of the browser tests need real concurrency."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Each test its own in-memory cache (rate limits and other counters never leak between tests)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"test-{uuid.uuid4()}"}}  # fmt: skip


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _axes_off_by_default(settings):
    """Login throttling (django-axes) is tested on its own in test_security, which turns it back
    on; elsewhere ``Client.login`` (no request) would trip axes' backend."""
    settings.AXES_ENABLED = False


def make_user(username: str, role: str, *, department=None, team=None, display_name: str = "") -> User:
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        department=department,
        team=team,
        display_name=display_name or username,
    )


@pytest.fixture
def org(db) -> SimpleNamespace:
    """Sales 1 (teams 1a, 1b) and Sales 2 (teams 2a, 2b), each with a manager and a rep per team;
    a service department with a service agent; an analyst, an auditor and an administrator."""
    o = SimpleNamespace()
    o.sales1 = Department.objects.create(name="销售一部", kind="sales")
    o.sales2 = Department.objects.create(name="销售二部", kind="sales")
    o.service_dept = Department.objects.create(name="客服部", kind="service")
    o.team1a = Team.objects.create(name="华北组", department=o.sales1)
    o.team1b = Team.objects.create(name="华东组", department=o.sales1)
    o.team2a = Team.objects.create(name="华南组", department=o.sales2)
    o.team2b = Team.objects.create(name="西南组", department=o.sales2)
    o.manager1 = make_user("manager1", Role.MANAGER, department=o.sales1, display_name="经理一")
    o.manager2 = make_user("manager2", Role.MANAGER, department=o.sales2, display_name="经理二")
    o.rep1a = make_user(
        "rep1a", Role.ACCOUNT_MANAGER, department=o.sales1, team=o.team1a, display_name="张伟"
    )
    o.rep1b = make_user(
        "rep1b", Role.ACCOUNT_MANAGER, department=o.sales1, team=o.team1b, display_name="王芳"
    )
    o.rep2a = make_user(
        "rep2a", Role.ACCOUNT_MANAGER, department=o.sales2, team=o.team2a, display_name="李娜"
    )
    o.rep2b = make_user(
        "rep2b", Role.ACCOUNT_MANAGER, department=o.sales2, team=o.team2b, display_name="刘洋"
    )
    o.service = make_user("service", Role.SERVICE_AGENT, department=o.service_dept, display_name="客服小陈")
    o.analyst = make_user("analyst", Role.ANALYST, display_name="分析师")
    o.auditor = make_user("auditor", Role.AUDITOR, display_name="审计员")
    o.admin = make_user("admin", Role.ADMIN, display_name="管理员")
    return o


PERSONAL_A1 = {
    "birthday_calendar": "lunar",
    "birthday_month": 8,
    "birthday_day": 15,
    "birth_year": 1975,
    "interests": "围棋和钓鱼",
    "family": "已婚，一个女儿",
    "personality": "稳重",
    "education": "清华大学",
    "anniversaries": "2010-05-01 入职十周年",
}


@pytest.fixture
def world(org) -> SimpleNamespace:
    """Customers and contacts across the organisation.

    - ``A`` 华东精密机械有限公司: company, owner rep1a (Sales 1), account team [rep2b]; contact
      ``A1`` 李建国 with personal fields filled in
    - ``I`` 王小明: an individual customer of rep1a
    - ``C`` 江南纺织有限公司: company, owner rep1b (Sales 1); contact ``C1`` 周海涛
    - ``B`` 岭南电子科技有限公司: company, owner rep2a (Sales 2); contact ``B1`` 陈美玲 (personal
      fields filled in)
    - rep1b deputises for rep1a from yesterday to next week
    - a revenue reason is owed for A, I, C and B
    """
    o = org
    w = SimpleNamespace(org=o)
    w.A = factories.make_customer(
        o.admin, name="华东精密机械有限公司", owner=o.rep1a, account_team=[o.rep2b],
        credit_code=factories.credit_code(), email="info@huadong-jm.cn", phone="021-55501234",
    )  # fmt: skip
    w.I = factories.make_customer(
        o.admin, name="王小明", kind="individual", owner=o.rep1a, phone="13912345678"
    )
    w.C = factories.make_customer(o.admin, name="江南纺织有限公司", owner=o.rep1b, phone="0571-86011234")
    w.B = factories.make_customer(
        o.admin,
        name="岭南电子科技有限公司",
        owner=o.rep2a,
        phone="020-38881234",
        credit_code=factories.credit_code(),
    )
    w.A1 = factories.make_contact(o.admin, w.A, name="李建国", mobile="13800138000", **PERSONAL_A1)
    w.C1 = factories.make_contact(o.admin, w.C, name="周海涛", mobile="13700137000")
    w.B1 = factories.make_contact(o.admin, w.B, name="陈美玲", mobile="13600136000", interests="瑜伽")
    today = timezone.localdate()
    org_services.add_deputy(
        actor=o.admin, absent_id=o.rep1a.pk, deputy_id=o.rep1b.pk,
        starts_on=today - datetime.timedelta(days=1), ends_on=today + datetime.timedelta(days=7),
    )  # fmt: skip
    from guanxi.customers import services

    for cust in (w.A, w.I, w.C, w.B):
        services.record_revenue(actor=None, customer_id=cust.pk, period_start="2024-01", revenue=100_000)
        services.record_revenue(actor=None, customer_id=cust.pk, period_start="2024-02", revenue=300_000)
    w.customers = {"A": w.A, "I": w.I, "C": w.C, "B": w.B}
    w.contacts = {"A1": w.A1, "C1": w.C1, "B1": w.B1}
    return w


class ApiClient:
    """A thin JSON client for /api/v1/ that authenticates with a bearer token."""

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.token = token
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    @staticmethod
    def url(path: str) -> str:
        if path.startswith("/api/"):
            return path
        return "/api/v1/" + path.lstrip("/")

    def get(self, path: str, params: dict[str, Any] | None = None, **kw):
        return self.client.get(self.url(path), params or {}, headers=self.headers, **kw)

    def _send(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None):
        url = self.url(path)
        if params:
            from urllib.parse import urlencode

            url += "?" + urlencode(params)
        fn = getattr(self.client, method)
        body = jsonlib.dumps(json if json is not None else {}, default=str)
        return fn(url, data=body, content_type="application/json", headers=self.headers)

    def post(self, path: str, json: Any = None, params: dict[str, Any] | None = None):
        return self._send("post", path, json, params)

    def patch(self, path: str, json: Any = None, params: dict[str, Any] | None = None):
        return self._send("patch", path, json, params)

    def put(self, path: str, json: Any = None, params: dict[str, Any] | None = None):
        return self._send("put", path, json, params)

    def delete(self, path: str, json: Any = None, params: dict[str, Any] | None = None):
        return self._send("delete", path, json, params)

    def request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None):
        if method == "get":
            return self.get(path, params)
        return self._send(method, path, json, params)


@pytest.fixture
def api_as(db):
    """``api_as(user)`` → an ApiClient authenticated with a fresh token of ``user`` (cached)."""
    tokens: dict[int, str] = {}

    def make(user: User) -> ApiClient:
        if user.pk not in tokens:
            _tok, key = org_services.create_token(user=user, name="tests")
            tokens[user.pk] = key
        return ApiClient(tokens[user.pk])

    return make


@pytest.fixture
def anon_api(db) -> ApiClient:
    return ApiClient(None)
