"""Customer master data, key contacts and classification (C1–C3)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from . import choices as c


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag (标签)")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    # --- identity and company overview (企业概况)
    kind = models.CharField(_("kind"), max_length=12, choices=c.CustomerKind.choices, default="company")
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    # 客户编号: the stable key of the customer in the company's other systems (imports upsert by it)
    code = models.CharField(_("customer code"), max_length=64, null=True, blank=True, unique=True)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True
    )
    industry = models.CharField(_("industry"), max_length=2, choices=c.Industry.choices, blank=True)
    province = models.CharField(_("province"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    registered_capital = models.DecimalField(
        _("registered capital (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    management_structure = models.TextField(_("management structure"), blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    overview = models.TextField(_("company overview and operations"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    phone_alt = models.CharField(_("second phone"), max_length=30, blank=True)
    fax = models.CharField(_("fax"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    acquisition_channel = models.CharField(
        _("acquisition channel"), max_length=20, choices=c.AcquisitionChannel.choices, blank=True
    )
    purchase_channel = models.CharField(_("usual purchase channel"), max_length=200, blank=True)
    prices_paid = models.CharField(_("prices paid"), max_length=200, blank=True)
    social_relations = models.TextField(_("social relations"), blank=True)
    customer_since = models.DateField(_("customer since"), null=True, blank=True)

    # --- ownership (大客户经理制)
    # owner and team have no single-column index: cust_owner and cust_team start with them and serve
    # every lookup (and the checks when a user or team goes). The department keeps its own: a
    # manager's search reads it (measured: the search page's median 24 ms with it, 45 ms without)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("account manager"),
        db_index=False,
    )
    # Denormalised from the owner by the services, so that a manager's scope is one indexed column.
    department = models.ForeignKey(
        "org.Department", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("department"),
    )  # fmt: skip
    team = models.ForeignKey(
        "org.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("team"), db_index=False,
    )  # fmt: skip
    account_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="team_customers", verbose_name=_("account team")
    )
    is_key_account = models.BooleanField(_("key account"), default=False)

    # --- business facts (业务信息)
    needs = models.TextField(_("needs and pain points"), blank=True)
    purchase_notes = models.TextField(_("purchase history, frequency and amounts"), blank=True)
    product_usage = models.TextField(_("product usage"), blank=True)
    decision_process = models.TextField(_("decision process"), blank=True)
    competitors = models.TextField(_("competitors"), blank=True)
    preferences = models.TextField(_("preferences"), blank=True)
    need_match = models.CharField(_("need match"), max_length=10, choices=c.NeedMatch.choices, blank=True)
    our_advantages = models.TextField(_("our advantages"), blank=True)
    our_weaknesses = models.TextField(_("our weaknesses"), blank=True)
    credit_limit = models.DecimalField(
        _("credit limit (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    payment_terms = models.CharField(_("payment terms"), max_length=200, blank=True)

    # --- classification (客户分类分级), each with its history in ClassificationChange
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=10, choices=c.LifecycleStage.choices, default="potential"
    )
    value_level = models.CharField(_("value level"), max_length=10, choices=c.ValueLevel.choices, blank=True)
    value_tier = models.CharField(_("value tier"), max_length=4, choices=c.ValueTier.choices, blank=True)
    maintenance_tier = models.CharField(
        _("maintenance tier"), max_length=10, choices=c.MaintenanceTier.choices, blank=True
    )
    deal_state = models.CharField(_("deal state"), max_length=12, choices=c.DealState.choices, blank=True)
    importance = models.CharField(_("importance"), max_length=6, choices=c.Importance.choices, blank=True)
    closable_amount = models.DecimalField(
        _("closable amount (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    abc_class = models.CharField(_("ABC class"), max_length=1, choices=c.ABCClass.choices, blank=True)
    prospect_grade = models.CharField(
        _("prospect grade"), max_length=1, choices=c.ProspectGrade.choices, blank=True
    )
    business_need = models.TextField(_("business need"), blank=True)
    need_type = models.CharField(_("need type"), max_length=10, choices=c.NeedType.choices, blank=True)
    strategic_type = models.CharField(
        _("strategic type"), max_length=12, choices=c.StrategicType.choices, blank=True
    )
    annual_purchases = models.DecimalField(
        _("annual purchases (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    annual_profit = models.DecimalField(
        _("annual profit (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    is_benchmark = models.BooleanField(_("benchmark or showcase customer"), default=False)
    decision_chain_known = models.BooleanField(_("decision chain known"), default=False)
    urgency = models.CharField(_("urgency"), max_length=10, choices=c.Urgency.choices, blank=True)
    membership_level = models.CharField(
        _("membership level"), max_length=10, choices=c.MembershipLevel.choices, blank=True
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))

    # --- bookkeeping
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    # the audit trail is read by customer (id), by time and by who changed it; the indexes the
    # copied columns would otherwise carry (code, credit code, owner, department, team) serve nothing
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        m2m_fields=[account_team, tags],
        cascade_delete_history=False,
        no_db_index=["code", "credit_code", "owner", "department", "team"],
    )

    class Meta:
        verbose_name = _("customer (客户)")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["name", "id"], name="cust_name"),
            # the name by id: a search's matches (say the 34,000 with 苏州) sorted without reading rows
            models.Index(fields=["id", "name"], name="cust_id_name"),
            models.Index(fields=["owner", "name", "id"], name="cust_owner"),
            # a manager's scope, by name, carrying the filter columns: filtering and counting within
            # a department reads this index only (50,000 entries), never the rows
            models.Index(
                fields=[
                    "department",
                    "name",
                    "id",
                    "province",
                    "city",
                    "industry",
                    "lifecycle_stage",
                    "value_level",
                    "maintenance_tier",
                    "strategic_type",
                    "abc_class",
                    "team",
                    "owner",
                    "is_key_account",
                ],
                name="cust_dept",
            ),  # fmt: skip
            # a filter column, then name: a filtered page sorted by name is one index walk (and
            # the same index serves the sort by that column, ties broken by name; see SORTS)
            models.Index(fields=["team", "name", "id"], name="cust_team"),
            models.Index(fields=["industry", "name", "id"], name="cust_industry"),
            models.Index(fields=["province", "city", "name", "id"], name="cust_region"),
            models.Index(fields=["province", "name", "id"], name="cust_province"),
            models.Index(fields=["city", "name", "id"], name="cust_city"),
            models.Index(fields=["lifecycle_stage", "name", "id"], name="cust_lifecycle"),
            models.Index(fields=["value_level", "name", "id"], name="cust_value"),
            models.Index(fields=["maintenance_tier", "name", "id"], name="cust_tier"),
            models.Index(fields=["strategic_type", "name", "id"], name="cust_strategic"),
            models.Index(fields=["abc_class", "name", "id"], name="cust_abc"),
            models.Index(fields=["annual_revenue", "id"], name="cust_revenue"),
            models.Index(fields=["updated_at", "id"], name="cust_updated"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tenure_years(self) -> int | None:
        if not self.customer_since:
            return None
        return max(0, (timezone.localdate() - self.customer_since).days // 365)


class Contact(models.Model):
    """A key person (关键人) at a customer."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=60)
    title = models.CharField(_("title"), max_length=60, blank=True)
    department = models.CharField(_("department"), max_length=60, blank=True)
    mobile = models.CharField(_("mobile"), max_length=30, blank=True)
    phone = models.CharField(_("office phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat id"), max_length=60, blank=True)
    decision_role = models.CharField(
        _("role in the decision chain"), max_length=12, choices=c.DecisionRole.choices, blank=True
    )
    attitude = models.CharField(_("attitude to us"), max_length=10, choices=c.Attitude.choices, blank=True)
    concerns = models.TextField(_("concerns (关注点)"), blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    # --- personal fields: visible to the account team, managers and administrators only
    birthday_calendar = models.CharField(
        _("birthday calendar"), max_length=5, choices=c.BirthdayCalendar.choices, blank=True
    )
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birthday_month = models.PositiveSmallIntegerField(_("birthday month"), null=True, blank=True)
    birthday_day = models.PositiveSmallIntegerField(_("birthday day"), null=True, blank=True)
    birthday_leap_month = models.BooleanField(_("leap month (lunar)"), default=False)
    anniversaries = models.TextField(
        _("anniversaries"), blank=True, help_text=_("One per line: YYYY-MM-DD what")
    )
    personality = models.TextField(_("personality"), blank=True)
    interests = models.TextField(_("interests"), blank=True)
    family = models.TextField(_("family"), blank=True)
    education = models.CharField(_("education"), max_length=200, blank=True)
    career = models.TextField(_("career"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    history = HistoricalRecords(excluded_fields=["updated_at"], cascade_delete_history=False)

    PERSONAL_FIELDS = (
        "birthday_calendar", "birth_year", "birthday_month", "birthday_day", "birthday_leap_month",
        "anniversaries", "personality", "interests", "family", "education", "career", "notes",
    )  # fmt: skip

    class Meta:
        verbose_name = _("contact (关键人)")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["customer", "name"], name="contact_customer"),
            models.Index(fields=["name", "id"], name="contact_name"),  # the contact list, by name
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        return timezone.localdate().year - self.birth_year if self.birth_year else None


class ClassificationChange(models.Model):
    """One change of one classification scheme of one customer: who, when, why (C3)."""

    # no index of its own: classchg_customer (customer, -changed_at) serves every lookup by customer
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="classification_changes", db_index=False
    )
    field = models.CharField(_("scheme"), max_length=30)
    old_value = models.CharField(_("old value"), max_length=30, blank=True)
    new_value = models.CharField(_("new value"), max_length=30, blank=True)
    # no index: nothing lists changes by who made them (a user's deletion scans, and that is rare)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("classification change")
        verbose_name_plural = _("classification changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="classchg_customer")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


def default_required_fields() -> list[str]:
    return ["name", "industry", "province", "phone"]


def default_key_account_fields() -> list[str]:
    return ["name", "credit_code", "industry", "province", "city", "address", "employees", "annual_revenue",
            "overview", "phone"]  # fmt: skip


class CustomerSettings(models.Model):
    """Company-wide settings for customer data; one row (pk=1), edited by an administrator."""

    revenue_change_threshold_pct = models.DecimalField(
        _("significant revenue change (%)"), max_digits=6, decimal_places=2, default=Decimal("30")
    )
    revenue_change_min_base = models.DecimalField(
        _("ignore changes when both periods are below (CNY)"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("10000"),
    )
    required_fields = models.JSONField(_("required fields"), default=default_required_fields)
    key_account_required_fields = models.JSONField(
        _("required fields of a key account"), default=default_key_account_fields
    )
    high_value_min_purchases = models.DecimalField(
        _("high value tier: annual purchases from (CNY)"), max_digits=18, decimal_places=2,
        default=Decimal("1000000"),
    )  # fmt: skip
    mid_value_min_purchases = models.DecimalField(
        _("mid value tier: annual purchases from (CNY)"), max_digits=18, decimal_places=2,
        default=Decimal("100000"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("customer settings")

    def __str__(self) -> str:
        return "customer settings"

    @classmethod
    def load(cls) -> CustomerSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class RevenueFigure(models.Model):
    """A customer's revenue for one month. Set directly now; kept by orders once they exist."""

    # no index of its own: the unique (customer, month) serves every lookup by customer
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="revenue_figures", db_index=False
    )
    period_start = models.DateField(_("month"))
    revenue = models.DecimalField(_("revenue (CNY)"), max_digits=18, decimal_places=2)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("revenue figure")
        ordering = ["customer", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "period_start"], name="revenue_one_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m} {self.revenue}"


class RevenueReasonRequest(models.Model):
    """A significant period-over-period revenue change for which the owner owes a reason (C1)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reason_requests")
    period_start = models.DateField(_("month"))
    previous_revenue = models.DecimalField(_("previous month"), max_digits=18, decimal_places=2)
    revenue = models.DecimalField(_("this month"), max_digits=18, decimal_places=2)
    change_pct = models.DecimalField(_("change (%)"), max_digits=9, decimal_places=2, null=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reasons_owed",
        verbose_name=_("owed by"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    explained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("revenue change reason")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "period_start"], name="reason_one_per_month")
        ]
        indexes = [models.Index(fields=["owner", "explained_at"], name="reason_owner_open")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period_start:%Y-%m}"

    @property
    def is_open(self) -> bool:
        return self.explained_at is None
