"""Analytics runs through their public surfaces: ``runs`` (run_now, request_run, execute), the
``guanxi analytics`` command and the background task — as-of conventions, parameter recovery on
data simulated from the models, ABC classes applied with their history, churn signals, back-tests."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from analytics_data import TRUE_BG, TRUE_GG, load_simulated
from guanxi.analytics import runs
from guanxi.analytics.math import churn as churn_math
from guanxi.analytics.models import AnalyticsRun, CustomerScore, RunState
from guanxi.core.errors import Forbidden, ValidationFailed
from guanxi.customers.models import ClassificationChange, Customer
from guanxi.sales import services as sales

AS_OF = datetime.date(2026, 6, 30)


def _order(actor, customer, day, amount, **extra):
    return sales.create_order(
        actor=actor,
        customer_id=customer.pk,
        data={"order_date": day, "lines": [{"amount": str(amount)}], **extra},
    )


def _score(run, customer) -> CustomerScore:
    return CustomerScore.objects.get(run=run, customer_id=customer.pk)


@pytest.mark.django_db
def test_conventions_same_day_as_of_day_repeat_mean(org):
    """Same-day purchases are one purchase; an order on the as-of day counts; T and recency are
    date differences; Gamma-Gamma's monetary value is the mean of the repeat purchase days; orders
    after the as-of date and returns are not purchases."""
    c = Customer.objects.create(name="甲公司", owner=org.rep1a, department=org.sales1, team=org.team1a)
    other = Customer.objects.create(name="乙公司", owner=org.rep1a, department=org.sales1, team=org.team1a)
    _order(org.admin, c, "2026-01-10", 100)
    _order(org.admin, c, "2026-01-10", 50)  # same day: one purchase of 150
    _order(org.admin, c, "2026-03-01", 200)
    _order(org.admin, c, "2026-04-01", -80)  # a return: not a purchase
    _order(org.admin, c, "2026-06-30", 400)  # on the as-of day: counts
    _order(org.admin, c, "2026-07-02", 999)  # after it: ignored
    for d in ("2026-02-01", "2026-04-15"):
        _order(org.admin, other, d, 10)
    run = runs.run_now(as_of=AS_OF)
    assert run.state == RunState.DONE, run.error
    assert run.figures["source"] == "purchase days"  # an order after the as-of date exists
    s = _score(run, c)
    assert s.frequency == 2  # purchase days 01-10, 03-01, 06-30 → x = 2
    assert s.recency_days == 0
    assert s.monetary == pytest.approx((200 + 400) / 2)  # repeat purchases only
    # ABC over the period: revenue with the return netted, nothing after the as-of date
    assert s.abc_value == pytest.approx(150 + 200 - 80 + 400)
    assert s.abc_class == "A" and s.abc_rank == 1


@pytest.mark.django_db
def test_fit_recovers_simulated_parameters_and_stores_every_customer(org):
    ids = load_simulated(org.rep1a, 3000, as_of=AS_OF, seed=11)
    run = runs.run_now(as_of=AS_OF)
    assert run.state == RunState.DONE, run.error
    bg, gg = run.figures["bgnbd"], run.figures["gammagamma"]
    assert bg["converged"] and gg["converged"]
    for k, true in TRUE_BG.items():
        assert bg[k] == pytest.approx(true, rel=0.25), k
    # p and v trade off along a ridge at this size; the mean spend they imply is well pinned down
    true_mean = TRUE_GG["p"] * TRUE_GG["v"] / (TRUE_GG["q"] - 1)
    assert gg["population_mean_spend"] == pytest.approx(true_mean, rel=0.1)
    assert gg["q"] == pytest.approx(TRUE_GG["q"], rel=0.4)
    assert run.customers == len(ids)
    assert CustomerScore.objects.filter(run=run).count() == len(ids)
    assert run.figures["time_unit"] == "days"
    assert sum(v["customers"] for v in run.figures["abc"]["classes"].values()) == len(ids)
    assert sum(run.figures["rfm"].values()) == len(ids)
    s = CustomerScore.objects.filter(run=run, frequency__gt=3).first()
    assert 0 <= s.p_alive <= 1 and s.expected_90 > 0 and s.expected_spend > 0 and s.clv > 0
    assert s.expected_30 <= s.expected_90 <= s.expected_365
    # not stored: derived from the stored facts (x, T, recency) and the run's fitted models, and
    # equal to the models applied to the customer's history as of the run
    from guanxi.analytics.math import bgnbd, gammagamma
    from guanxi.sales.models import PurchaseSummary, to_day

    ps = PurchaseSummary.objects.get(customer_id=s.customer_id)
    x, T, t_x = ps.purchase_days - 1, to_day(AS_OF) - ps.first_day, ps.last_day - ps.first_day
    assert (s.frequency, s.age_days, s.recency_days) == (x, T, T - t_x)
    bg_fit, gg_fit = bgnbd.BgNbdFit.from_figures(bg), gammagamma.GammaGammaFit.from_figures(gg)
    for days, value in ((30, s.expected_30), (90, s.expected_90), (365, s.expected_365)):
        assert value == pytest.approx(bgnbd.expected_purchases(bg_fit, days, [x], [t_x], [T])[0], rel=1e-9)
    mean = (float(ps.gross) - float(ps.first_day_amount)) / x
    spend = gammagamma.expected_average_spend(gg_fit, [x], [mean])[0]
    assert s.expected_spend == pytest.approx(spend, rel=1e-4)
    assert s.clv == pytest.approx(s.expected_365 * s.expected_spend, rel=1e-3)  # monetary stored to cents
    assert s.abc_share == pytest.approx(s.abc_value / run.figures["abc"]["total"])


@pytest.mark.django_db
def test_a_run_as_of_a_past_date_uses_only_data_up_to_it(org):
    ids = load_simulated(org.rep1a, 800, as_of=AS_OF, seed=3)
    past = datetime.date(2026, 1, 31)
    with_later = runs.run_now(as_of=past)
    assert with_later.figures["source"] == "purchase days"
    # the same date after deleting every order after it gives the same fit and scores
    from guanxi.sales import summary
    from guanxi.sales.models import Order

    Order.objects.filter(order_date__gt=past).delete()
    summary.refresh(None)
    without = runs.run_now(as_of=past)
    assert without.figures["source"] == "summary"
    for k in ("r", "alpha", "a", "b"):
        assert with_later.figures["bgnbd"][k] == pytest.approx(without.figures["bgnbd"][k], rel=1e-9)
    a = dict(CustomerScore.objects.filter(run=with_later).values_list("customer_id", "p_alive"))
    b = dict(CustomerScore.objects.filter(run=without).values_list("customer_id", "p_alive"))
    assert a.keys() == b.keys() and len(a) <= len(ids)
    assert all(a[k] == pytest.approx(b[k], abs=1e-6) for k in a)


@pytest.mark.django_db
def test_abc_classes_are_applied_to_customers_with_history_once(org):
    today = timezone.localdate()
    big = Customer.objects.create(name="大客户", owner=org.rep1a, department=org.sales1)
    small = Customer.objects.create(name="小客户", owner=org.rep1a, department=org.sales1)
    for i, amount in enumerate((9000, 9500, 8000)):
        _order(org.admin, big, today - datetime.timedelta(days=30 * (i + 1)), amount)
    _order(org.admin, small, today - datetime.timedelta(days=40), 100)
    _order(org.admin, small, today - datetime.timedelta(days=10), 100)
    run = runs.run_now()
    assert run.figures["abc"]["changed"] == 2
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.abc_class, small.abc_class) == ("A", "C")
    change = ClassificationChange.objects.get(customer=big, field="abc_class")
    assert (change.old_value, change.new_value) == ("", "A")
    assert "ABC" in change.reason
    again = runs.run_now()
    assert again.figures["abc"]["changed"] == 0
    assert ClassificationChange.objects.filter(field="abc_class").count() == 2
    # a run as of an earlier date does not overwrite today's classes
    past = runs.run_now(as_of=today - datetime.timedelta(days=35), abc_a=0.5, abc_b=0.6)
    assert "changed" not in past.figures["abc"]


@pytest.mark.django_db
def test_thresholds_and_profit_basis(org):
    today = timezone.localdate()
    custs = [Customer.objects.create(name=f"客户{i}", owner=org.rep1a) for i in range(10)]
    for i, c in enumerate(custs):
        _order(org.admin, c, today - datetime.timedelta(days=5), 1000 * (10 - i))
    run = runs.run_now(abc_a=0.7, abc_b=0.9)
    classes = dict(CustomerScore.objects.filter(run=run).values_list("customer_id", "abc_class"))
    # values 10k..1k, total 55k; cumulative before each: 0 10 19 27 34 | 40 45 49 | 52 54 (k):
    # A while it is below 70 % (38.5k), B below 90 % (49.5k)
    assert [classes[c.pk] for c in custs] == list("AAAAABBBCC")
    assert run.figures["abc"]["thresholds"] == [0.7, 0.9]
    # by profit: a big order at a thin margin ranks below a small one at a fat margin
    thin, fat = custs[0], custs[9]
    _order(org.admin, thin, timezone.localdate() - datetime.timedelta(days=2), 0)
    sales.create_order(
        actor=org.admin,
        customer_id=thin.pk,
        data={"order_date": timezone.localdate(), "lines": [{"amount": "1", "cost": "9990"}]},
    )
    by_profit = runs.run_now(abc_by="profit")
    ranks = dict(CustomerScore.objects.filter(run=by_profit).values_list("customer_id", "abc_rank"))
    assert ranks[thin.pk] == 10 and ranks[fat.pk] < 10


@pytest.mark.django_db
def test_no_repeat_buyers_is_reported_not_a_failure(org):
    today = timezone.localdate()
    for i in range(5):
        c = Customer.objects.create(name=f"一次客户{i}", owner=org.rep1a)
        _order(org.admin, c, today - datetime.timedelta(days=10 + i), 100 + i)
    run = runs.run_now()
    assert run.state == RunState.DONE
    assert run.figures["bgnbd"]["error"] == "no_repeat_buyers"
    assert run.figures["gammagamma"]["error"] == "no_repeat_buyers"
    assert CustomerScore.objects.filter(run=run, p_alive__isnull=True).count() == 5
    assert CustomerScore.objects.filter(run=run, abc_class="A").exists()


@pytest.mark.django_db
def test_empty_database_run_says_so(org):
    run = runs.run_now()
    assert run.state == RunState.DONE and run.customers == 0
    assert run.figures["message"] == "no_purchases"


@pytest.mark.django_db
def test_churn_reasons_from_complaints_and_overdue_receivables(org):
    from guanxi.service import services as service_services

    today = timezone.localdate()
    c = Customer.objects.create(name="风险客户", owner=org.rep1a, department=org.sales1)
    calm = Customer.objects.create(name="平稳客户", owner=org.rep1a, department=org.sales1)
    for cust in (c, calm):
        for k in range(6):
            _order(org.admin, cust, today - datetime.timedelta(days=20 + 30 * k), 500)
    sales.create_invoice(
        actor=org.admin,
        customer_id=c.pk,
        data={"number": "INV-1", "issue_date": today - datetime.timedelta(days=60),
              "due_date": today - datetime.timedelta(days=30), "amount": "1000"},
    )  # fmt: skip
    service_services.create_ticket(
        actor=org.admin,
        data={"kind": "complaint", "channel": "hotline", "customer": c.pk, "subject": "质量问题",
              "description": "交付的设备有缺陷", "cause": "product_defect", "expectation": "更换设备"},
    )  # fmt: skip
    run = runs.run_now()
    risky, fine = _score(run, c), _score(run, calm)
    reasons = churn_math.reason_codes(risky.churn_reasons)
    assert "open_complaints" in reasons and "overdue_receivables" in reasons
    assert churn_math.reason_codes(fine.churn_reasons) == []
    assert risky.churn_risk > fine.churn_risk


@pytest.mark.django_db
def test_backtest_compares_prediction_with_what_happened(org):
    load_simulated(org.rep1a, 2500, as_of=AS_OF, seed=5)
    run = runs.run_now(kind="backtest", as_of="2026-01-01", until=AS_OF)
    assert run.state == RunState.DONE, run.error
    bt = run.figures["backtest"]
    from guanxi.sales.models import PurchaseDay, to_day

    seasoned = set(
        CustomerScore.objects.filter(run=run).values_list("customer_id", flat=True)
    )  # customers known on the as-of date
    actual = PurchaseDay.objects.filter(
        customer_id__in=seasoned,
        day__gt=to_day(datetime.date(2026, 1, 1)),
        day__lte=to_day(AS_OF),
        orders__gt=0,
    ).count()
    assert bt["actual"] == actual
    assert bt["predicted"] == pytest.approx(actual, rel=0.15)
    assert bt["auc_expected"] > 0.6
    assert 0 <= bt["auc_p_alive"] <= 1
    assert bt["calibration"][0]["x_from"] == 0


@pytest.mark.django_db
def test_validation_and_permissions(org):
    with pytest.raises(ValidationFailed) as e:
        runs.create_run(actor=org.admin, as_of="2026-13-01", abc_a=0.9, abc_b=0.8, period_days=-1)
    assert {"as_of", "abc_b", "period_days"} <= set(e.value.errors)
    with pytest.raises(ValidationFailed) as e:
        runs.create_run(actor=org.admin, kind="backtest", as_of="2026-06-30", until="2026-06-01")
    assert "until" in e.value.errors
    with pytest.raises(ValidationFailed) as e:
        runs.create_run(actor=org.admin, as_of=timezone.localdate() + datetime.timedelta(days=1))
    assert "as_of" in e.value.errors
    for user in (org.rep1a, org.service, org.auditor):
        with pytest.raises(Forbidden):
            runs.create_run(actor=user)
    for user in (org.admin, org.manager1, org.analyst):
        assert runs.create_run(actor=user).state == RunState.QUEUED


@pytest.mark.django_db(transaction=True)
def test_request_run_goes_through_the_background_task(org):
    run = runs.request_run(actor=org.analyst, trigger="api")
    run.refresh_from_db()
    assert run.state == RunState.DONE  # huey runs tasks inline under the test suite
    assert runs.latest_run() == run


@pytest.mark.django_db
def test_nightly_task_runs_as_of_today(org):
    from guanxi.analytics.tasks import nightly_analytics

    nightly_analytics.call_local()
    run = AnalyticsRun.objects.get()
    assert run.trigger == "schedule" and run.as_of == timezone.localdate() and run.state == RunState.DONE


@pytest.mark.django_db
def test_old_runs_lose_their_rows_but_keep_their_figures(org, django_capture_on_commit_callbacks):
    c = Customer.objects.create(name="客户", owner=org.rep1a)
    _order(org.admin, c, timezone.localdate() - datetime.timedelta(days=3), 10)
    made = []
    for _ in range(runs.KEEP_SCORED_RUNS + 2):
        # each run queues the pruning of the older runs' rows as a job once it is committed
        with django_capture_on_commit_callbacks(execute=True) as jobs:
            made.append(runs.run_now())
        assert len(jobs) == 1
    kept = [r.pk for r in made[-runs.KEEP_SCORED_RUNS :]]
    assert set(CustomerScore.objects.values_list("run_id", flat=True)) == set(kept)
    first = AnalyticsRun.objects.get(pk=made[0].pk)
    assert first.figures["scores_pruned"] is True and "abc" in first.figures


@pytest.mark.django_db
def test_cli_json_names_the_parameters(org):
    load_simulated(org.rep1a, 1500, as_of=AS_OF, seed=2)
    out = io.StringIO()
    call_command("analytics", "run", "--as-of", "2026-06-30", "--json", stdout=out)
    data = json.loads(out.getvalue())
    for k in ("r", "alpha", "a", "b", "p", "q", "v"):
        assert isinstance(data[k], float)
    assert data["time_unit"] == "days"
    assert data["log_likelihood"]["bgnbd"] < 0 and data["log_likelihood"]["gammagamma"] < 0
    out = io.StringIO()
    call_command(
        "analytics", "backtest", "--as-of", "2026-01-01", "--until", "2026-06-30", "--json", stdout=out
    )
    data = json.loads(out.getvalue())
    assert data["predicted"] > 0 and data["actual"] > 0
    with pytest.raises(CommandError, match="as_of"):
        call_command("analytics", "run", "--as-of", "yesterday")


@pytest.mark.django_db(transaction=True)
def test_the_forked_side_reads_give_the_same_results(org, monkeypatch):
    """At scale a second process reads the windows while this one fits; same numbers either way."""
    load_simulated(org.rep1a, 400, as_of=AS_OF, seed=9)
    one = runs.run_now(as_of=AS_OF)
    monkeypatch.setattr(runs, "FORK_MIN_BUYERS", 1)
    two = runs.run_now(as_of=AS_OF)
    assert "wait_for_side_reads" in two.figures["timings"]
    assert "wait_for_side_reads" not in one.figures["timings"]
    assert one.figures["abc"] == two.figures["abc"] and one.figures["churn"] == two.figures["churn"]
    a = list(
        CustomerScore.objects.filter(run=one).order_by("customer_id").values_list("abc_value", "churn_risk")
    )
    b = list(
        CustomerScore.objects.filter(run=two).order_by("customer_id").values_list("abc_value", "churn_risk")
    )
    assert a == b


@pytest.mark.django_db
def test_every_buyer_gets_exactly_one_row_whatever_the_batching(org):
    # rows go in statements of many rows each on SQLite (COPY on PostgreSQL): a number of buyers
    # that is not a multiple of the statement size exercises the full statements and the rest
    ids = load_simulated(org.rep1a, 257, as_of=AS_OF, seed=5)
    run = runs.run_now(as_of=AS_OF)
    assert run.state == RunState.DONE, run.error
    stored = list(
        CustomerScore.objects.filter(run=run).order_by("customer_id").values_list("customer_id", "abc_rank")
    )
    assert [c for c, _r in stored] == sorted(ids)
    assert sorted(r for _c, r in stored) == list(range(1, len(ids) + 1))
