"""Products, orders and their lines, invoices and payments (C4 data), and the derived purchase facts
that analytics and the customer card read instead of rescanning order lines.

Derived tables (kept current by ``summary.refresh`` from every write path — services, import):

- ``PurchaseDay``: one row per customer and calendar day with at least one order; purchases on the
  same day are one purchase (the BG/NBD convention). Days are integers (days since 1970-01-01), the
  cheapest thing to read into numpy.
- ``PurchaseSummary``: one row per customer who ever ordered: first and last purchase day, number
  of purchase days, orders, revenue, cost, and the first day's amount (so that the mean of the
  repeat purchases, which Gamma-Gamma needs, is ``(gross - first_day_amount) / (days - 1)``).
- ``ProductMonth``: quantity and revenue per product and month (best and slow sellers).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EPOCH = datetime.date(1970, 1, 1)


def to_day(d: datetime.date) -> int:
    return (d - EPOCH).days


def from_day(n: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=int(n))


class Channel(models.TextChoices):
    DIRECT = "direct", _("Direct sales (直销)")
    DISTRIBUTOR = "distributor", _("Distributor (经销商)")
    ONLINE = "online", _("Online store (网店)")
    PHONE = "phone", _("Phone order (电话订货)")
    STORE = "store", _("Store (门店)")
    TENDER = "tender", _("Tender (招投标)")
    OTHER = "other", _("Other (其他)")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Not shipped (待发货)")
    SHIPPED = "shipped", _("Shipped (已发货)")
    DELIVERED = "delivered", _("Delivered (已签收)")
    RETURNED = "returned", _("Returned (已退货)")
    CANCELLED = "cancelled", _("Cancelled (已取消)")


class ProductCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent category"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("product category (产品类别)")
        verbose_name_plural = _("product categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    code = models.CharField(_("product code"), max_length=64, null=True, blank=True, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    category = models.ForeignKey(
        ProductCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="products",
        verbose_name=_("category"),
    )  # fmt: skip
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2, null=True, blank=True)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=14, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("product (产品)")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """An order (订单). ``number`` is the stable external key when the source has one; an amount
    of 0 is a free order, a negative amount a return."""

    # no index of its own: order_customer_date (customer, order_date) serves every lookup by customer
    # (a second one cost a few seconds and ~50 MB per million orders of an import)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="orders",
        verbose_name=_("customer"),
        db_index=False,
    )
    number = models.CharField(_("order number"), max_length=64, null=True, blank=True, unique=True)
    order_date = models.DateField(_("order date"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, blank=True)
    delivery_state = models.CharField(
        _("delivery state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.DELIVERED
    )
    amount = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2, default=0)
    cost = models.DecimalField(_("cost (CNY)"), max_digits=16, decimal_places=2, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    batch_id = models.IntegerField(_("import batch"), null=True, blank=True)
    # no index: nothing lists orders by who entered them (a user's deletion scans, and that is rare)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("order (订单)")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "order_date"], name="order_customer_date"),
            models.Index(fields=["order_date", "id"], name="order_date"),  # the lists' default sort
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def is_return(self) -> bool:
        return self.amount < 0


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lines",
        verbose_name=_("product"),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3, default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2)
    cost = models.DecimalField(_("cost (CNY)"), max_digits=16, decimal_places=2, null=True, blank=True)
    gift = models.CharField(_("gift (赠品)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.product or '-'} × {self.quantity}"


class InvoiceState(models.TextChoices):
    OPEN = "open", _("Open (未结清)")
    PAID = "paid", _("Paid (已结清)")
    VOID = "void", _("Void (作废)")


class Invoice(models.Model):
    """An invoice or receivable (应收款) with its due date; ``paid`` is kept by the payments."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="invoices", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("order"),
    )
    number = models.CharField(_("invoice number"), max_length=64, unique=True)
    issue_date = models.DateField(_("issued on"))
    due_date = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2)
    paid = models.DecimalField(_("paid (CNY)"), max_digits=16, decimal_places=2, default=0)
    state = models.CharField(
        _("state"), max_length=6, choices=InvoiceState.choices, default=InvoiceState.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("invoice (发票/应收款)")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "state", "due_date"], name="invoice_customer_open"),
            models.Index(fields=["state", "due_date"], name="invoice_open_due"),
            models.Index(fields=["issue_date", "id"], name="invoice_issued"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def outstanding(self):
        return self.amount - self.paid

    def is_overdue(self, as_of: datetime.date | None = None) -> bool:
        as_of = as_of or timezone.localdate()
        return self.state == InvoiceState.OPEN and self.due_date < as_of and self.paid < self.amount


class Payment(models.Model):
    """Money received against an invoice (回款)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=16, decimal_places=2)
    method = models.CharField(_("method"), max_length=40, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment (回款)")
        verbose_name_plural = _("payments")
        ordering = ["-paid_on", "-id"]

    def __str__(self) -> str:
        return f"{self.paid_on} {self.amount}"


class PurchaseDay(models.Model):
    """A customer's purchases on one day (see the module docstring). Orders with a negative amount
    (returns) count in ``returns``, not as a purchase."""

    # no index of its own: the unique (customer, day) serves every lookup by customer
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.IntegerField()  # days since 1970-01-01
    amount = models.DecimalField(max_digits=16, decimal_places=2)  # purchases (orders with amount >= 0)
    cost = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    returns = models.DecimalField(max_digits=16, decimal_places=2, default=0)  # negative or 0
    orders = models.IntegerField(default=0)  # orders with amount >= 0; 0 = a day of returns only

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "day"], name="purchaseday_one")]

    def __str__(self) -> str:
        return f"{self.customer_id}@{from_day(self.day)}"


class PurchaseSummary(models.Model):
    """A customer's purchase history in one row (see the module docstring)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="purchase_summary"
    )
    first_day = models.IntegerField(null=True)
    last_day = models.IntegerField(null=True)
    purchase_days = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    gross = models.DecimalField(max_digits=18, decimal_places=2, default=0)  # purchases, returns excluded
    returns = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    first_day_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("purchase summary")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.purchase_days} purchase days"

    @property
    def revenue(self):
        return self.gross + self.returns

    @property
    def profit(self):
        return self.revenue - self.cost

    @property
    def first_purchase(self) -> datetime.date | None:
        return from_day(self.first_day) if self.first_day is not None else None

    @property
    def last_purchase(self) -> datetime.date | None:
        return from_day(self.last_day) if self.last_day is not None else None


class ProductMonth(models.Model):
    """Sales of one product in one month (best and slow sellers without scanning order lines)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    quantity = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    lines = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "month"], name="productmonth_one")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.month:%Y-%m}"
