"""REST endpoints for customers, contacts, their audit trail and reasons owed (thin: parse, call
a service or selector, answer)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, ModelSchema, Query, Router, Schema, Status

from guanxi.core.errors import ValidationFailed

from . import selectors, services
from .models import Contact, Customer, RevenueReasonRequest

router = Router()


# --- schemas --------------------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    username: str
    name: str = Field(..., alias="display")

    @staticmethod
    def resolve_display(obj) -> str:
        return str(obj)


class CustomerOut(ModelSchema):
    owner: UserRef
    account_team: list[int]
    tags: list[str]
    missing_fields: list[str]
    completeness: int
    # null for callers without access to the customer's finance (service agents)
    credit_limit: Decimal | None = None
    payment_terms: str | None = None
    finance_visible: bool = True

    class Meta:
        model = Customer
        fields = "__all__"

    @staticmethod
    def _finance(obj, context) -> bool:
        request = (context or {}).get("request")
        user = getattr(request, "auth", None) or getattr(request, "user", None)
        return obj.pk in selectors.finance_access(user, [obj.pk])

    @staticmethod
    def resolve_credit_limit(obj, context) -> Decimal | None:
        return obj.credit_limit if CustomerOut._finance(obj, context) else None

    @staticmethod
    def resolve_payment_terms(obj, context) -> str | None:
        return obj.payment_terms if CustomerOut._finance(obj, context) else None

    @staticmethod
    def resolve_finance_visible(obj, context) -> bool:
        return CustomerOut._finance(obj, context)

    @staticmethod
    def resolve_account_team(obj) -> list[int]:
        return [u.pk for u in obj.account_team.all()]

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [t.name for t in obj.tags.all()]

    @staticmethod
    def resolve_missing_fields(obj) -> list[str]:
        return services.missing_required(obj)

    @staticmethod
    def resolve_completeness(obj) -> int:
        return services.profile_completeness(obj)


class CustomerListItem(Schema):
    id: int
    name: str
    short_name: str
    credit_code: str | None
    kind: str
    industry: str
    province: str
    city: str
    owner_id: int
    team_id: int | None
    department_id: int | None
    lifecycle_stage: str
    value_level: str
    maintenance_tier: str
    strategic_type: str
    abc_class: str
    is_key_account: bool
    annual_revenue: Decimal | None
    phone: str
    updated_at: datetime.datetime
    version: int


class CustomerPage(Schema):
    items: list[CustomerListItem]
    count: int
    count_exact: bool = Field(
        True, description="false when counting every match would take too long: `count` is then a lower bound"
    )


class CustomerIn(ModelSchema):
    owner: int | None = None
    account_team: list[int] | None = None
    tags: list[str] | None = None
    reason: str = ""

    class Meta:
        model = Customer
        fields = [f for f in services.CUSTOMER_FIELDS if f != "owner"]
        fields_optional = "__all__"


class CustomerCreate(CustomerIn):
    name: str


class CustomerPatch(CustomerIn):
    version: int


class CustomerFilters(Schema):
    kind: str | None = None
    owner: int | None = None
    team: int | None = None
    department: int | None = None
    industry: str | None = None
    province: str | None = None
    city: str | None = None
    lifecycle_stage: str | None = None
    value_level: str | None = None
    value_tier: str | None = None
    maintenance_tier: str | None = None
    deal_state: str | None = None
    importance: str | None = None
    abc_class: str | None = None
    prospect_grade: str | None = None
    need_type: str | None = None
    strategic_type: str | None = None
    urgency: str | None = None
    membership_level: str | None = None
    need_match: str | None = None
    acquisition_channel: str | None = None
    is_key_account: bool | None = None
    tag: str | None = None


class ChangeOut(Schema):
    field: str
    label: str
    old: Any
    new: Any


class HistoryOut(Schema):
    id: int
    model: str
    object_id: int
    object_name: str
    when: datetime.datetime
    who: str | None
    who_id: int | None
    type: str
    reason: str | None
    changes: list[ChangeOut]


class HistoryPage(Schema):
    items: list[HistoryOut]
    count: int


class ClassificationChangeOut(Schema):
    field: str
    old_value: str
    new_value: str
    changed_by_id: int | None
    changed_at: datetime.datetime
    reason: str


class ContactOut(ModelSchema):
    personal_visible: bool = True
    birthday_leap_month: bool | None = None  # null when the personal fields are hidden

    class Meta:
        model = Contact
        fields = "__all__"


class ContactPage(Schema):
    items: list[ContactOut]
    count: int
    count_exact: bool = True


class ContactIn(ModelSchema):
    class Meta:
        model = Contact
        fields = services.CONTACT_FIELDS
        fields_optional = "__all__"


class ContactCreate(ContactIn):
    customer: int
    name: str


class ContactPatch(ContactIn):
    version: int


class RevenueIn(Schema):
    period: str = Field(..., description="The month, YYYY-MM")
    revenue: Decimal


class RevenueOut(Schema):
    customer_id: int
    period_start: datetime.date
    revenue: Decimal
    reason_owed: bool


class ReasonOut(ModelSchema):
    customer_name: str
    is_open: bool

    class Meta:
        model = RevenueReasonRequest
        fields = "__all__"

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class ReasonPage(Schema):
    items: list[ReasonOut]
    count: int


class ExplainIn(Schema):
    reason: str


# --- helpers --------------------------------------------------------------------------------------


def _contact_out(user, contact: Contact, allowed: set[int] | None = None) -> dict[str, Any]:
    if allowed is None:
        allowed = selectors.personal_access(user, [contact.customer_id])
    data = {f.name: getattr(contact, f.attname) for f in Contact._meta.concrete_fields}
    data["customer"] = data["customer_id"] = contact.customer_id
    visible = contact.customer_id in allowed
    if not visible:
        for f in Contact.PERSONAL_FIELDS:
            data[f] = None
    data["personal_visible"] = visible
    return data


# --- customers ------------------------------------------------------------------------------------


@router.get("/customers", response=CustomerPage, tags=["customers"])
def list_customers(
    request: HttpRequest,
    filters: Query[CustomerFilters],
    q: str = "",
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
):
    """Customers in the caller's scope; `q` searches name parts, pinyin (full or initials), phone,
    email and credit code; `sort` is a column name, `-` in front for descending."""
    page = selectors.customer_list(
        request.auth, q=q, filters=filters.dict(exclude_none=True), sort=sort, limit=limit, offset=offset
    )
    return {"items": page.items, "count": page.count, "count_exact": page.count_exact}


@router.post("/customers", response={201: CustomerOut}, tags=["customers"])
def create_customer(request: HttpRequest, payload: CustomerCreate):
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    customer = services.create_customer(actor=request.auth, data=data, reason=reason)
    return Status(201, customer)


@router.get("/customers/{customer_id}", response=CustomerOut, tags=["customers"])
def get_customer(request: HttpRequest, customer_id: int):
    return selectors.get_customer(request.auth, customer_id)


def _patch(request, customer_id: int, payload: CustomerPatch):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    reason = data.pop("reason", "")
    return services.update_customer(
        actor=request.auth, customer_id=customer_id, version=version, data=data, reason=reason
    )


@router.patch("/customers/{customer_id}", response=CustomerOut, tags=["customers"])
def patch_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch):
    """Change the fields sent. `version` must be the one read; a stale one answers 409."""
    return _patch(request, customer_id, payload)


@router.put("/customers/{customer_id}", response=CustomerOut, tags=["customers"])
def put_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch):
    """Same rule as PATCH: the fields sent replace the stored ones; `version` is required."""
    if not payload.name:
        raise ValidationFailed.one("name", _("This field is required."))
    return _patch(request, customer_id, payload)


@router.delete("/customers/{customer_id}", response={204: None}, tags=["customers"])
def delete_customer(request: HttpRequest, customer_id: int, version: int | None = None, reason: str = ""):
    services.delete_customer(actor=request.auth, customer_id=customer_id, version=version, reason=reason)
    return Status(204, None)


@router.get("/customers/{customer_id}/history", response=HistoryPage, tags=["customers"])
def customer_history(request: HttpRequest, customer_id: int, include_contacts: bool = False,
                     limit: int = 100, offset: int = 0):  # fmt: skip
    """The audit trail: who changed what and when, each field's old and new value, newest first."""
    entries = selectors.customer_history(request.auth, customer_id, include_contacts=include_contacts)
    return {"items": entries[offset : offset + limit], "count": len(entries)}


