"""Service desk (C8): tickets (inquiry / complaint / suggestion), their timeline, complaint cards,
suggestion outcomes, SLA policies and the working-time calendar."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Kind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry (咨询)")
    COMPLAINT = "complaint", _("Complaint (投诉)")
    SUGGESTION = "suggestion", _("Suggestion (建议)")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    CHAT = "chat", _("Online chat")
    EMAIL = "email", _("Email")
    WEB_FORM = "web_form", _("Web form")
    COMPLAINT_BOX = "complaint_box", _("Complaint box")
    VISIT = "visit", _("Visit")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Cause(models.TextChoices):
    PRODUCT_DEFECT = "product_defect", _("Product: defect")
    PRODUCT_WRONG_SPEC = "product_wrong_spec", _("Product: wrong specification")
    PRODUCT_TOLERANCE = "product_tolerance", _("Product: out of tolerance")
    PRODUCT_MALFUNCTION = "product_malfunction", _("Product: malfunction")
    SERVICE_LATE = "service_late", _("Service: late")
    SERVICE_ATTITUDE = "service_attitude", _("Service: attitude")
    SERVICE_COMPETENCE = "service_competence", _("Service: competence")
    DELIVERY = "delivery", _("Delivery")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class State(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed (confirmed by the customer)")


class Evaluation(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    DECLINED = "declined", _("Declined")


class ReplyLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "中文"
    EN = "en", "English"


class ClockUnit(models.TextChoices):
    CALENDAR_HOURS = "calendar_hours", _("calendar hours")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class Ticket(models.Model):
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("contact"),
    )
    # who wrote in through the public form (no contact record needed)
    reporter_name = models.CharField(_("reporter's name"), max_length=100, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=40, blank=True)
    reporter_email = models.EmailField(_("reporter's email"), blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default="normal")
    # complaints (投诉): what, when, scope of impact, what the customer expects, cause
    occurred_at = models.DateTimeField(_("when it happened"), null=True, blank=True)
    impact_scope = models.TextField(_("scope of impact"), blank=True)
    expectation = models.TextField(_("what the customer expects"), blank=True)
    cause = models.CharField(_("cause category"), max_length=24, choices=Cause.choices, blank=True)
    # complaint card (抱怨管理卡)
    course_of_events = models.TextField(_("course of events"), blank=True)
    customer_position = models.TextField(_("customer's position and reasons"), blank=True)
    dispute = models.TextField(_("dispute"), blank=True)
    dispute_outcome = models.TextField(_("how the dispute ended"), blank=True)
    # inquiries: the reply time promised to the customer (承诺时间)
    promised_reply_at = models.DateTimeField(_("reply promised by"), null=True, blank=True)
    # suggestions: evaluation and the outcome told to the customer
    evaluation = models.CharField(_("evaluation"), max_length=10, choices=Evaluation.choices, blank=True)
    evaluation_reason = models.TextField(_("reason of the evaluation"), blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    outcome_message = models.TextField(_("outcome told to the customer"), blank=True)
    outcome_sent_at = models.DateTimeField(_("outcome sent at"), null=True, blank=True)
    outcome_sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("outcome sent by"),
    )
    # responsibility
    department = models.ForeignKey(
        "org.Department",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("responsible department"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    # the flow
    state = models.CharField(_("state"), max_length=14, choices=State.choices, default="new")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    started_at = models.DateTimeField(_("plan given at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0)
    plan = models.TextField(_("plan"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    # SLA clocks, fixed when the ticket is opened (or reopened)
    response_due = models.DateTimeField(_("first response due"))
    plan_due = models.DateTimeField(_("plan due"))
    sla_note = models.CharField(_("SLA note"), max_length=300, blank=True)
    sla_fallback = models.BooleanField(_("calendar fallback used"), default=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # the cycle after a reopen: a new plan clock (stopped by the next resolution); the first
    # cycle's clocks (response_due, plan_due, started_at) stay as they were for the quality figures
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_due = models.DateTimeField(_("plan due after the reopen"), null=True, blank=True)
    reply_language = models.CharField(
        _("language of the emails to the customer"),
        max_length=8,
        choices=ReplyLanguage.choices,
        default=ReplyLanguage.ZH_HANS,
    )
    # the customer's personal link (confirm / reopen)
    public_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("ticket (工单)")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "response_due"], name="ticket_state_resp"),
            models.Index(fields=["state", "plan_due"], name="ticket_state_plan"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer"),
            models.Index(fields=["assignee", "state"], name="ticket_assignee"),
            models.Index(fields=["department", "state"], name="ticket_department"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> str:
        return f"T{self.pk:06d}"

    def breaches(self, now: datetime.datetime | None = None) -> list[str]:
        """The clocks this ticket has broken (stopped late or still running past due)."""
        now = now or timezone.now()
        out = []
        if (self.acknowledged_at or now) > self.response_due:
            out.append("response")
        if (self.started_at or self.resolved_at or now) > self.plan_due:
            out.append("plan")
        if self.promised_reply_at and (self.resolved_at or now) > self.promised_reply_at:
            out.append("promise")
        if self.reopen_due and (self.resolved_at or now) > self.reopen_due:
            out.append("reopen")
        return out

    @property
    def breached(self) -> bool:
        return bool(self.breaches())

    @property
    def next_due(self) -> datetime.datetime | None:
        """The next deadline still running (None when every clock has stopped)."""
        dues = []
        if self.acknowledged_at is None:
            dues.append(self.response_due)
        if self.started_at is None and self.resolved_at is None:
            dues.append(self.plan_due)
        if self.promised_reply_at and self.resolved_at is None:
            dues.append(self.promised_reply_at)
        if self.reopen_due and self.resolved_at is None:
            dues.append(self.reopen_due)
        return min(dues) if dues else None


class TicketEvent(models.Model):
    class Type(models.TextChoices):
        CREATED = "created", _("Created")
        TRANSITION = "transition", _("State changed")
        TRANSFER = "transfer", _("Transferred")
        NOTE = "note", _("Note")
        CARD = "card", _("Complaint card updated")
        FILE = "file", _("File attached")
        EVALUATION = "evaluation", _("Suggestion evaluated")
        OUTCOME = "outcome", _("Outcome sent to the customer")
        ESCALATION = "escalation", _("Escalated")
        EMAIL = "email", _("Email to the customer")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=12, choices=Type.choices)
    from_state = models.CharField(max_length=14, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=14, choices=State.choices, blank=True)
    from_department = models.ForeignKey(
        "org.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_department = models.ForeignKey(
        "org.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_customer = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.type}"

    @property
    def who(self) -> str:
        if self.by_customer:
            return str(pgettext_lazy("actor", "the customer"))
        return str(self.actor) if self.actor else str(_("System"))


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"service/{instance.ticket_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=250)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class ImprovementAction(models.Model):
    """An adopted suggestion becomes an improvement action with an owner and a deadline."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="improvement")
    title = models.CharField(_("improvement action"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="improvement_actions",
        verbose_name=_("owner"),
    )
    deadline = models.DateField(_("deadline"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class SlaPolicy(models.Model):
    """The two clocks of a ticket type and severity: first response, and plan (方案)."""

    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    response_amount = models.PositiveIntegerField(_("first response within"))
    response_unit = models.CharField(_("unit"), max_length=16, choices=ClockUnit.choices)
    plan_amount = models.PositiveIntegerField(_("plan within"))
    plan_unit = models.CharField(_("unit"), max_length=16, choices=ClockUnit.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "severity"], name="sla_unique_kind_severity")]
        ordering = ["kind", "severity"]

    def __str__(self) -> str:
        return f"{self.kind}/{self.severity}"


class ServiceSettings(models.Model):
    """The working day (singleton)."""

    workday_start = models.TimeField(_("working day starts"), default=datetime.time(9, 0))
    workday_end = models.TimeField(_("working day ends"), default=datetime.time(18, 0))

    def __str__(self) -> str:
        return f"{self.workday_start:%H:%M}–{self.workday_end:%H:%M}"

    @classmethod
    def load(cls) -> ServiceSettings:
        obj = cls.objects.filter(pk=1).first()
        return obj or cls(pk=1)


class ManualYear(models.Model):
    """A year whose holidays an administrator entered by hand (the library does not know it yet)."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    complete = models.BooleanField(_("every holiday and adjusted working day entered"), default=False)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class ManualDay(models.Model):
    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'work' if self.is_workday else 'off'}"


class PublicLink(models.Model):
    """The secret link through which a customer submits tickets without an account."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"link of customer {self.customer_id}"


# --- satisfaction surveys (C9) --------------------------------------------------------------------


class Segment(models.TextChoices):
    KEY_ACCOUNTS = "key_accounts", _("Key accounts (大客户)")
    ALL = "all", _("All customers in my scope")


class SurveyCampaign(models.Model):
    """A round of the satisfaction survey (满意度调查), e.g. every key account each quarter."""

    name = models.CharField(_("name"), max_length=200)
    segment = models.CharField(_("customers"), max_length=16, choices=Segment.choices)
    expires_at = models.DateTimeField(_("links expire at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def period(self) -> str:
        d = timezone.localtime(self.created_at)
        return f"{d.year}Q{(d.month - 1) // 3 + 1}"


class SurveyInvitation(models.Model):
    """One contact's personal link: answered once, before it expires."""

    campaign = models.ForeignKey(SurveyCampaign, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("likelihood to recommend (0–10)"), null=True, blank=True)
    overall = models.PositiveSmallIntegerField(_("overall score (0–100)"), null=True, blank=True)
    product_quality = models.PositiveSmallIntegerField(_("product quality"), null=True, blank=True)
    service_response = models.PositiveSmallIntegerField(_("service response"), null=True, blank=True)
    value_for_money = models.PositiveSmallIntegerField(_("value for money"), null=True, blank=True)
    cooperation = models.PositiveSmallIntegerField(_("cooperation experience"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    follow_up = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["campaign", "customer", "id"]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}"
