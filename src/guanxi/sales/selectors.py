"""Every read of sales data: orders, products, invoices, payments and a customer's purchase figures.

Each starts from ``org.access.scope`` (rules in rules.py): orders, invoices and payments need
``view_finance`` on the customer (a service agent sees none), exports follow the customer's export
right, the catalogue is read by everyone signed in, company-wide sales by product only by those who
read company figures.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from guanxi.core.errors import Forbidden, NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer, RevenueFigure
from guanxi.customers.selectors import Page
from guanxi.org.access import can, scope
from guanxi.org.models import User

from .models import (
    Channel,
    DeliveryState,
    Invoice,
    InvoiceState,
    Order,
    OrderLine,
    Payment,
    Product,
    ProductCategory,
    ProductMonth,
    PurchaseSummary,
)

MAX_LIMIT = 200
COUNT_CAP = 10_000  # lists count exactly up to here; beyond, "more than" (a count of 10M rows costs)
EXPORT_CAP = 100_000
ZERO = Decimal("0")


def _limit(limit: Any, default: int = 50) -> int:
    try:
        return max(1, min(int(limit), MAX_LIMIT))
    except (TypeError, ValueError):
        return default


def _offset(offset: Any) -> int:
    try:
        return max(0, int(offset))
    except (TypeError, ValueError):
        return 0


def _page(qs: QuerySet, *, limit: Any, offset: Any, sort: str, descending: bool, used: dict) -> Page:
    limit, offset = _limit(limit), _offset(offset)
    items = list(qs[offset : offset + limit])
    if offset == 0 and len(items) < limit:
        count, exact = len(items), True
    else:
        count = qs.order_by()[: COUNT_CAP + 1].count()
        exact = count <= COUNT_CAP
        count = min(count, COUNT_CAP) if not exact else count
    return Page(items, count, limit, offset, sort, descending, used, count_exact=exact)


def _sort(sort: str, keys: dict[str, tuple[str, ...]], default: str) -> tuple[str, bool, list[str]]:
    sort = (sort or default).strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in keys:
        descending = default.startswith("-")
        key = default.lstrip("-")
    sign = "-" if descending else ""
    return key, descending, [sign + f for f in keys[key]]


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _id(value: Any) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


# --- orders ----------------------------------------------------------------------------------------

ORDER_FILTERS = ("q", "customer", "date_from", "date_to", "channel", "delivery_state", "product", "returns")
ORDER_SORTS = {
    "order_date": ("order_date", "id"),
    "number": ("number", "id"),
    "customer": ("customer__name", "id"),
    "amount": ("amount", "id"),
    "channel": ("channel", "id"),
    "delivery_state": ("delivery_state", "id"),
}


def _order_filters(qs: QuerySet, filters: dict[str, Any]) -> tuple[QuerySet, dict[str, str]]:
    """Apply the order list's filters; returns the queryset and the filters actually used."""
    used: dict[str, str] = {}
    f = filters or {}
    q = str(f.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(customer__name__icontains=q))
        used["q"] = q
    customer = _id(f.get("customer"))
    if customer:
        qs = qs.filter(customer_id=customer)
        used["customer"] = str(customer)
    start, end = _date(f.get("date_from")), _date(f.get("date_to"))
    if start:
        qs = qs.filter(order_date__gte=start)
        used["date_from"] = start.isoformat()
    if end:
        qs = qs.filter(order_date__lte=end)
        used["date_to"] = end.isoformat()
    if f.get("channel") in Channel.values:
        qs = qs.filter(channel=f["channel"])
        used["channel"] = f["channel"]
    if f.get("delivery_state") in DeliveryState.values:
        qs = qs.filter(delivery_state=f["delivery_state"])
        used["delivery_state"] = f["delivery_state"]
    product = _id(f.get("product"))
    if product:
        qs = qs.filter(pk__in=OrderLine.objects.filter(product_id=product).values("order_id"))
        used["product"] = str(product)
    if str(f.get("returns") or "").lower() in ("1", "true", "yes", "on"):
        qs = qs.filter(amount__lt=0)
        used["returns"] = "1"
    return qs, used


def orders(
    user: User, *, filters: dict[str, Any] | None = None, sort: str = "-order_date", action: str = "view"
) -> tuple[QuerySet, str, bool, dict[str, str]]:
    """The orders ``user`` may see (``action``), filtered and sorted; with the sort key used."""
    qs = scope(user, Order.objects.all(), action).select_related("customer", "created_by")
    qs, used = _order_filters(qs, filters or {})
    key, descending, order_by = _sort(sort, ORDER_SORTS, "-order_date")
    return qs.order_by(*order_by), key, descending, used