@router.get(
    "/customers/{customer_id}/classification-history",
    response=list[ClassificationChangeOut],
    tags=["customers"],
)
def classification_history(request: HttpRequest, customer_id: int):
    return selectors.classification_history(request.auth, customer_id)


@router.get("/customers/{customer_id}/contacts", response=ContactPage, tags=["contacts"])
def customer_contacts(request: HttpRequest, customer_id: int):
    contacts = selectors.contacts_of(request.auth, customer_id)
    allowed = selectors.personal_access(request.auth, [customer_id])
    return {"items": [_contact_out(request.auth, c, allowed) for c in contacts], "count": len(contacts)}


@router.post("/customers/{customer_id}/revenue", response=RevenueOut, tags=["customers"])
def set_revenue(request: HttpRequest, customer_id: int, payload: RevenueIn):
    """Set the customer's revenue for a month; a significant change asks the owner for a reason."""
    fig = services.record_revenue(
        actor=request.auth, customer_id=customer_id, period_start=payload.period, revenue=payload.revenue
    )
    owed = RevenueReasonRequest.objects.filter(
        customer_id=customer_id, period_start=fig.period_start, explained_at__isnull=True
    ).exists()
    return {
        "customer_id": customer_id,
        "period_start": fig.period_start,
        "revenue": fig.revenue,
        "reason_owed": owed,
    }


