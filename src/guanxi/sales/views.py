"""Web pages of orders, products, invoices and payments, and the card's sales section (C4, C11).

Thin: parse the request, call a selector (read) or a service (write), render. Out-of-scope records
answer 404; visible records the user may not change answer 403 (a service agent sees a customer but
none of its orders, which are then out of scope: 404).
"""

from __future__ import annotations

import datetime
import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from guanxi.core import services as core_services
from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers import selectors as customer_selectors
from guanxi.org.models import Role

from . import selectors, services
from .forms import (
    PAYMENT_METHODS,
    CategoryForm,
    DeliveryForm,
    ExportForm,
    InvoiceForm,
    LineForm,
    LineFormSet,
    OrderForm,
    PaymentForm,
    ProductForm,
    apply_errors,
    apply_order_errors,
)
from .models import Channel, DeliveryState, InvoiceState

LIMITS = (25, 50, 100, 200)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _or_404(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotFound:
        raise Http404()
    except Forbidden:
        raise PermissionDenied


def _int(value: Any, default: int = 0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _may_sell(user) -> bool:
    """Whether the user's role writes orders at all (the customer's own rule decides each one)."""
    return bool(user.is_admin or user.role in (Role.MANAGER, Role.ACCOUNT_MANAGER))


def _pager(page) -> dict[str, Any]:
    return {
        "first_row": page.offset + 1,
        "last_row": page.offset + len(page.items),
        "prev_offset": max(0, page.offset - page.limit),
        "next_offset": page.offset + page.limit,
        "last_offset": (page.page_count - 1) * page.limit,
        "limits": LIMITS,
    }


def _chips(request, fields: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The filters in use, as removable chips."""
    chips = []
    for f in fields:
        if not f.get("value"):
            continue
        shown = dict(f.get("options") or []).get(f["value"], f.get("shown") or f["value"])
        if f.get("kind") == "check":
            shown = _("Yes")
        params = request.GET.copy()
        params.pop(f["name"], None)
        params.pop("offset", None)
        chips.append({"label": f["label"], "value": shown, "remove": "?" + params.urlencode()})
    return chips


def _with_customer_chip(user, fields: list[dict], filters: dict) -> list[dict]:
    """The filter fields plus a chip for the customer a list is narrowed to (not a form field)."""
    chips = list(fields)
    if filters.get("customer"):
        chips.append({
            "name": "customer", "label": _("Customer"), "value": filters["customer"],
            "shown": _customer_name(user, filters["customer"]),
        })  # fmt: skip
    return chips


def _customer_name(user, customer_id: str) -> str:
    try:
        return customer_selectors.get_customer(user, int(customer_id)).name
    except (NotFound, TypeError, ValueError):
        return f"#{customer_id}"


# --- orders ----------------------------------------------------------------------------------------

ORDER_COLUMNS = [
    ("order_date", gettext_lazy("Date"), ""),
    ("number", gettext_lazy("Order"), ""),
    ("customer", gettext_lazy("Customer"), ""),
    ("channel", gettext_lazy("Channel"), ""),
    ("delivery_state", gettext_lazy("Delivery"), ""),
    ("amount", gettext_lazy("Amount"), "num"),
]


def _order_filters(request) -> dict[str, str]:
    return {k: request.GET[k].strip() for k in selectors.ORDER_FILTERS if request.GET.get(k, "").strip()}


def _order_filter_fields(user, values: dict[str, str]) -> list[dict[str, Any]]:
    any_ = _("Any")
    products = [(str(p.pk), p.name) for p in selectors.products(user)[0]]
    fields = [
        {"name": "date_from", "label": _("From"), "kind": "date"},
        {"name": "date_to", "label": _("To"), "kind": "date"},
        {
            "name": "channel",
            "label": _("Channel"),
            "kind": "select",
            "options": [("", any_), *[(v, str(lbl)) for v, lbl in Channel.choices]],
        },
        {
            "name": "delivery_state",
            "label": _("Delivery state"),
            "kind": "select",
            "options": [("", any_), *[(v, str(lbl)) for v, lbl in DeliveryState.choices]],
        },
        {"name": "product", "label": _("Product"), "kind": "select", "options": [("", any_), *products]},
        {"name": "returns", "label": _("Returns only"), "kind": "check"},
    ]
    for f in fields:
        f["value"] = values.get(f["name"], "")
    return fields


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def order_list(request):
    user = request.user
    filters = _order_filters(request)
    page = selectors.order_list(
        user,
        filters=filters,
        sort=request.GET.get("sort", "-order_date"),
        limit=request.GET.get("limit", 50),
        offset=request.GET.get("offset", 0),
    )
    fields = _order_filter_fields(user, filters)
    chip_fields = _with_customer_chip(user, fields, filters)
    export_query = urlencode(filters)
    ctx = {
        "page": page,
        "q": filters.get("q", ""),
        "filters": filters,
        "filter_fields": fields,
        "chips": _chips(request, [f for f in chip_fields if f["name"] != "q"]),
        "filters_open": any(k not in ("q", "customer") for k in filters),
        "columns": ORDER_COLUMNS,
        "sort_param": ("-" if page.descending else "") + page.sort,
        "can_create": _may_sell(user),
        "can_export": selectors.can_export_orders(user),
        "export_url": reverse("sales:order_export") + ("?" + export_query if export_query else ""),
        "nav_active": "orders",
        **_pager(page),
    }
    template = "sales/orders.html"
    if _is_htmx(request):
        target = request.headers.get("HX-Target")
        template = "sales/_order_results.html" if target == "order-results" else "sales/_order_panel.html"
    return render(request, template, ctx)


@login_required
def order_detail(request, pk: int):
    user = request.user
    order = _or_404(selectors.get_order, user, pk)
    can_change = selectors.can_change(user, order)
    ctx = {
        "order": order,
        "lines": selectors.order_lines(user, order.pk),
        "invoices": selectors.order_invoices(user, order.pk),
        "can_change": can_change,
        "delivery_form": DeliveryForm(initial={"delivery_state": order.delivery_state})
        if can_change
        else None,
        "nav_active": "orders",
    }
    return render(request, "sales/order_detail.html", ctx)


def _line_forms(data, products, count: int | None = None):
    if data is not None:
        return LineFormSet(data, prefix="lines", form_kwargs={"products": products})
    initial = [{"quantity": 1} for _i in range(count or 2)]
    return LineFormSet(prefix="lines", initial=initial, form_kwargs={"products": products})


def _pick_customer(request, user):
    """The first step of a new order or invoice without a customer: find the customer."""
    q = request.GET.get("q", "").strip()
    found = []
    if q:
        page = customer_selectors.customer_list(user, q=q, limit=20)
        found = [c for c in page.items if selectors.can_change(user, c)]
    return q, found


@login_required
def order_create(request):
    user = request.user
    src = request.POST if request.method == "POST" else request.GET
    if not src.get("customer"):
        if not _may_sell(user):
            raise PermissionDenied
        q, found = _pick_customer(request, user)
        ctx = {"q": q, "found": found, "what": "order", "nav_active": "orders"}
        template = "sales/_customer_pick.html" if _is_htmx(request) else "sales/customer_pick.html"
        return render(request, template, ctx)
    customer = _or_404(selectors.customer_for_change, user, src.get("customer"))
    products = selectors.product_choices(user)
    if request.method == "POST":
        form = OrderForm(request.POST)
        lines = _line_forms(request.POST, products)
        if form.is_valid() & lines.is_valid():
            used = [i for i, f in enumerate(lines.forms) if not f.is_blank()]
            data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
            data["lines"] = [lines.forms[i].service_data() for i in used]
            try:
                order = services.create_order(actor=user, customer_id=customer.pk, data=data)
            except ValidationFailed as e:
                apply_order_errors(form, lines, used, e)
            except Forbidden:
                raise PermissionDenied
            except NotFound:
                raise Http404()
            else:
                messages.success(request, _("Order %(order)s saved.") % {"order": order})
                return redirect("sales:order_detail", order.pk)
    else:
        form = OrderForm(
            initial={
                "order_date": timezone.localdate(),
                "delivery_state": "pending",
                "channel": "direct" if customer.kind == "company" else "store",
            }
        )
        lines = _line_forms(None, products)
    ctx = {
        "customer": customer,
        "form": form,
        "lines": lines,
        "next_index": lines.total_form_count(),
        "line_errors": any(f.errors for f in lines.forms) or bool(lines.non_form_errors()),
        "nav_active": "orders",
    }
    return render(request, "sales/order_form.html", ctx)


@login_required
def order_line(request):
    """One line row of the order form (htmx): ``add=1`` appends a new one (and counts it in the
    formset's TOTAL_FORMS); otherwise the row is re-drawn after its product was chosen, with the
    product's list price as the unit price when none was typed."""
    user = request.user
    if not _may_sell(user):
        raise PermissionDenied
    index = _int(request.GET.get("index"))
    if index >= 200:
        raise Http404()
    products = selectors.product_choices(user)
    prefix = f"lines-{index}"
    if request.GET.get("add"):
        form = LineForm(prefix=prefix, initial={"quantity": 1}, products=products)
    else:
        values = {
            k: request.GET.get(f"{prefix}-{k}", "")
            for k in ("product", "quantity", "unit_price", "amount", "gift")
        }
        chosen = next((p for p in products if str(p.pk) == values["product"]), None)
        if chosen is not None and not values["unit_price"] and chosen.list_price is not None:
            values["unit_price"] = str(chosen.list_price)
        form = LineForm(prefix=prefix, initial=values, products=products)
    ctx = {"line": form, "index": index, "add": bool(request.GET.get("add")), "next_index": index + 1}
    return render(request, "sales/_order_line.html", ctx)


@login_required
@require_POST
def order_delivery(request, pk: int):
    user = request.user
    order = _or_404(selectors.get_order, user, pk)
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the listed values."))
        return redirect("sales:order_detail", order.pk)
    try:
        order = services.set_delivery_state(
            actor=user, order_id=order.pk, state=form.cleaned_data["delivery_state"]
        )
    except Forbidden:
        raise PermissionDenied
    except NotFound:
        raise Http404()
    except ValidationFailed as e:
        messages.error(request, " ".join(m for ms in e.errors.values() for m in ms))
    else:
        messages.success(
            request, _("Delivery state: %(state)s.") % {"state": order.get_delivery_state_display()}
        )
    return redirect("sales:order_detail", order.pk)


@login_required
def order_delete(request, pk: int):
    user = request.user
    order = _or_404(selectors.get_order, user, pk)
    if not selectors.can_change(user, order):
        raise PermissionDenied
    if request.method == "POST":
        customer_id = order.customer_id
        try:
            services.delete_order(actor=user, order_id=order.pk)
        except Forbidden:
            raise PermissionDenied
        except NotFound:
            raise Http404()
        messages.success(request, _("Order %(order)s deleted.") % {"order": order})
        return redirect(reverse("customers:detail", args=[customer_id]) + "#sales")
    ctx = {
        "order": order,
        "lines": selectors.order_lines(user, order.pk),
        "invoices": selectors.order_invoices(user, order.pk),
        "nav_active": "orders",
    }
    return render(request, "sales/order_confirm_delete.html", ctx)


# --- exports (C16: a stated purpose, logged) -------------------------------------------------------

ORDER_EXPORT_COLUMNS = [
    gettext_lazy("Order ID"),
    gettext_lazy("Order number"),
    gettext_lazy("Order date"),
    gettext_lazy("Customer code"),
    gettext_lazy("Customer"),
    gettext_lazy("Channel"),
    gettext_lazy("Delivery state"),
    gettext_lazy("Order amount (CNY)"),
    gettext_lazy("Line"),
    gettext_lazy("Product code"),
    gettext_lazy("Product"),
    gettext_lazy("Quantity"),
    gettext_lazy("Unit price (CNY)"),
    gettext_lazy("Line amount (CNY)"),
    gettext_lazy("Gift"),
]
INVOICE_EXPORT_COLUMNS = [
    gettext_lazy("Invoice number"),
    gettext_lazy("Customer"),
    gettext_lazy("Order"),
    gettext_lazy("Issued on"),
    gettext_lazy("Due on"),
    gettext_lazy("Amount (CNY)"),
    gettext_lazy("Paid (CNY)"),
    gettext_lazy("Outstanding (CNY)"),
    gettext_lazy("State"),
]


def _f(value) -> float | None:
    return float(value) if value is not None else None


def _write_orders(user, filters) -> tuple[Any, int]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Orders")[:31])
    ws.append([str(c) for c in ORDER_EXPORT_COLUMNS])
    rows = 0
    for order, lines in selectors.export_orders(user, filters=filters):
        head = [
            order.pk,
            order.number or "",
            order.order_date,
            order.customer.code or "",
            order.customer.name,
            order.get_channel_display() if order.channel else "",
            order.get_delivery_state_display(),
            _f(order.amount),
        ]
        for n, ln in enumerate(lines or [None], 1):
            if ln is None:
                ws.append(head)
                continue
            p = ln.product
            ws.append(
                head
                + [
                    n,
                    (p.code or "") if p else "",
                    p.name if p else "",
                    _f(ln.quantity),
                    _f(ln.unit_price),
                    _f(ln.amount),
                    ln.gift,
                ]
            )
        rows += 1
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out, rows


def _write_invoices(user, filters) -> tuple[Any, int]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Invoices")[:31])
    ws.append([str(c) for c in INVOICE_EXPORT_COLUMNS])
    rows = 0
    for inv in selectors.export_invoices(user, filters=filters):
        ws.append(
            [
                inv.number,
                inv.customer.name,
                str(inv.order) if inv.order else "",
                inv.issue_date,
                inv.due_date,
                _f(inv.amount),
                _f(inv.paid),
                _f(inv.amount - inv.paid),
                inv.get_state_display(),
            ]
        )
        rows += 1
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out, rows


def _export(request, what: str):
    user = request.user
    allowed = selectors.can_export_orders(user) if what == "orders" else selectors.can_export_invoices(user)
    if not allowed:
        raise Http404()
    keys = selectors.ORDER_FILTERS if what == "orders" else selectors.INVOICE_FILTERS
    source = request.POST if request.method == "POST" else request.GET
    filters = {k: source[k].strip() for k in keys if source.get(k, "").strip()}
    form = ExportForm(request.POST or None)
    list_url = reverse("sales:orders" if what == "orders" else "sales:invoices")
    if request.method == "POST" and form.is_valid():
        out, rows = (_write_orders if what == "orders" else _write_invoices)(user, filters)
        try:
            core_services.log_export(
                actor=user, what=what, filters=filters, purpose=form.cleaned_data["purpose"], row_count=rows
            )
        except ValidationFailed as e:
            out.close()
            apply_errors(form, e)
        else:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            return FileResponse(
                out, as_attachment=True, filename=f"guanxi-{what}-{stamp}.xlsx", content_type=XLSX
            )
    shown = []
    for k, v in filters.items():
        label = {
            "customer": _("Customer"),
            "q": _("Search"),
            "date_from": _("From"),
            "date_to": _("To"),
            "channel": _("Channel"),
            "delivery_state": _("Delivery state"),
            "product": _("Product"),
            "returns": _("Returns only"),
            "state": _("State"),
            "overdue": _("Overdue"),
            "order": _("Order"),
        }.get(k, k)
        value = _customer_name(user, v) if k == "customer" else v
        shown.append({"label": label, "value": value})
    ctx = {
        "form": form,
        "what": what,
        "filters": filters,
        "shown_filters": shown,
        "count": selectors.export_count(user, what, filters),
        "cap": selectors.EXPORT_CAP,
        "back_url": list_url + ("?" + urlencode(filters) if filters else ""),
        "action_url": reverse("sales:order_export" if what == "orders" else "sales:invoice_export"),
        "nav_active": what,
    }
    return render(request, "sales/export.html", ctx)


@login_required
def order_export(request):
    return _export(request, "orders")


@login_required
def invoice_export(request):
    return _export(request, "invoices")


# --- products and categories -----------------------------------------------------------------------

PRODUCT_COLUMNS = [
    ("code", gettext_lazy("Code"), ""),
    ("name", gettext_lazy("Name"), ""),
    ("category", gettext_lazy("Category"), ""),
    ("list_price", gettext_lazy("List price"), "num"),
    ("unit_cost", gettext_lazy("Unit cost"), "num"),
]


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def product_list(request):
    user = request.user
    g = request.GET
    page = selectors.product_list(
        user,
        q=g.get("q", ""),
        category=g.get("category"),
        active=g.get("active"),
        sort=g.get("sort", "name"),
        limit=g.get("limit", 50),
        offset=g.get("offset", 0),
    )
    cats = selectors.categories(user)
    any_ = _("Any")
    fields = [
        {
            "name": "category",
            "label": _("Category"),
            "kind": "select",
            "value": g.get("category", ""),
            "options": [("", any_), *[(str(c.pk), str(c)) for c in cats]],
        },
        {
            "name": "active",
            "label": _("On sale"),
            "kind": "select",
            "value": g.get("active", ""),
            "options": [("", any_), ("1", _("Yes")), ("0", _("No"))],
        },
    ]
    ctx = {
        "page": page,
        "q": g.get("q", "").strip(),
        "filter_fields": fields,
        "chips": _chips(request, fields),
        "columns": PRODUCT_COLUMNS,
        "sort_param": ("-" if page.descending else "") + page.sort,
        "can_edit": selectors.can_edit_catalogue(user),
        "nav_active": "products",
        **_pager(page),
    }
    template = "sales/products.html"
    if _is_htmx(request):
        target = request.headers.get("HX-Target")
        template = (
            "sales/_product_results.html" if target == "product-results" else "sales/_product_panel.html"
        )
    return render(request, template, ctx)


@login_required
def product_detail(request, pk: int):
    user = request.user
    product = _or_404(selectors.get_product, user, pk)
    months = selectors.product_months(user, product.pk)
    bars = []
    if months:
        top = max([abs(m.revenue) for m in months] + [1])
        for i, m in enumerate(months):
            h = int(abs(m.revenue) * 150 / top)
            bars.append({"m": m, "x": 8 + i * 26, "h": h, "y": 160 - h, "negative": m.revenue < 0})
    totals = None
    if months:
        totals = {
            "quantity": sum(m.quantity for m in months),
            "revenue": sum(m.revenue for m in months),
            "cost": sum(m.cost for m in months),
            "lines": sum(m.lines for m in months),
        }
        totals["profit"] = totals["revenue"] - totals["cost"]
    ctx = {
        "product": product,
        "months": list(reversed(months)) if months else months,
        "bars": bars,
        "totals": totals,
        "can_edit": selectors.can_edit_catalogue(user),
        "can_see_orders": not selectors.orders(user)[0].query.is_empty(),
        "nav_active": "products",
    }
    return render(request, "sales/product_detail.html", ctx)


def _product_form_page(request, product=None):
    user = request.user
    if not selectors.can_edit_catalogue(user):
        raise PermissionDenied
    cats = selectors.categories(user)
    if request.method == "POST":
        form = ProductForm(request.POST, categories=cats)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if product is None:
                    product = services.create_product(actor=user, data=data)
                else:
                    product = services.update_product(actor=user, product_id=product.pk, data=data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            except NotFound:
                raise Http404()
            else:
                messages.success(request, _("Product “%(name)s” saved.") % {"name": product.name})
                return redirect("sales:product_detail", product.pk)
    elif product is not None:
        form = ProductForm(
            initial={
                "name": product.name,
                "code": product.code or "",
                "category": product.category_id or "",
                "unit": product.unit,
                "list_price": product.list_price,
                "unit_cost": product.unit_cost,
                "active": product.active,
            },
            categories=cats,
        )
    else:
        form = ProductForm(
            initial={"active": True, "category": request.GET.get("category", "")}, categories=cats
        )
    return render(
        request, "sales/product_form.html", {"form": form, "product": product, "nav_active": "products"}
    )


@login_required
def product_create(request):
    return _product_form_page(request)


@login_required
def product_edit(request, pk: int):
    product = _or_404(selectors.get_product, request.user, pk)
    return _product_form_page(request, product)


@login_required
def category_list(request):
    user = request.user
    cats = selectors.categories(user)
    can_edit = selectors.can_edit_catalogue(user)
    form = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = CategoryForm(request.POST, categories=cats)
        if form.is_valid():
            try:
                cat = services.create_category(
                    actor=user, name=form.cleaned_data["name"], parent_id=form.cleaned_data["parent"] or None
                )
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Category “%(name)s” created.") % {"name": cat.name})
                return redirect("sales:categories")
    elif can_edit:
        form = CategoryForm(categories=cats)
    ctx = {"categories": cats, "form": form, "can_edit": can_edit, "nav_active": "products"}
    return render(request, "sales/categories.html", ctx)


# --- invoices and payments -------------------------------------------------------------------------

INVOICE_COLUMNS = [
    ("number", gettext_lazy("Invoice"), ""),
    ("customer", gettext_lazy("Customer"), ""),
    ("issue_date", gettext_lazy("Issued on"), ""),
    ("due_date", gettext_lazy("Due on"), ""),
    ("amount", gettext_lazy("Amount"), "num"),
    ("outstanding", gettext_lazy("Outstanding"), "num"),
]


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def invoice_list(request):
    user = request.user
    g = request.GET
    filters = {k: g[k].strip() for k in selectors.INVOICE_FILTERS if g.get(k, "").strip()}
    page = selectors.invoice_list(
        user,
        filters=filters,
        sort=g.get("sort", "-issue_date"),
        limit=g.get("limit", 50),
        offset=g.get("offset", 0),
    )
    any_ = _("Any")
    fields = [
        {
            "name": "state",
            "label": _("State"),
            "kind": "select",
            "value": filters.get("state", ""),
            "options": [("", any_), *[(v, str(lbl)) for v, lbl in InvoiceState.choices]],
        },
        {"name": "overdue", "label": _("Overdue only"), "kind": "check", "value": filters.get("overdue", "")},
    ]
    chip_fields = _with_customer_chip(user, fields, filters)
    export_query = urlencode(filters)
    ctx = {
        "page": page,
        "q": filters.get("q", ""),
        "filters": filters,
        "filter_fields": fields,
        "chips": _chips(request, chip_fields),
        "totals": selectors.invoice_totals(user, filters=filters),
        "columns": INVOICE_COLUMNS,
        "sort_param": ("-" if page.descending else "") + page.sort,
        "today": timezone.localdate(),
        "can_create": _may_sell(user),
        "can_export": selectors.can_export_invoices(user),
        "export_url": reverse("sales:invoice_export") + ("?" + export_query if export_query else ""),
        "nav_active": "invoices",
        **_pager(page),
    }
    template = "sales/invoices.html"
    if _is_htmx(request):
        target = request.headers.get("HX-Target")
        template = (
            "sales/_invoice_results.html" if target == "invoice-results" else "sales/_invoice_panel.html"
        )
    return render(request, template, ctx)


@login_required
def invoice_create(request):
    user = request.user
    src = request.POST if request.method == "POST" else request.GET
    if not src.get("customer"):
        if not _may_sell(user):
            raise PermissionDenied
        q, found = _pick_customer(request, user)
        ctx = {"q": q, "found": found, "what": "invoice", "nav_active": "invoices"}
        template = "sales/_customer_pick.html" if _is_htmx(request) else "sales/customer_pick.html"
        return render(request, template, ctx)
    customer = _or_404(selectors.customer_for_change, user, src.get("customer"))
    orders = selectors.uninvoiced_orders(user, customer.pk)
    if request.method == "POST":
        form = InvoiceForm(request.POST, orders=orders)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
            try:
                invoice = services.create_invoice(actor=user, customer_id=customer.pk, data=data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            except NotFound:
                raise Http404()
            else:
                messages.success(request, _("Invoice %(number)s saved.") % {"number": invoice.number})
                return redirect("sales:invoice_detail", invoice.pk)
    else:
        today = timezone.localdate()
        initial = {"issue_date": today, "due_date": today + datetime.timedelta(days=30)}
        chosen = next((o for o in orders if str(o.pk) == src.get("order")), None)
        if chosen is not None:
            initial.update(order=str(chosen.pk), amount=chosen.amount)
        form = InvoiceForm(initial=initial, orders=orders)
    ctx = {"customer": customer, "form": form, "nav_active": "invoices"}
    return render(request, "sales/invoice_form.html", ctx)


def _invoice_page(request, invoice, payment_form=None, status: int = 200):
    user = request.user
    can_change = selectors.can_change(user, invoice)
    if payment_form is None and can_change and invoice.state == InvoiceState.OPEN:
        payment_form = PaymentForm(initial={"paid_on": timezone.localdate(), "amount": invoice.outstanding})
    ctx = {
        "invoice": invoice,
        "payments": selectors.payments_of(user, invoice.pk),
        "can_change": can_change,
        "payment_form": payment_form if invoice.state == InvoiceState.OPEN else None,
        "methods": [str(m) for m in PAYMENT_METHODS],
        "overdue": invoice.is_overdue(),
        "overdue_days": (timezone.localdate() - invoice.due_date).days,
        "today": timezone.localdate(),
        "nav_active": "invoices",
    }
    return render(request, "sales/invoice_detail.html", ctx, status=status)


@login_required
def invoice_detail(request, pk: int):
    invoice = _or_404(selectors.get_invoice, request.user, pk)
    return _invoice_page(request, invoice)


@login_required
@require_POST
def payment_create(request, pk: int):
    user = request.user
    invoice = _or_404(selectors.get_invoice, user, pk)
    if not selectors.can_change(user, invoice):
        raise PermissionDenied
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
        try:
            services.record_payment(actor=user, invoice_id=invoice.pk, data=data)
        except ValidationFailed as e:
            apply_errors(form, e)
        except Forbidden:
            raise PermissionDenied
        except NotFound:
            raise Http404()
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("sales:invoice_detail", invoice.pk)
    return _invoice_page(request, invoice, payment_form=form)


@login_required
@require_POST
def invoice_void(request, pk: int):
    user = request.user
    invoice = _or_404(selectors.get_invoice, user, pk)
    try:
        services.void_invoice(actor=user, invoice_id=invoice.pk)
    except Forbidden:
        raise PermissionDenied
    except NotFound:
        raise Http404()
    except ValidationFailed as e:
        messages.error(request, " ".join(m for ms in e.errors.values() for m in ms))
    else:
        messages.success(request, _("Invoice %(number)s is void.") % {"number": invoice.number})
    return redirect("sales:invoice_detail", invoice.pk)


# --- the card's section ----------------------------------------------------------------------------


@login_required
def customer_sales(request, pk: int):
    """The sales and collections section of a customer's card (loaded by htmx from
    customers/detail.html): 404 outside the scope, 403 without ``view_finance``."""
    user = request.user
    ov = _or_404(selectors.purchase_overview, user, pk)
    ctx = {
        "ov": ov,
        "customer": ov.customer,
        "can_change": selectors.can_change(user, ov.customer),
        "today": ov.as_of,
    }
    return render(request, "sales/_customer_sales.html", ctx)
