"""Visits and revisits (C5), maintenance cadence (C6), customer care and the daily summary (C7)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Method(models.TextChoices):
    PHONE = "phone", _("Phone (电话)")
    EMAIL = "email", _("Email (电子邮件)")
    IN_PERSON = "in_person", _("In person (当面)")
    VIDEO = "video", _("Video call (视频)")
    WECHAT = "wechat", _("WeChat (微信)")
    SMS = "sms", _("SMS (短信)")
    CHAT = "chat", _("Online chat (在线沟通)")
    TRADE_SHOW = "trade_show", _("Trade show (展会)")


class Trigger(models.TextChoices):
    PERIODIC = "periodic", _("Periodic (定期回访)")
    AFTER_DEAL = "after_deal", _("After a transaction (交易后回访)")
    HOLIDAY = "holiday", _("Holiday (节日回访)")
    AFTER_COMPLAINT = "after_complaint", _("After a complaint (投诉后回访)")
    AD_HOC = "ad_hoc", _("Ad hoc (临时)")
    WIN_BACK = "win_back", _("Win-back (流失挽回)")


class Category(models.TextChoices):
    """What a contact counts as for the cadence policies (C6)."""

    ROUTINE = "routine", _("Routine contact (日常联系)")
    EXECUTIVE_VISIT = "executive_visit", _("Executive visit (高层拜访)")
    SERVICE_REVIEW = "service_review", _("Service review meeting (服务回顾会)")
    NEEDS_SURVEY = "needs_survey", _("Needs survey (需求调研)")
    STRATEGIC_PLANNING = "strategic_planning", _("Strategic planning meeting (战略规划会)")
    VALUE_ADDED = "value_added", _("Value-added push (增值服务推送)")


# a requirement of kind "contact" is met by any contact
CONTACT = "contact"
REQUIREMENT_KINDS = [(CONTACT, _("Any contact (任意联系)")), *Category.choices]


class PlanState(models.TextChoices):
    PLANNED = "planned", _("Planned (已计划)")
    CONFIRMED = "confirmed", _("Confirmed (已预约)")
    DONE = "done", _("Done (已完成)")
    MISSED = "missed", _("Missed (已错过)")
    CANCELLED = "cancelled", _("Cancelled (已取消)")


PLAN_TRANSITIONS = {
    PlanState.PLANNED: {PlanState.CONFIRMED, PlanState.DONE, PlanState.MISSED, PlanState.CANCELLED},
    PlanState.CONFIRMED: {PlanState.DONE, PlanState.MISSED, PlanState.CANCELLED},
    PlanState.DONE: set(),
    PlanState.MISSED: set(),
    PlanState.CANCELLED: set(),
}
OPEN_STATES = (PlanState.PLANNED, PlanState.CONFIRMED)


class RecordForm(models.TextChoices):
    IN_PERSON = "in_person", _("Visit record (访问履历卡)")
    PHONE = "phone", _("Phone revisit record (电话回访记录表)")


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("Outbound (我方发起)")
    INBOUND = "inbound", _("Inbound (客户发起)")


class Satisfaction(models.IntegerChoices):
    VERY_LOW = 1, _("1 · Very dissatisfied")
    LOW = 2, _("2 · Dissatisfied")
    NEUTRAL = 3, _("3 · Neutral")
    HIGH = 4, _("4 · Satisfied")
    VERY_HIGH = 5, _("5 · Very satisfied")


class Likelihood(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class VisitPlan(models.Model):
    """One line of the revisit plan (回访计划表)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="visit_plans", verbose_name=_("customer")
    )
    contacts = models.ManyToManyField(
        "customers.Contact", blank=True, related_name="visit_plans", verbose_name=_("contacts")
    )
    scheduled_at = models.DateTimeField(_("date and time"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, default=Method.IN_PERSON)
    category = models.CharField(_("counts as"), max_length=20, choices=Category.choices, default="routine")
    purpose = models.TextField(_("purpose"), blank=True)
    content = models.TextField(_("content"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices, default="periodic")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="visit_plans",
        verbose_name=_("assignee"),
    )
    state = models.CharField(_("state"), max_length=10, choices=PlanState.choices, default="planned")
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("state changed by"),
    )
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)
    state_note = models.TextField(_("note on the state"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # the record whose "next visit date" created this plan
    follows = models.ForeignKey(
        "Visit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_plans",
        verbose_name=_("follows the visit"),
    )
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(
        excluded_fields=["version"], m2m_fields=[contacts], cascade_delete_history=False
    )

    class Meta:
        verbose_name = _("revisit plan (回访计划)")
        verbose_name_plural = _("revisit plans")
        ordering = ["scheduled_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "state", "scheduled_at"], name="plan_assignee"),
            models.Index(fields=["state", "scheduled_at"], name="plan_state"),
            models.Index(fields=["customer", "scheduled_at"], name="plan_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Visit(models.Model):
    """A visit record (访问履历卡); the phone form (电话回访记录表) leaves the in-person fields empty."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="visits", verbose_name=_("customer")
    )
    plan = models.OneToOneField(
        VisitPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="record",
        verbose_name=_("plan"),
    )
    form = models.CharField(_("form"), max_length=10, choices=RecordForm.choices, default="in_person")
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, default=Method.IN_PERSON)
    category = models.CharField(_("counts as"), max_length=20, choices=Category.choices, default="routine")
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default="outbound")
    visited_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    scheduled_arrival = models.DateTimeField(_("scheduled arrival"), null=True, blank=True)
    actual_arrival = models.DateTimeField(_("actual arrival"), null=True, blank=True)
    contacts = models.ManyToManyField(
        "customers.Contact", blank=True, related_name="visits", verbose_name=_("received by (contacts)")
    )
    received_by = models.CharField(_("who received us"), max_length=200, blank=True)
    their_seniority = models.CharField(_("their seniority"), max_length=100, blank=True)
    our_people = models.CharField(_("our people"), max_length=200, blank=True)
    our_seniority = models.CharField(_("our seniority"), max_length=100, blank=True)
    content = models.TextField(_("content of the talks"))
    deal_progress = models.TextField(_("deal progress"), blank=True)
    feedback = models.TextField(_("customer feedback"), blank=True)
    product_usage = models.TextField(_("product usage"), blank=True)
    service_satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction with our service"), choices=Satisfaction.choices, null=True, blank=True
    )
    opinion_of_us = models.TextField(_("their opinion of us"), blank=True)
    continuation = models.CharField(
        _("likelihood of continuing"), max_length=6, choices=Likelihood.choices, blank=True
    )
    follow_ups = models.TextField(_("follow-ups (what we promised)"), blank=True)
    next_visit_on = models.DateField(_("next visit date"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("visit record (访问履历卡)")
        verbose_name_plural = _("visit records")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["customer", "-visited_on"], name="visit_customer")]

    def __str__(self) -> str:
        return f"{self.customer} · {self.visited_on}"

    @property
    def on_time(self) -> bool | None:
        if not (self.scheduled_arrival and self.actual_arrival):
            return None
        return self.actual_arrival <= self.scheduled_arrival

    @property
    def late_minutes(self) -> int:
        if not (self.scheduled_arrival and self.actual_arrival):
            return 0
        return max(0, int((self.actual_arrival - self.scheduled_arrival).total_seconds() // 60))


class CustomerEngagement(models.Model):
    """A customer's contact summary, kept current by the services when a contact is recorded."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="engagement"
    )
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    # kind ("contact" or a Category) → the most recent contact dates, newest first (a few each)
    recent = models.JSONField(default=dict)
    contacts_total = models.PositiveIntegerField(_("contacts"), default=0)
    cadence_due_on = models.DateField(_("cadence due"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer contact summary")
        indexes = [models.Index(fields=["cadence_due_on"], name="engagement_due")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.last_contact_on}"


class CadencePolicy(models.Model):
    """The minimum contact of customers of one strategic type or maintenance tier (分级维护)."""

    DIMENSIONS = [("strategic_type", _("Strategic type")), ("maintenance_tier", _("Maintenance tier"))]

    dimension = models.CharField(_("applies to"), max_length=20, choices=DIMENSIONS)
    value = models.CharField(_("value"), max_length=20)
    active = models.BooleanField(_("active"), default=True)
    max_contacts_30d = models.PositiveSmallIntegerField(
        _("over-maintenance warning above (contacts in 30 days)"), default=8
    )
    service_plan = models.TextField(
        _("service plan (service manager or team, content, time, method, benefits)"), blank=True
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cadence policy (维护策略)")
        ordering = ["dimension", "value"]
        constraints = [models.UniqueConstraint(fields=["dimension", "value"], name="cadence_one_per_value")]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.value}"


class CadenceRequirement(models.Model):
    policy = models.ForeignKey(CadencePolicy, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(_("contact of kind"), max_length=20, choices=REQUIREMENT_KINDS)
    count = models.PositiveSmallIntegerField(_("at least"), default=1)
    period_days = models.PositiveSmallIntegerField(_("every (days)"), default=31)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.count} × {self.kind} / {self.period_days} d"


class CadenceOverride(models.Model):
    """A customer's own cadence: tighter (scale < 100 %) or more relaxed (> 100 %)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="cadence_override"
    )
    period_scale_pct = models.PositiveSmallIntegerField(
        _("periods at (percent of the policy)"),
        default=100,
        help_text=_("50 = twice as often, 200 = half as often"),
    )
    max_contacts_30d = models.PositiveSmallIntegerField(
        _("over-maintenance warning above (contacts in 30 days)"), null=True, blank=True
    )
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.period_scale_pct} %"


class DailySummary(models.Model):
    """The end-of-day summary (工作总结) a user writes; the user's manager reads it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_summaries"
    )
    day = models.DateField(_("day"))
    text = models.TextField(_("summary"))
    problems = models.TextField(_("problems and proposed solutions"), blank=True)
    tomorrow = models.TextField(_("plan for tomorrow"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    read_by_manager_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("work summary (工作总结)")
        ordering = ["-day", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="summary_one_per_day")]

    # --- customer care (C7) ---------------------------------------------------------------------------

    def __str__(self) -> str:
        return f"{self.user_id} · {self.day}"


class Occasion(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday (生日)")
    ANNIVERSARY = "anniversary", _("Anniversary (纪念日)")
    FESTIVAL = "festival", _("Festival (节日)")
    WELCOME = "welcome", _("Welcome gift (首购礼)")


class CareState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class CareSettings(models.Model):
    days_ahead = models.PositiveSmallIntegerField(_("create greeting tasks this many days ahead"), default=7)
    festival_tiers = models.JSONField(
        _("festival greetings for maintenance tiers"),
        default=list,
        help_text=_("Key accounts always get festival greetings."),
    )

    def __str__(self) -> str:
        return "care settings"

    @classmethod
    def load(cls) -> CareSettings:
        obj, _created = cls.objects.get_or_create(pk=1, defaults={"festival_tiers": ["core", "important"]})
        return obj


class MessageTemplate(models.Model):
    occasion = models.CharField(_("occasion"), max_length=12, choices=Occasion.choices)
    language = models.CharField(_("language"), max_length=8, choices=[("zh-hans", "中文"), ("en", "English")])
    channel = models.CharField(
        _("channel"),
        max_length=10,
        default="message",
        choices=[("message", _("Message")), ("card", _("Card")), ("coupon", _("Coupon"))],
    )
    body = models.TextField(_("text"), help_text=_("Placeholders: {name} {customer} {occasion} {sender}"))
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occasion", "language", "channel", "id"]

    def __str__(self) -> str:
        return f"{self.occasion} · {self.language} · {self.channel}"


class CareTask(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="care_tasks")
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="care_tasks"
    )
    occasion = models.CharField(_("occasion"), max_length=12, choices=Occasion.choices)
    title = models.CharField(_("what"), max_length=100)
    occurs_on = models.DateField(_("date"))
    key = models.CharField(max_length=80)  # occasion:contact:what:date, so a task is made once
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_tasks"
    )
    state = models.CharField(_("state"), max_length=8, choices=CareState.choices, default="open")
    message = models.TextField(_("message sent"), blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("greeting task")
        ordering = ["occurs_on", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "key"], name="care_once")]
        indexes = [models.Index(fields=["assignee", "state", "occurs_on"], name="care_assignee")]

    def __str__(self) -> str:
        return f"{self.title} · {self.occurs_on}"


class Gift(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="gifts")
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gifts",
        verbose_name=_("to"),
    )
    task = models.ForeignKey(CareTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="gifts")
    given_on = models.DateField(_("given on"))
    description = models.CharField(_("gift"), max_length=200)
    value = models.DecimalField(_("value (CNY)"), max_digits=12, decimal_places=2, null=True, blank=True)
    occasion = models.CharField(_("occasion"), max_length=100, blank=True)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(cascade_delete_history=False)

    class Meta:
        verbose_name = _("gift (礼品)")
        ordering = ["-given_on", "-id"]

    def __str__(self) -> str:
        return f"{self.description} · {self.given_on}"


class CalendarFeed(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar of {self.user_id}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)