def order_list(
    user: User,
    *,
    filters: dict[str, Any] | None = None,
    sort: str = "-order_date",
    limit: Any = 50,
    offset: Any = 0,
) -> Page:
    qs, key, descending, used = orders(user, filters=filters, sort=sort)
    return _page(qs, limit=limit, offset=offset, sort=key, descending=descending, used=used)


def get_order(user: User, order_id: Any) -> Order:
    order = (
        scope(user, Order.objects.all(), "view")
        .select_related("customer", "customer__owner", "created_by")
        .filter(pk=_id(order_id) or 0)
        .first()
    )
    if order is None:
        raise NotFound()
    return order


def order_lines(user: User, order_id: Any) -> list[OrderLine]:
    order = get_order(user, order_id)
    return list(scope(user, OrderLine.objects.filter(order=order), "view").select_related("product"))


def order_invoices(user: User, order_id: Any) -> list[Invoice]:
    order = get_order(user, order_id)
    return list(scope(user, Invoice.objects.filter(order=order), "view").order_by("-issue_date", "-id"))


def can_change(user: User, obj) -> bool:
    return can(user, obj, "change")


def can_export_orders(user: User) -> bool:
    """Whether any order at all is in ``user``'s export scope (decided without a query)."""
    return not scope(user, Order.objects.all(), "export").query.is_empty()


def can_export_invoices(user: User) -> bool:
    return not scope(user, Invoice.objects.all(), "export").query.is_empty()


def export_orders(user: User, *, filters: dict[str, Any] | None = None, cap: int = EXPORT_CAP) -> Iterator:
    """(order, lines) of a filtered list for an export file, at most ``cap`` orders, in chunks."""
    qs, _key, _desc, _used = orders(user, filters=filters, action="export")
    chunk: list[Order] = []
    for order in qs[:cap].iterator(chunk_size=2000):
        chunk.append(order)
        if len(chunk) == 2000:
            yield from _with_lines(chunk)
            chunk = []
    yield from _with_lines(chunk)


def _with_lines(chunk: list[Order]):
    lines: dict[int, list[OrderLine]] = {}
    for ln in OrderLine.objects.filter(order_id__in=[o.pk for o in chunk]).select_related("product"):
        lines.setdefault(ln.order_id, []).append(ln)
    for o in chunk:
        yield o, lines.get(o.pk, [])


def export_count(user: User, what: str, filters: dict[str, Any] | None = None) -> int:
    if what == "invoices":
        qs, *_rest = invoices(user, filters=filters, action="export")
    else:
        qs, *_rest = orders(user, filters=filters, action="export")
    return qs.order_by().count()


# --- the catalogue ---------------------------------------------------------------------------------

PRODUCT_SORTS = {
    "name": ("name", "id"),
    "code": ("code", "id"),
    "category": ("category__name", "name"),
    "list_price": ("list_price", "id"),
    "unit_cost": ("unit_cost", "id"),
}


def products(
    user: User, *, q: str = "", category: Any = None, active: Any = None, sort: str = "name"
) -> tuple[QuerySet, str, bool, dict[str, str]]:
    qs = scope(user, Product.objects.all(), "view").select_related("category")
    used: dict[str, str] = {}
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
        used["q"] = q
    cat = _id(category)
    if cat:
        qs = qs.filter(Q(category_id=cat) | Q(category__parent_id=cat))
        used["category"] = str(cat)
    if active not in (None, ""):
        flag = str(active).lower() in ("1", "true", "yes", "on")
        qs = qs.filter(active=flag)
        used["active"] = "1" if flag else "0"
    key, descending, order_by = _sort(sort, PRODUCT_SORTS, "name")
    return qs.order_by(*order_by), key, descending, used


def product_list(
    user: User,
    *,
    q: str = "",
    category: Any = None,
    active: Any = None,
    sort: str = "name",
    limit: Any = 50,
    offset: Any = 0,
) -> Page:
    qs, key, descending, used = products(user, q=q, category=category, active=active, sort=sort)
    return _page(qs, limit=limit, offset=offset, sort=key, descending=descending, used=used)


def product_choices(user: User) -> list[Product]:
    """Products on sale, for the order form's select."""
    return list(scope(user, Product.objects.filter(active=True), "view").select_related("category"))


def get_product(user: User, product_id: Any) -> Product:
    product = (
        scope(user, Product.objects.all(), "view").select_related("category").filter(pk=_id(product_id) or 0)
    ).first()
    if product is None:
        raise NotFound()
    return product