# --- contacts -------------------------------------------------------------------------------------


@router.get("/contacts", response=ContactPage, tags=["contacts"])
def list_contacts(request: HttpRequest, q: str = "", customer: int | None = None, limit: int = 50,
                  offset: int = 0):  # fmt: skip
    page = selectors.contact_list(request.auth, q=q, customer_id=customer, limit=limit, offset=offset)
    allowed = selectors.personal_access(request.auth, {c.customer_id for c in page.items})
    items = [_contact_out(request.auth, c, allowed) for c in page.items]
    return {"items": items, "count": page.count, "count_exact": page.count_exact}


@router.post("/contacts", response={201: ContactOut}, tags=["contacts"])
def create_contact(request: HttpRequest, payload: ContactCreate):
    data = payload.dict(exclude_unset=True)
    customer_id = data.pop("customer")
    contact = services.create_contact(actor=request.auth, customer_id=customer_id, data=data)
    return Status(201, _contact_out(request.auth, contact))


@router.get("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def get_contact(request: HttpRequest, contact_id: int):
    return _contact_out(request.auth, selectors.get_contact(request.auth, contact_id))


@router.patch("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def patch_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    contact = services.update_contact(actor=request.auth, contact_id=contact_id, version=version, data=data)
    return _contact_out(request.auth, contact)


@router.put("/contacts/{contact_id}", response=ContactOut, tags=["contacts"])
def put_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    return patch_contact(request, contact_id, payload)


@router.delete("/contacts/{contact_id}", response={204: None}, tags=["contacts"])
def delete_contact(request: HttpRequest, contact_id: int, version: int | None = None):
    services.delete_contact(actor=request.auth, contact_id=contact_id, version=version)
    return Status(204, None)


@router.get("/contacts/{contact_id}/history", response=HistoryPage, tags=["contacts"])
def contact_history(request: HttpRequest, contact_id: int, limit: int = 100, offset: int = 0):
    entries = selectors.contact_history(request.auth, contact_id)
    return {"items": entries[offset : offset + limit], "count": len(entries)}


# --- audit and reasons owed -----------------------------------------------------------------------


@router.get("/audit", response=HistoryPage, tags=["audit"])
def audit(request: HttpRequest, model: str = "", who: int | None = None, since: datetime.date | None = None,
          until: datetime.date | None = None, customer: int | None = None, limit: int = 100,
          offset: int = 0):  # fmt: skip
    """Every change of customers and contacts (auditors and administrators). `count` is a lower
    bound: it exceeds offset + len(items) when there is more."""
    page = selectors.audit_log(
        request.auth, model=model, who=who, since=since, until=until, customer_id=customer,
        limit=min(limit, 500), offset=offset,
    )  # fmt: skip
    return {"items": page.items, "count": page.count, "count_exact": page.count_exact}


@router.get("/reasons-owed", response=ReasonPage, tags=["customers"])
def reasons_owed(request: HttpRequest, mine: bool = False, include_explained: bool = False, limit: int = 50,
                 offset: int = 0):  # fmt: skip
    qs = selectors.reasons_owed(request.auth, only_mine=mine, include_explained=include_explained)
    return {"items": list(qs[offset : offset + limit]), "count": qs.count()}


@router.post("/reasons-owed/{request_id}/explain", response=ReasonOut, tags=["customers"])
def explain(request: HttpRequest, request_id: int, payload: ExplainIn):
    req = services.explain_revenue_change(actor=request.auth, request_id=request_id, reason=payload.reason)
    return selectors.get_reason_request(request.auth, req.pk)
