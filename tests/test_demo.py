"""`guanxi demo`: a small demo company is complete, valid, lived-in and the same for the same seed."""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from faker import Faker
from stdnum.cn import uscc

from guanxi.customers import selectors
from guanxi.customers.models import ClassificationChange, Contact, Customer, RevenueReasonRequest
from guanxi.demo import loader, registry
from guanxi.demo.customers import Planner
from guanxi.org.models import Deputy, Role, User

LOGINS = {
    "admin": Role.ADMIN,
    "manager": Role.MANAGER,
    "rep1": Role.ACCOUNT_MANAGER,
    "rep2": Role.ACCOUNT_MANAGER,
    "service": Role.SERVICE_AGENT,
    "analyst": Role.ANALYST,
    "auditor": Role.AUDITOR,
}


def run_demo(**options) -> str:
    out = StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


ORG = {
    "reps": {"sales_east": ["rep1", "rep2", "rep3"], "sales_north": ["rep6", "rep7"]},
    "managers": {"sales_east": "manager", "sales_north": "manager2"},
    "dept_of": {"rep1": "sales_east", "rep2": "sales_east", "rep3": "sales_east", "manager": "sales_east",
                "rep6": "sales_north", "rep7": "sales_north", "manager2": "sales_north"},
}  # fmt: skip


def _moment(today):
    def moment(days_ago, hour=10, minute=0):
        day = today - datetime.timedelta(days=int(days_ago))
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))

    return moment


def _snapshot() -> tuple[list, list, list]:
    customers = list(Customer.objects.order_by("id").values_list("name", "credit_code", "owner__username"))
    contacts = list(Contact.objects.order_by("id").values_list("name", "mobile"))
    history = list(
        Customer.history.model.objects.order_by("history_date", "history_id").values_list(
            "name", "history_date"
        )
    )
    return customers, contacts, history


def test_same_seed_same_company(db):
    def load_and_roll_back(seed: int):
        sid = transaction.savepoint()
        loader.load(seed=seed, customers=7, out=lambda s: None)
        snap = _snapshot()
        transaction.savepoint_rollback(sid)
        assert not Customer.objects.exists()
        return snap

    first = load_and_roll_back(7)
    assert first[0] and first[1] and first[2]
    assert load_and_roll_back(7) == first


def test_another_seed_another_company():
    def names(seed: int) -> list[str]:
        faker = Faker("zh_CN")
        faker.seed_instance(seed)
        today = datetime.date(2025, 3, 1)
        planner = Planner(
            seed=seed, count=10, today=today, moment=_moment(today), org=ORG, faker=faker,
            high_value=Decimal(1_000_000), mid_value=Decimal(100_000),
        )  # fmt: skip
        return [p.name for p in planner.plan()]

    assert names(1) == names(1)
    assert names(1) != names(2)


def test_generators_run_in_order_and_report_counts(db, monkeypatch):
    seen = []
    monkeypatch.setattr(registry, "_generators", dict(registry._generators))
    registry.register(
        "later-app", lambda ctx: seen.append(ctx.state["users"]["rep1"]) or {"widgets": 3}, order=99
    )
    names = [g.name for g in registry.generators()]
    assert names.index("org") < names.index("customers") < names.index("later-app")
    counts = loader.load(customers=3, out=lambda s: None)
    assert counts["widgets"] == 3 and seen[0].username == "rep1"


def test_a_failed_load_leaves_nothing_behind(db, monkeypatch):
    def broken(ctx):
        raise RuntimeError("generator failed")

    monkeypatch.setattr(registry, "_generators", dict(registry._generators))
    registry.register("broken", broken, order=99)
    with pytest.raises(RuntimeError):
        loader.load(customers=2, out=lambda s: None)
    assert not User.objects.exists() and not Customer.objects.exists()


# The tests that load into an empty database run first; the rest share one demo company of 30
# customers, loaded once for the module inside a transaction that is rolled back at its end.


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    fast_hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=fast_hasher):
        with transaction.atomic():
            out = run_demo(customers=30)
            yield out
            transaction.set_rollback(True)


@pytest.fixture
def demo(demo_output, db):
    return demo_output


def test_demo_logins_and_organisation(demo):
    assert "admin, manager, rep1, rep2, service, analyst, auditor — password: demo" in demo
    for username, role in LOGINS.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password("demo")
        assert user.display_name and not user.display_name.isascii()
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    rep1, rep2, manager = (User.objects.get(username=u) for u in ("rep1", "rep2", "manager"))
    assert rep1.department_id == rep2.department_id == manager.department_id
    assert rep1.team_id != rep2.team_id
    assert User.objects.filter(role=Role.MANAGER).exclude(department=manager.department).exists()
    deputy = Deputy.objects.get(deputy=rep2)
    assert deputy.starts_on <= timezone.localdate() <= deputy.ends_on


def test_demo_customers_contacts_and_history(demo):
    customers = Customer.objects.all()
    assert customers.count() == 30
    codes = [c for c in customers.values_list("credit_code", flat=True) if c]
    assert codes and all(uscc.is_valid(c) for c in codes)
    assert customers.filter(is_key_account=True).exists()
    assert customers.filter(kind="individual").exclude(membership_level="").exists()
    for customer in customers.filter(kind="company"):
        assert 2 <= customer.contacts.count() <= 5
    assert Contact.objects.filter(name="张三丰").exists()
    assert Contact.objects.filter(birthday_calendar="lunar", birthday_leap_month=True).exists()

    # the audit trail reaches back over months, written by several users, with reasons
    history = Customer.history.model.objects.all()
    assert history.count() > customers.count()
    oldest = history.order_by("history_date").first().history_date
    assert oldest < timezone.now() - datetime.timedelta(days=180)
    assert history.values("history_user").distinct().count() >= 3
    assert not history.filter(history_date__gt=timezone.now()).exists()
    changes = ClassificationChange.objects.filter(field="lifecycle_stage", new_value="signed")
    assert changes.exclude(reason="").exists()


def test_demo_leaves_reasons_owed_for_rep1_and_rep2(demo):
    for username in ("rep1", "rep2"):
        user = User.objects.get(username=username)
        assert selectors.reasons_owed(user, only_mine=True).exists(), username
    assert RevenueReasonRequest.objects.filter(explained_at__isnull=False).exists()


def test_if_empty_leaves_a_filled_database_alone(demo):
    before = (Customer.objects.count(), Contact.objects.count(), User.objects.count())
    out = run_demo(if_empty=True)
    assert "not loaded" in out
    assert (Customer.objects.count(), Contact.objects.count(), User.objects.count()) == before
    with pytest.raises(CommandError):
        run_demo(customers=5)


def test_demo_has_analytics_to_show(demo):
    """Every analytics page has something to show: a run as of today with scores, ABC classes on
    the customers, churn candidates, and a back-test."""
    from guanxi.analytics.models import AnalyticsRun, CustomerScore, RunState
    from guanxi.customers.models import Customer

    run = AnalyticsRun.objects.get(kind="run", state=RunState.DONE)
    assert run.customers >= 15 and "r" in run.figures["bgnbd"]  # 30 demo customers here
    assert CustomerScore.objects.filter(run=run, churn_risk__gt=0).exists()
    assert Customer.objects.filter(abc_class="A").exists()
    backtest = AnalyticsRun.objects.get(kind="backtest", state=RunState.DONE)
    assert backtest.figures["backtest"]["actual"] > 0