def categories(user: User) -> list[ProductCategory]:
    from django.db.models import Count

    return list(
        scope(user, ProductCategory.objects.all(), "view")
        .select_related("parent")
        .annotate(product_count=Count("products"))
        .order_by("name")
    )


def can_edit_catalogue(user: User) -> bool:
    return bool(getattr(user, "is_admin", False))


def sees_product_sales(user: User) -> bool:
    """Company-wide sales by product (rules.product_month_rule)."""
    return not scope(user, ProductMonth.objects.all(), "view").query.is_empty()


@dataclass
class MonthRow:
    month: datetime.date
    quantity: Decimal
    revenue: Decimal
    cost: Decimal
    lines: int

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost


def product_months(user: User, product_id: Any, *, months: int = 24, as_of: datetime.date | None = None):
    """The product's sales of the last ``months`` months (oldest first, every month present), or
    None for a user who may not read company-wide sales by product."""
    product = get_product(user, product_id)
    if not sees_product_sales(user):
        return None
    as_of = as_of or timezone.localdate()
    first = _shift_month(as_of.replace(day=1), -(months - 1))
    got = {
        pm.month: pm
        for pm in scope(user, ProductMonth.objects.filter(product=product, month__gte=first), "view")
    }
    rows = []
    for k in range(months):
        m = _shift_month(first, k)
        pm = got.get(m)
        rows.append(
            MonthRow(m, pm.quantity, pm.revenue, pm.cost, pm.lines)
            if pm
            else MonthRow(m, ZERO, ZERO, ZERO, 0)
        )
    return rows


def _shift_month(d: datetime.date, months: int) -> datetime.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return datetime.date(y, m + 1, 1)


# --- invoices and payments -------------------------------------------------------------------------

INVOICE_FILTERS = ("q", "customer", "state", "overdue", "order")
INVOICE_SORTS = {
    "issue_date": ("issue_date", "id"),
    "due_date": ("due_date", "id"),
    "number": ("number", "id"),
    "customer": ("customer__name", "id"),
    "amount": ("amount", "id"),
    "outstanding": ("outstanding_amount", "id"),
}


def invoices(
    user: User,
    *,
    filters: dict[str, Any] | None = None,
    sort: str = "-issue_date",
    action: str = "view",
    as_of: datetime.date | None = None,
) -> tuple[QuerySet, str, bool, dict[str, str]]:
    """Invoices ``user`` may see; ``state`` is open / paid / void, ``overdue`` open past the due
    date as of today."""
    f = filters or {}
    as_of = as_of or timezone.localdate()
    qs = (
        scope(user, Invoice.objects.all(), action)
        .select_related("customer", "order")
        .annotate(outstanding_amount=F("amount") - F("paid"))
    )
    used: dict[str, str] = {}
    q = str(f.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(customer__name__icontains=q))
        used["q"] = q
    customer = _id(f.get("customer"))
    if customer:
        qs = qs.filter(customer_id=customer)
        used["customer"] = str(customer)
    order = _id(f.get("order"))
    if order:
        qs = qs.filter(order_id=order)
        used["order"] = str(order)
    if f.get("state") in InvoiceState.values:
        qs = qs.filter(state=f["state"])
        used["state"] = f["state"]
    if str(f.get("overdue") or "").lower() in ("1", "true", "yes", "on"):
        qs = qs.filter(state=InvoiceState.OPEN, due_date__lt=as_of, paid__lt=F("amount"))
        used["overdue"] = "1"
    key, descending, order_by = _sort(sort, INVOICE_SORTS, "-issue_date")
    return qs.order_by(*order_by), key, descending, used


