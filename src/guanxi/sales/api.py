"""REST endpoints of products, orders, invoices, payments and a customer's purchase figures
(/api/v1/). Thin: parse, call a service or selector, answer. Lists are ``{"items", "count"}`` with
``limit``/``offset``; bad input answers 422 with the field names the services use
(``lines.0.amount``); a record outside the caller's scope answers 404."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from . import selectors, services

router = Router(tags=["sales"])


# --- schemas ---------------------------------------------------------------------------------------


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None


class CategoryIn(Schema):
    name: str
    parent_id: int | None = None


class ProductOut(Schema):
    id: int
    code: str | None
    name: str
    category_id: int | None
    category_name: str | None = None
    unit: str
    list_price: Decimal | None
    unit_cost: Decimal | None
    active: bool
    created_at: datetime.datetime

    @staticmethod
    def resolve_category_name(obj) -> str | None:
        return obj.category.name if obj.category_id else None


class ProductPage(Schema):
    items: list[ProductOut]
    count: int


class ProductPatch(Schema):
    code: str | None = None
    name: str | None = None
    category: int | str | None = Field(None, description="Category id or name; null for none")
    unit: str | None = None
    list_price: Decimal | None = None
    unit_cost: Decimal | None = None
    active: bool | None = None


class ProductIn(ProductPatch):
    name: str


class LineIn(Schema):
    product: int | str | None = Field(None, description="Product id, code or name")
    quantity: Decimal | None = Field(None, description="Default 1")
    unit_price: Decimal | None = Field(None, description="Default: the product's list price")
    amount: Decimal | None = Field(None, description="Default: unit price × quantity; negative for a return")
    cost: Decimal | None = Field(None, description="Default: the product's unit cost × quantity")
    gift: str = ""


class OrderIn(Schema):
    customer_id: int
    number: str | None = None
    order_date: datetime.date | None = Field(None, description="Default: today")
    channel: str = ""
    delivery_state: str | None = Field(None, description="Default: delivered")
    note: str = ""
    lines: list[LineIn]


class OrderPatch(Schema):
    delivery_state: str


class LineOut(Schema):
    id: int
    product_id: int | None
    product_name: str | None = None
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    cost: Decimal | None
    gift: str

    @staticmethod
    def resolve_product_name(obj) -> str | None:
        return obj.product.name if obj.product_id else None


class OrderItem(Schema):
    id: int
    number: str | None
    customer_id: int
    customer_name: str = Field(..., alias="customer.name")
    order_date: datetime.date
    channel: str
    delivery_state: str
    amount: Decimal
    cost: Decimal | None
    note: str
    batch_id: int | None
    created_by_id: int | None
    created_at: datetime.datetime


class OrderOut(OrderItem):
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.select_related("product").order_by("id"))


class OrderPage(Schema):
    items: list[OrderItem]
    count: int
    count_exact: bool = True


class OrderFilters(Schema):
    q: str | None = None
    customer: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    channel: str | None = None
    delivery_state: str | None = None
    product: int | None = None
    returns: bool | None = None


class InvoiceIn(Schema):
    customer_id: int
    number: str
    order_id: int | None = None
    issue_date: datetime.date
    due_date: datetime.date
    amount: Decimal


class InvoiceOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str = Field(..., alias="customer.name")
    order_id: int | None
    issue_date: datetime.date
    due_date: datetime.date
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    state: str
    overdue: bool
    created_at: datetime.datetime

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.is_overdue()


class InvoicePage(Schema):
    items: list[InvoiceOut]
    count: int
    count_exact: bool = True


class InvoiceFilters(Schema):
    q: str | None = None
    customer: int | None = None
    order: int | None = None
    state: str | None = None
    overdue: bool | None = None


class PaymentIn(Schema):
    paid_on: datetime.date | None = Field(None, description="Default: today")
    amount: Decimal
    method: str = ""
    reference: str = ""


class PaymentOut(Schema):
    id: int
    invoice_id: int
    paid_on: datetime.date
    amount: Decimal
    method: str
    reference: str
    created_at: datetime.datetime


class MonthOut(Schema):
    month: datetime.date
    revenue: Decimal


class PurchasesOut(Schema):
    customer_id: int
    first_purchase: datetime.date | None
    last_purchase: datetime.date | None
    purchase_days: int
    orders: int
    gross: Decimal
    returns: Decimal
    revenue: Decimal
    cost: Decimal
    profit: Decimal
    revenue_this_year: Decimal
    revenue_12m: Decimal
    revenue_prev_12m: Decimal
    invoiced_12m: Decimal
    collected_12m: Decimal
    outstanding: Decimal
    overdue: Decimal
    overdue_invoices: int
    oldest_overdue_days: int | None
    open_orders: Decimal
    exposure: Decimal
    credit_limit: Decimal | None
    over_limit: bool
    months: list[MonthOut]


# --- the catalogue ---------------------------------------------------------------------------------


@router.get("/product-categories", response=list[CategoryOut])
def list_categories(request: HttpRequest):
    return selectors.categories(request.auth)


@router.post("/product-categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn):
    """Administrators only."""
    return Status(
        201, services.create_category(actor=request.auth, name=payload.name, parent_id=payload.parent_id)
    )


@router.get("/products", response=ProductPage)
def list_products(
    request: HttpRequest,
    q: str = "",
    category: int | None = None,
    active: bool | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
):
    page = selectors.product_list(
        request.auth, q=q, category=category, active=active, sort=sort, limit=limit, offset=offset
    )
    return {"items": page.items, "count": page.count}


@router.post("/products", response={201: ProductOut})
def create_product(request: HttpRequest, payload: ProductIn):
    """Administrators only."""
    product = services.create_product(actor=request.auth, data=payload.dict(exclude_unset=True))
    return Status(201, selectors.get_product(request.auth, product.pk))


@router.get("/products/{product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: int):
    return selectors.get_product(request.auth, product_id)


@router.patch("/products/{product_id}", response=ProductOut)
def patch_product(request: HttpRequest, product_id: int, payload: ProductPatch):
    """Administrators only; the fields sent are changed."""
    selectors.get_product(request.auth, product_id)
    services.update_product(actor=request.auth, product_id=product_id, data=payload.dict(exclude_unset=True))
    return selectors.get_product(request.auth, product_id)


# --- orders ----------------------------------------------------------------------------------------


@router.get("/orders", response=OrderPage)
def list_orders(
    request: HttpRequest,
    filters: Query[OrderFilters],
    sort: str = "-order_date",
    limit: int = 50,
    offset: int = 0,
):
    """Orders of the customers whose sales the caller may see. `returns=true`: negative amounts
    only; `sort` is order_date, number, customer, amount, channel or delivery_state (`-` for
    descending)."""
    f = filters.dict(exclude_none=True)
    page = selectors.order_list(request.auth, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": page.items, "count": page.count, "count_exact": page.count_exact}


@router.post("/orders", response={201: OrderOut})
def create_order(request: HttpRequest, payload: OrderIn):
    """An order with its lines. A customer's first purchase creates a welcome-gift task for its
    account manager (C7)."""
    data = payload.dict(exclude_unset=True)
    customer_id = data.pop("customer_id")
    data["lines"] = [dict(ln) for ln in data.get("lines", [])]
    order = services.create_order(actor=request.auth, customer_id=customer_id, data=data)
    return Status(201, selectors.get_order(request.auth, order.pk))


@router.get("/orders/{order_id}", response=OrderOut)
def get_order(request: HttpRequest, order_id: int):
    return selectors.get_order(request.auth, order_id)


@router.patch("/orders/{order_id}", response=OrderOut)
def patch_order(request: HttpRequest, order_id: int, payload: OrderPatch):
    """Change the delivery state (the lines of a recorded order are not edited: delete and record
    it again)."""
    selectors.get_order(request.auth, order_id)
    services.set_delivery_state(actor=request.auth, order_id=order_id, state=payload.delivery_state)
    return selectors.get_order(request.auth, order_id)


@router.delete("/orders/{order_id}", response={204: None})
def delete_order(request: HttpRequest, order_id: int):
    selectors.get_order(request.auth, order_id)
    services.delete_order(actor=request.auth, order_id=order_id)
    return Status(204, None)


# --- invoices and payments -------------------------------------------------------------------------


@router.get("/invoices", response=InvoicePage)
def list_invoices(
    request: HttpRequest,
    filters: Query[InvoiceFilters],
    sort: str = "-issue_date",
    limit: int = 50,
    offset: int = 0,
):
    """`state` open / paid / void; `overdue=true`: open and past the due date as of today."""
    f = filters.dict(exclude_none=True)
    page = selectors.invoice_list(request.auth, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": page.items, "count": page.count, "count_exact": page.count_exact}


@router.post("/invoices", response={201: InvoiceOut})
def create_invoice(request: HttpRequest, payload: InvoiceIn):
    data = payload.dict(exclude_unset=True)
    customer_id = data.pop("customer_id")
    if "order_id" in data:
        data["order"] = data.pop("order_id")
    invoice = services.create_invoice(actor=request.auth, customer_id=customer_id, data=data)
    return Status(201, selectors.get_invoice(request.auth, invoice.pk))


@router.get("/invoices/{invoice_id}", response=InvoiceOut)
def get_invoice(request: HttpRequest, invoice_id: int):
    return selectors.get_invoice(request.auth, invoice_id)


@router.post("/invoices/{invoice_id}/payments", response={201: PaymentOut})
def record_payment(request: HttpRequest, invoice_id: int, payload: PaymentIn):
    """Money received against the invoice; the invoice is paid when the payments reach its amount."""
    selectors.get_invoice(request.auth, invoice_id)
    payment = services.record_payment(
        actor=request.auth, invoice_id=invoice_id, data=payload.dict(exclude_unset=True)
    )
    return Status(201, payment)


@router.post("/invoices/{invoice_id}/void", response=InvoiceOut)
def void_invoice(request: HttpRequest, invoice_id: int):
    """An invoice without payments can be voided."""
    selectors.get_invoice(request.auth, invoice_id)
    services.void_invoice(actor=request.auth, invoice_id=invoice_id)
    return selectors.get_invoice(request.auth, invoice_id)


# --- a customer's purchase figures -----------------------------------------------------------------


@router.get("/customers/{customer_id}/purchases", response=PurchasesOut)
def customer_purchases(request: HttpRequest, customer_id: int):
    """The customer's purchase summary, revenue this year and in the last 12 months, sales against
    collections, receivables and credit (403 for callers without access to the customer's finance)."""
    ov = selectors.purchase_overview(request.auth, customer_id)
    return {
        "customer_id": ov.customer.pk,
        "first_purchase": ov.first_purchase,
        "last_purchase": ov.last_purchase,
        "purchase_days": ov.purchase_days,
        "orders": ov.orders,
        "gross": ov.gross,
        "returns": ov.returns,
        "revenue": ov.revenue,
        "cost": ov.cost,
        "profit": ov.profit,
        "revenue_this_year": ov.revenue_this_year,
        "revenue_12m": ov.revenue_12m,
        "revenue_prev_12m": ov.revenue_prev_12m,
        "invoiced_12m": ov.invoiced_12m,
        "collected_12m": ov.collected_12m,
        "outstanding": ov.outstanding,
        "overdue": ov.overdue,
        "overdue_invoices": ov.overdue_invoices,
        "oldest_overdue_days": ov.oldest_overdue_days,
        "open_orders": ov.open_orders,
        "exposure": ov.exposure,
        "credit_limit": ov.credit_limit,
        "over_limit": ov.over_limit,
        "months": [{"month": m, "revenue": v} for m, v in ov.months],
    }
