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

    def fits(self):
        """The fitted BG/NBD and Gamma-Gamma models of this run (either None when it has none),
        built once per instance from ``figures``."""
        cached = getattr(self, "_fits", None)
        if cached is None:
            from .math.bgnbd import BgNbdFit
            from .math.gammagamma import GammaGammaFit

            figures = self.figures or {}
            bg = figures.get("bgnbd") or {}
            gg = figures.get("gammagamma") or {}
            cached = self._fits = (
                BgNbdFit.from_figures(bg) if "r" in bg and "error" not in bg else None,
                GammaGammaFit.from_figures(gg) if "p" in gg and "error" not in gg else None,
            )
        return cached

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class CustomerScore(models.Model):
    """One customer's results in one run."""

    # no index of their own: the unique (run, customer) serves both; an index on the customer alone
    # would take each of a run's million rows into a different place of a B-tree of all runs
    # (random writes: it doubled the time to store a run), for lookups nothing here makes
    # (nor a database-level foreign key: its check per row cost a third of the writing; the rows are
    # written by ``runs`` only, for a run it has just created, and deleted with it by the ORM)
    run = models.ForeignKey(
        AnalyticsRun, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    # ABC (ABC分析)
    abc_class = models.CharField(_("ABC class"), max_length=1, blank=True)
    abc_rank = models.IntegerField(_("rank"), null=True)
    abc_value = models.FloatField(_("value in the period"), default=0)
    abc_cumulative = models.FloatField(_("cumulative share"), default=0)
    # RFM
    recency_days = models.IntegerField(_("days since last purchase"), null=True)
    age_days = models.IntegerField(_("days since first purchase"), null=True)  # T of the models
    frequency = models.IntegerField(_("repeat purchases"), default=0)  # x: purchase days - 1
    monetary = models.FloatField(_("mean repeat purchase"), null=True)
    # the R, F and M scores (1–5) as one number, 100·R + 10·F + M (e.g. 534): sorts as the triple does
    rfm_code = models.SmallIntegerField(_("RFM scores"), default=0)
    # the segment as its position in analytics.math.rfm.SEGMENTS (NULL: not scored); see rfm_segment
    rfm_segment_no = models.SmallIntegerField(_("RFM segment"), null=True)
    # BG/NBD and Gamma-Gamma
    p_alive = models.FloatField(_("probability alive"), null=True)
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

    # Derived from the stored facts and the run's fitted parameters when a page shows them, not
    # stored: each stored column costs about a second per run at a million customers, and the
    # formulas are cheap for the rows of one page. The customer's x, t_x and T are frequency,
    # age_days - recency_days and age_days.

    @property
    def rfm_segment(self) -> str:
        """The segment's code (``important_value`` …), '' when not scored."""
        from .math.rfm import SEGMENTS

        no = self.rfm_segment_no
        return SEGMENTS[no] if no is not None and 0 <= no < len(SEGMENTS) else ""

    @rfm_segment.setter
    def rfm_segment(self, code: str) -> None:
        self.rfm_segment_no = segment_no(code)

    @property
    def r_score(self) -> int:
        return self.rfm_code // 100

    @property
    def f_score(self) -> int:
        return self.rfm_code // 10 % 10

    @property
    def m_score(self) -> int:
        return self.rfm_code % 10

    @property
    def abc_share(self) -> float:
        total = ((self.run.figures or {}).get("abc") or {}).get("total") or 0
        return float(self.abc_value) / total if total else 0.0

    @property
    def expected_30(self) -> float | None:
        return self._derived()["expected_30"]

    @property
    def expected_90(self) -> float | None:
        return self._derived()["expected_90"]

    @property
    def expected_365(self) -> float | None:
        return self._derived()["expected_365"]

    @property
    def expected_spend(self) -> float | None:
        return self._derived()["expected_spend"]

    def _derived(self) -> dict:
        if "_derived_figures" not in self.__dict__:
            derive(self.run, [self])
        return self.__dict__["_derived_figures"]


def segment_no(code: str) -> int | None:
    """The stored number of an RFM segment code (None for '' or an unknown code)."""
    from .math.rfm import SEGMENTS

    return SEGMENTS.index(code) if code in SEGMENTS else None


def derive(run: AnalyticsRun, scores: list[CustomerScore]) -> list[CustomerScore]:
    """Expected purchases over 30/90/365 days and expected spend per purchase for ``scores`` of
    ``run``, vectorised over the list (one page, one export chunk)."""
    import numpy as np

    from .math import bgnbd, gammagamma

    bg, gg = run.fits()
    n = len(scores)
    empty = [None] * n
    derived = {"expected_30": empty, "expected_90": empty, "expected_365": empty, "expected_spend": empty}
    # a consistent history only (0 ≤ t_x ≤ T, t_x = 0 without repeats): what runs store
    known = [
        s for s in scores
        if s.age_days is not None and s.recency_days is not None and s.frequency is not None
        and 0 <= s.age_days - s.recency_days <= s.age_days
        and (s.frequency > 0 or s.recency_days == s.age_days)
    ]  # fmt: skip
    if bg is not None and known:
        x = np.array([s.frequency for s in known], dtype=float)
        T = np.array([s.age_days for s in known], dtype=float)
        t_x = T - np.array([s.recency_days for s in known], dtype=float)
        e = bgnbd.expected_purchases_many(bg, (30, 90, 365), x, t_x, T)
        by_pk = {id(s): i for i, s in enumerate(known)}
        for k, row in zip(("expected_30", "expected_90", "expected_365"), e, strict=True):
            derived[k] = [float(row[by_pk[id(s)]]) if id(s) in by_pk else None for s in scores]
    if gg is not None and n:
        m = np.array([np.nan if s.monetary is None else s.monetary for s in scores], dtype=float)
        spend = gammagamma.expected_average_spend(gg, [s.frequency for s in scores], m)
        derived["expected_spend"] = [None if v != v else float(v) for v in spend.tolist()]
    for i, s in enumerate(scores):
        s.__dict__["_derived_figures"] = {k: v[i] for k, v in derived.items()}
    return scores
