"""Analytics runs and their per-customer results (C4).

A run computes, as of a date and from data up to it only, ABC classes, RFM scores and segments,
the BG/NBD and Gamma-Gamma fits with each customer's probability alive, expected purchases, spend
and lifetime value, and a churn risk with its reasons. The run keeps its figures (fitted
parameters, log-likelihoods, timings, back-test metrics) in ``figures``; per-customer results are
rows of ``CustomerScore`` tied to the run they came from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RunKind(models.TextChoices):
    RUN = "run", _("Analysis (分析)")
    BACKTEST = "backtest", _("Back-test (回测)")


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RunTrigger(models.TextChoices):
    CLI = "cli", _("Command line")
    UI = "ui", _("Web page")
    API = "api", _("API")
    SCHEDULE = "schedule", _("Nightly schedule")


class AbcBasis(models.TextChoices):
    REVENUE = "revenue", _("Revenue (销售额)")
    PROFIT = "profit", _("Profit (利润)")


class AnalyticsRun(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices, default=RunKind.RUN)
    as_of = models.DateField(_("as of"))
    until = models.DateField(_("compared until"), null=True, blank=True)
    abc_by = models.CharField(_("ABC by"), max_length=10, choices=AbcBasis.choices, default=AbcBasis.REVENUE)
    abc_a = models.FloatField(_("class A up to (cumulative share)"), default=0.80)
    abc_b = models.FloatField(_("class B up to (cumulative share)"), default=0.95)
    period_days = models.IntegerField(_("ABC period (days; 0 = all history)"), default=365)
    state = models.CharField(_("state"), max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    trigger = models.CharField(_("started from"), max_length=10, choices=RunTrigger.choices, default="cli")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("requested by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    customers = models.IntegerField(_("customers"), default=0)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("analytics run (客户分析)")
        verbose_name_plural = _("analytics runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "state", "-finished_at"], name="run_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.as_of}"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CustomerScore(models.Model):
    """One customer's results in one run."""

    run = models.ForeignKey(AnalyticsRun, on_delete=models.CASCADE, related_name="scores")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    owner_id = models.IntegerField(null=True)  # the owner when the run was made (lists per owner)
    # ABC (ABC分析)
    abc_class = models.CharField(_("ABC class"), max_length=1, blank=True)
    abc_rank = models.IntegerField(_("rank"), null=True)
    abc_value = models.FloatField(_("value in the period"), default=0)
    abc_share = models.FloatField(_("share"), default=0)
    abc_cumulative = models.FloatField(_("cumulative share"), default=0)
    # RFM
    recency_days = models.IntegerField(_("days since last purchase"), null=True)
    frequency = models.IntegerField(_("repeat purchases"), default=0)  # x: purchase days - 1
    monetary = models.FloatField(_("mean repeat purchase"), null=True)
    r_score = models.SmallIntegerField(default=0)
    f_score = models.SmallIntegerField(default=0)
    m_score = models.SmallIntegerField(default=0)
    rfm_segment = models.CharField(_("RFM segment"), max_length=24, blank=True)
    # BG/NBD and Gamma-Gamma
    p_alive = models.FloatField(_("probability alive"), null=True)
    expected_30 = models.FloatField(_("expected purchases, 30 days"), null=True)
    expected_90 = models.FloatField(_("expected purchases, 90 days"), null=True)
    expected_365 = models.FloatField(_("expected purchases, 365 days"), null=True)
    expected_spend = models.FloatField(_("expected spend per purchase"), null=True)
    clv = models.FloatField(_("customer lifetime value (12 months)"), null=True)
    # churn early warning (流失预警)
    churn_risk = models.FloatField(_("churn risk"), default=0)
    churn_reasons = models.IntegerField(_("churn reasons"), default=0)  # bit mask of math.churn.REASONS

    class Meta:
        verbose_name = _("customer score")
        # written in customer order, so both the table and this index are appended to; no other
        # index: each would cost more to maintain on a million-row run than it saves the pages
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="score_one_per_run")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.customer_id}"
