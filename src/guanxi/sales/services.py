"""Every write of sales data: products, orders, invoices, payments. Each keeps the derived purchase
tables current (``summary.refresh``) in the same transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.customers.services import _get_for_change, month_start, record_revenue
from guanxi.org.access import scope

from . import hooks, summary
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
    PurchaseSummary,
)

MONEY = Decimal("0.01")


def parse_money(value: Any, field: str, errors: dict, *, required: bool = True, allow_negative=True):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.setdefault(field, []).append(_("This field is required."))
        return None
    try:
        d = Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number."))
        return None
    if not d.is_finite():
        errors.setdefault(field, []).append(_("Enter a number."))
        return None
    if d < 0 and not allow_negative:
        errors.setdefault(field, []).append(_("Must not be negative."))
        return None
    if abs(d) >= Decimal("1e14"):
        errors.setdefault(field, []).append(_("This number is too large."))
        return None
    return d.quantize(MONEY)


def parse_day(value: Any, field: str, errors: dict, *, required: bool = True) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(_("This field is required."))
        return None
    try:
        d = parse_date(str(value).strip())
    except ValueError:
        d = None
    if d is None:
        errors.setdefault(field, []).append(_("Enter a valid date (YYYY-MM-DD)."))
    return d


def _customer_for_change(actor, customer_id: Any) -> Customer:
    return _get_for_change(actor, Customer, customer_id)


def _order_for_change(actor, order_id: Any) -> Order:
    return _get_for_change(actor, Order, order_id)


# --- catalogue -----------------------------------------------------------------------------------


def _admin_only(actor) -> None:
    if not getattr(actor, "is_admin", False):
        raise Forbidden()


def create_category(*, actor, name: str, parent_id: int | None = None) -> ProductCategory:
    _admin_only(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.one("name", _("This field is required."))
    if ProductCategory.objects.filter(name=name).exists():
        raise ValidationFailed.one("name", _("A category with this name exists."))
    parent = None
    if parent_id:
        parent = ProductCategory.objects.filter(pk=parent_id).first()
        if parent is None:
            raise ValidationFailed.one("parent", _("No such category."))
    return ProductCategory.objects.create(name=name, parent=parent)


PRODUCT_FIELDS = ("code", "name", "category", "unit", "list_price", "unit_cost", "active")


def _apply_product(product: Product, data: dict[str, Any]) -> None:
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    if "name" in data:
        product.name = (data["name"] or "").strip()
    if not product.name:
        errors.setdefault("name", []).append(_("This field is required."))
    elif Product.objects.filter(name=product.name).exclude(pk=product.pk).exists():
        errors.setdefault("name", []).append(_("A product with this name exists."))
    if "code" in data:
        product.code = (data["code"] or "").strip() or None
        if product.code and Product.objects.filter(code=product.code).exclude(pk=product.pk).exists():
            errors.setdefault("code", []).append(_("A product with this code exists."))
    if "category" in data:
        cat = data["category"]
        if cat in (None, ""):
            product.category = None
        else:
            found = ProductCategory.objects.filter(pk=cat).first() if str(cat).isdigit() else None
            found = found or ProductCategory.objects.filter(name=str(cat).strip()).first()
            if found is None:
                errors.setdefault("category", []).append(_("No such category."))
            product.category = found
    if "unit" in data:
        product.unit = (data["unit"] or "").strip()
    for f in ("list_price", "unit_cost"):
        if f in data:
            setattr(product, f, parse_money(data[f], f, errors, required=False, allow_negative=False))
    if "active" in data:
        product.active = bool(data["active"])
    if errors:
        raise ValidationFailed(errors)
    product.save()


def create_product(*, actor, data: dict[str, Any]) -> Product:
    _admin_only(actor)
    with transaction.atomic():
        product = Product()
        _apply_product(product, data)
    return product


def update_product(*, actor, product_id: int, data: dict[str, Any]) -> Product:
    _admin_only(actor)
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise NotFound()
        _apply_product(product, data)
    return product


# --- orders --------------------------------------------------------------------------------------

ORDER_FIELDS = ("number", "order_date", "channel", "delivery_state", "note", "lines")
LINE_FIELDS = ("product", "quantity", "unit_price", "amount", "cost", "gift")


def _resolve_product(value: Any) -> Product | None:
    if value in (None, ""):
        return None
    if isinstance(value, Product):
        return value
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        found = Product.objects.filter(pk=int(value)).first()
        if found:
            return found
    text = str(value).strip()
    return Product.objects.filter(code=text).first() or Product.objects.filter(name=text).first()


def _build_lines(raw_lines: Any, errors: dict) -> list[OrderLine]:
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.setdefault("lines", []).append(_("An order needs at least one line."))
        return []
    lines = []
    for i, raw in enumerate(raw_lines):
        prefix = f"lines.{i}."
        if not isinstance(raw, dict):
            errors.setdefault(f"lines.{i}", []).append(_("Expected an object."))
            continue
        unknown = set(raw) - set(LINE_FIELDS)
        for k in sorted(unknown):
            errors.setdefault(prefix + k, []).append(_("Unknown field."))
        product = _resolve_product(raw.get("product"))
        if raw.get("product") not in (None, "") and product is None:
            errors.setdefault(prefix + "product", []).append(_("No such product."))
        qty = raw.get("quantity", 1)
        try:
            qty = Decimal(str(qty if qty not in (None, "") else 1))
            if not qty.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.setdefault(prefix + "quantity", []).append(_("Enter a number."))
            qty = None
        price = parse_money(raw.get("unit_price"), prefix + "unit_price", errors, required=False)
        amount = parse_money(raw.get("amount"), prefix + "amount", errors, required=False)
        if price is None and amount is None and product is not None and product.list_price is not None:
            if prefix + "unit_price" not in errors and prefix + "amount" not in errors:
                price = product.list_price  # neither given: the product's list price
        if amount is None and price is not None and qty is not None:
            amount = (price * qty).quantize(MONEY)
        if amount is None and prefix + "amount" not in errors and prefix + "unit_price" not in errors:
            errors.setdefault(prefix + "amount", []).append(_("Give the amount or the unit price."))
        cost = parse_money(raw.get("cost"), prefix + "cost", errors, required=False)
        if cost is None and product is not None and product.unit_cost is not None and qty is not None:
            cost = (product.unit_cost * abs(qty)).quantize(MONEY)
            if amount is not None and amount < 0:
                cost = -cost  # a return gives the goods back
        lines.append(
            OrderLine(
                product=product, quantity=qty or 0, unit_price=price, amount=amount or 0, cost=cost,
                gift=(raw.get("gift") or "").strip()[:200],
            )
        )  # fmt: skip
    return lines


def create_order(*, actor, customer_id: int, data: dict[str, Any]) -> Order:
    """Record an order with its lines; keeps the purchase summary, the monthly revenue (and its
    significant-change rule) and the product figures current; a first purchase runs the
    ``hooks.first_purchase`` callbacks (the welcome gift)."""
    unknown = set(data) - set(ORDER_FIELDS)
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in sorted(unknown)})
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        errors: dict[str, list[str]] = {}
        number = (data.get("number") or "").strip() or None
        if number and Order.objects.filter(number=number).exists():
            errors.setdefault("number", []).append(_("An order with this number exists."))
        order_date = parse_day(data.get("order_date") or timezone.localdate(), "order_date", errors)
        channel = data.get("channel") or ""
        if channel and channel not in Channel.values:
            errors.setdefault("channel", []).append(_("Choose one of the listed values."))
        state = data.get("delivery_state") or DeliveryState.DELIVERED
        if state not in DeliveryState.values:
            errors.setdefault("delivery_state", []).append(_("Choose one of the listed values."))
        lines = _build_lines(data.get("lines"), errors)
        if errors:
            raise ValidationFailed(errors)
        had_purchase = PurchaseSummary.objects.filter(customer=customer, purchase_days__gt=0).exists()
        amount = sum((ln.amount for ln in lines), Decimal("0"))
        costs = [ln.cost for ln in lines if ln.cost is not None]
        order = Order.objects.create(
            customer=customer, number=number, order_date=order_date, channel=channel,
            delivery_state=state, amount=amount, cost=sum(costs, Decimal("0")) if costs else None,
            note=(data.get("note") or "").strip(), created_by=actor,
        )  # fmt: skip
        for ln in lines:
            ln.order = order
        OrderLine.objects.bulk_create(lines)
        if state != DeliveryState.CANCELLED:
            summary.add_order_to_products(order_date, lines, 1)
        _after_orders_changed(customer, [order_date])
        if not had_purchase and amount >= 0 and state != DeliveryState.CANCELLED:
            hooks.first_purchase(customer, order)
    return order


def _after_orders_changed(customer: Customer, dates) -> None:
    """The customer's purchase summary and monthly revenue after a change of its orders (the
    products' months are changed by the caller, by the order's own lines)."""
    summary.refresh([customer.pk])
    from guanxi.customers.models import RevenueFigure

    for month in sorted({month_start(d) for d in dates}):
        fig = RevenueFigure.objects.filter(customer=customer, period_start=month).first()
        if fig is None:
            # no orders left in that month: refresh() wrote no figure, and a 0 written here would
            # differ from what a full refresh(None) gives
            continue
        # re-sets the figure refresh() wrote, so the significant-change rule looks at it (C1)
        record_revenue(actor=None, customer_id=customer.pk, period_start=month, revenue=fig.revenue)


def set_delivery_state(*, actor, order_id: int, state: str) -> Order:
    if state not in DeliveryState.values:
        raise ValidationFailed.one("delivery_state", _("Choose one of the listed values."))
    with transaction.atomic():
        order = _order_for_change(actor, order_id)
        was_cancelled = order.delivery_state == DeliveryState.CANCELLED
        order.delivery_state = state
        order.save(update_fields=["delivery_state"])
        if was_cancelled != (state == DeliveryState.CANCELLED):  # it starts or stops counting
            sign = 1 if was_cancelled else -1
            summary.add_order_to_products(order.order_date, order.lines.order_by(), sign)
        _after_orders_changed(order.customer, [order.order_date])
    return order


def delete_order(*, actor, order_id: int) -> None:
    with transaction.atomic():
        order = _order_for_change(actor, order_id)
        customer, when = order.customer, order.order_date
        if order.delivery_state != DeliveryState.CANCELLED:
            summary.add_order_to_products(when, order.lines.order_by(), -1)
        order.delete()
        _after_orders_changed(customer, [when])


# --- invoices and payments -------------------------------------------------------------------------


def create_invoice(*, actor, customer_id: int, data: dict[str, Any]) -> Invoice:
    allowed = {"number", "order", "issue_date", "due_date", "amount"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in sorted(unknown)})
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        errors: dict[str, list[str]] = {}
        number = (data.get("number") or "").strip()
        if not number:
            errors.setdefault("number", []).append(_("This field is required."))
        elif Invoice.objects.filter(number=number).exists():
            errors.setdefault("number", []).append(_("An invoice with this number exists."))
        issue = parse_day(data.get("issue_date"), "issue_date", errors)
        due = parse_day(data.get("due_date"), "due_date", errors)
        if issue and due and due < issue:
            errors.setdefault("due_date", []).append(_("The due date is before the issue date."))
        amount = parse_money(data.get("amount"), "amount", errors, allow_negative=False)
        order = None
        if data.get("order"):
            order_id = data["order"]
            valid = isinstance(order_id, int) or str(order_id).strip().isdigit()
            order = Order.objects.filter(pk=int(order_id), customer=customer).first() if valid else None
            if order is None:
                errors.setdefault("order", []).append(_("No such order of this customer."))
        if errors:
            raise ValidationFailed(errors)
        return Invoice.objects.create(
            customer=customer, order=order, number=number, issue_date=issue, due_date=due, amount=amount,
            state=InvoiceState.PAID if amount == 0 else InvoiceState.OPEN, created_by=actor,
        )  # fmt: skip


def record_payment(*, actor, invoice_id: int, data: dict[str, Any]) -> Payment:
    allowed = {"paid_on", "amount", "method", "reference"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in sorted(unknown)})
    with transaction.atomic():
        invoice = scope(actor, Invoice.objects.select_for_update(), "change").filter(pk=invoice_id).first()
        if invoice is None:
            if scope(actor, Invoice.objects.filter(pk=invoice_id), "view").exists():
                raise Forbidden()
            raise NotFound()
        errors: dict[str, list[str]] = {}
        if invoice.state == InvoiceState.VOID:
            errors.setdefault("__all__", []).append(_("This invoice is void."))
        paid_on = parse_day(data.get("paid_on") or timezone.localdate(), "paid_on", errors)
        amount = parse_money(data.get("amount"), "amount", errors, allow_negative=False)
        if amount is not None and amount <= 0:
            errors.setdefault("amount", []).append(_("Must be more than 0."))
        elif amount is not None and invoice.paid + amount > invoice.amount:
            errors.setdefault("amount", []).append(
                _("More than the outstanding %(left)s.") % {"left": invoice.amount - invoice.paid}
            )
        if errors:
            raise ValidationFailed(errors)
        payment = Payment.objects.create(
            invoice=invoice, paid_on=paid_on, amount=amount, method=(data.get("method") or "").strip()[:40],
            reference=(data.get("reference") or "").strip()[:100], created_by=actor,
        )  # fmt: skip
        invoice.paid += amount
        if invoice.paid >= invoice.amount:
            invoice.state = InvoiceState.PAID
        invoice.save(update_fields=["paid", "state"])
    return payment


def void_invoice(*, actor, invoice_id: int) -> Invoice:
    with transaction.atomic():
        invoice = scope(actor, Invoice.objects.select_for_update(), "change").filter(pk=invoice_id).first()
        if invoice is None:
            if scope(actor, Invoice.objects.filter(pk=invoice_id), "view").exists():
                raise Forbidden()
            raise NotFound()
        if invoice.paid > 0:
            raise ValidationFailed.one("__all__", _("An invoice with payments cannot be voided."))
        invoice.state = InvoiceState.VOID
        invoice.save(update_fields=["state"])
    return invoice