def _money(value) -> Decimal:
    """A sum as money (SQLite answers a SUM of whole amounts as an integer)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def invoice_list(
    user: User,
    *,
    filters: dict[str, Any] | None = None,
    sort: str = "-issue_date",
    limit: Any = 50,
    offset: Any = 0,
) -> Page:
    qs, key, descending, used = invoices(user, filters=filters, sort=sort)
    return _page(qs, limit=limit, offset=offset, sort=key, descending=descending, used=used)


def invoice_totals(user: User, *, filters: dict[str, Any] | None = None) -> dict[str, Decimal]:
    """Sums over a filtered invoice list (void invoices left out)."""
    qs, *_rest = invoices(user, filters=filters)
    agg = qs.exclude(state=InvoiceState.VOID).aggregate(amount=Sum("amount"), paid=Sum("paid"))
    amount, paid = _money(agg["amount"]), _money(agg["paid"])
    return {"amount": amount, "paid": paid, "outstanding": amount - paid}


def get_invoice(user: User, invoice_id: Any) -> Invoice:
    invoice = (
        scope(user, Invoice.objects.all(), "view")
        .select_related("customer", "order", "created_by")
        .filter(pk=_id(invoice_id) or 0)
        .first()
    )
    if invoice is None:
        raise NotFound()
    return invoice


def payments_of(user: User, invoice_id: Any) -> list[Payment]:
    invoice = get_invoice(user, invoice_id)
    return list(
        scope(user, Payment.objects.filter(invoice=invoice), "view")
        .select_related("created_by")
        .order_by("paid_on", "id")
    )


def export_invoices(user: User, *, filters: dict[str, Any] | None = None, cap: int = EXPORT_CAP):
    qs, *_rest = invoices(user, filters=filters, action="export")
    yield from qs[:cap].iterator(chunk_size=2000)


def uninvoiced_orders(user: User, customer_id: int, limit: int = 30) -> list[Order]:
    """The customer's recent orders without an invoice (for the invoice form's order select)."""
    qs = scope(user, Order.objects.filter(customer_id=customer_id, amount__gt=0), "view")
    qs = qs.exclude(
        pk__in=Invoice.objects.exclude(state=InvoiceState.VOID)
        .values("order_id")
        .filter(order_id__isnull=False)
    ).exclude(delivery_state=DeliveryState.CANCELLED)
    return list(qs.order_by("-order_date", "-id")[:limit])


# --- a customer's purchase figures (the card's "sales vs collections", 交易状况) ---------------------


def customer_for_sales(user: User, customer_id: Any) -> Customer:
    """The customer if ``user`` may read its sales figures: NotFound outside the user's scope,
    Forbidden for a visible customer without ``view_finance`` (service agents)."""
    customer = customer_selectors.get_customer(user, _id(customer_id) or 0)
    if customer.pk not in customer_selectors.finance_access(user, [customer.pk]):
        raise Forbidden()
    return customer


def customer_for_change(user: User, customer_id: Any) -> Customer:
    """The customer an order or invoice is written for: NotFound outside the scope, Forbidden for a
    visible customer the user may not change."""
    customer = customer_selectors.get_customer(user, _id(customer_id) or 0)
    if not can(user, customer, "change"):
        raise Forbidden()
    return customer


@dataclass
class PurchaseOverview:
    customer: Customer
    as_of: datetime.date
    first_purchase: datetime.date | None = None
    last_purchase: datetime.date | None = None
    purchase_days: int = 0
    orders: int = 0
    gross: Decimal = ZERO
    returns: Decimal = ZERO
    cost: Decimal = ZERO
    revenue_this_year: Decimal = ZERO
    revenue_last_year_to_date: Decimal = ZERO
    revenue_12m: Decimal = ZERO
    revenue_prev_12m: Decimal = ZERO
    invoiced_12m: Decimal = ZERO
    collected_12m: Decimal = ZERO
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    overdue_invoices: int = 0
    oldest_overdue_days: int | None = None
    open_orders: Decimal = ZERO
    credit_limit: Decimal | None = None
    months: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    recent_orders: list[Order] = field(default_factory=list)
    open_invoices: list[Invoice] = field(default_factory=list)

    @property
    def revenue(self) -> Decimal:
        return self.gross + self.returns

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def days_since_last(self) -> int | None:
        return (self.as_of - self.last_purchase).days if self.last_purchase else None

    @property
    def change_12m_pct(self) -> Decimal | None:
        if not self.revenue_prev_12m:
            return None
        return (self.revenue_12m - self.revenue_prev_12m) / abs(self.revenue_prev_12m) * 100

    @property
    def change_ytd_pct(self) -> Decimal | None:
        if not self.revenue_last_year_to_date:
            return None
        return (
            (self.revenue_this_year - self.revenue_last_year_to_date)
            / abs(self.revenue_last_year_to_date)
            * 100
        )

    @property
    def collection_rate(self) -> Decimal | None:
        return self.collected_12m / self.invoiced_12m * 100 if self.invoiced_12m else None

    @property
    def exposure(self) -> Decimal:
        """Open receivables plus open orders not yet invoiced (C11)."""
        return self.outstanding + self.open_orders

    @property
    def credit_used_pct(self) -> Decimal | None:
        return self.exposure / self.credit_limit * 100 if self.credit_limit else None

    @property
    def over_limit(self) -> bool:
        return self.credit_limit is not None and self.exposure > self.credit_limit

    @property
    def chart(self) -> list[dict[str, Any]]:
        """Bars of the monthly revenue for a small inline chart (heights in px of 60)."""
        top = max([abs(v) for _m, v in self.months] + [Decimal(1)])
        out = []
        for i, (m, v) in enumerate(self.months):
            h = int(abs(v) * 56 / top) if v else 0
            out.append(
                {
                    "month": m,
                    "value": v,
                    "x": i * 20 + 2,
                    "h": max(h, 1 if v else 0),
                    "y": 60 - max(h, 1 if v else 0),
                    "negative": v < 0,
                }
            )
        return out


def purchase_overview(
    user: User, customer_id: Any, *, as_of: datetime.date | None = None, recent: int = 8
) -> PurchaseOverview:
    """What the key-account card shows of the customer's business with us: the purchase summary,
    revenue this year and in the last 12 months against the year before, invoiced and collected,
    outstanding and overdue receivables, the credit limit against the exposure, the recent orders."""
    customer = customer_for_sales(user, customer_id)
    as_of = as_of or timezone.localdate()
    ov = PurchaseOverview(customer=customer, as_of=as_of, credit_limit=customer.credit_limit)
    s = scope(user, PurchaseSummary.objects.filter(customer=customer), "view").first()
    if s is not None:
        ov.first_purchase, ov.last_purchase = s.first_purchase, s.last_purchase
        ov.purchase_days, ov.orders = s.purchase_days, s.orders
        ov.gross, ov.returns, ov.cost = s.gross, s.returns, s.cost
    this_month = as_of.replace(day=1)
    start_12m = _shift_month(this_month, -11)
    start_24m = _shift_month(this_month, -23)
    year_start = as_of.replace(month=1, day=1)
    last_year_start = year_start.replace(year=year_start.year - 1)
    last_year_same = _shift_month(this_month, -12)
    figures = dict(
        RevenueFigure.objects.filter(customer=customer, period_start__gte=min(start_24m, last_year_start))
        .filter(period_start__lte=this_month)
        .values_list("period_start", "revenue")
    )
    for month, value in figures.items():
        if month >= start_12m:
            ov.revenue_12m += value
        elif month >= start_24m:
            ov.revenue_prev_12m += value
        if month >= year_start:
            ov.revenue_this_year += value
        elif last_year_start <= month <= last_year_same:
            ov.revenue_last_year_to_date += value
    ov.months = [
        (_shift_month(start_12m, k), figures.get(_shift_month(start_12m, k), ZERO)) for k in range(12)
    ]
    inv = scope(user, Invoice.objects.filter(customer=customer), "view").exclude(state=InvoiceState.VOID)
    ov.invoiced_12m = _money(inv.filter(issue_date__gte=start_12m).aggregate(s=Sum("amount"))["s"])
    payments = Payment.objects.filter(invoice__customer=customer, paid_on__gte=start_12m)
    ov.collected_12m = _money(scope(user, payments, "view").aggregate(s=Sum("amount"))["s"])
    open_inv = inv.filter(state=InvoiceState.OPEN)
    agg = open_inv.aggregate(a=Sum("amount"), p=Sum("paid"))
    ov.outstanding = _money(agg["a"]) - _money(agg["p"])
    late = open_inv.filter(due_date__lt=as_of, paid__lt=F("amount"))
    agg = late.aggregate(a=Sum("amount"), p=Sum("paid"))
    ov.overdue = _money(agg["a"]) - _money(agg["p"])
    ov.overdue_invoices = late.count()
    oldest = late.order_by("due_date").values_list("due_date", flat=True).first()
    ov.oldest_overdue_days = (as_of - oldest).days if oldest else None
    open_orders = scope(user, Order.objects.filter(customer=customer), "view").filter(
        delivery_state__in=(DeliveryState.PENDING, DeliveryState.SHIPPED), amount__gt=0
    )
    open_orders = open_orders.exclude(
        pk__in=Invoice.objects.exclude(state=InvoiceState.VOID)
        .filter(order_id__isnull=False)
        .values("order_id")
    )
    ov.open_orders = _money(open_orders.aggregate(s=Sum("amount"))["s"])
    ov.recent_orders = list(
        scope(user, Order.objects.filter(customer=customer), "view").order_by("-order_date", "-id")[:recent]
    )
    ov.open_invoices = list(open_inv.order_by("due_date", "id")[:recent])
    return ov
