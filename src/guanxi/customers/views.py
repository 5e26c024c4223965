"""Web pages of customers, contacts, classification and the audit trail (C1–C3, C16).

Thin: parse the request, call a selector (read) or a service (write), render. Out-of-scope records
answer 404 (selectors raise NotFound); visible records the user may not change answer 403.
"""

from __future__ import annotations

import datetime
import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from guanxi.core import services as core_services
from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.org import selectors as org_selectors
from guanxi.org.models import Role

from . import choices as c
from . import selectors, services
from .forms import (
    AuditFilterForm,
    ContactForm,
    CustomerForm,
    ExplainForm,
    ExportForm,
    RevenueForm,
    SettingsForm,
    apply_errors,
)
from .models import Customer

# --- helpers --------------------------------------------------------------------------------------


def _or_404(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotFound:
        raise Http404()


def _int(value: Any, default: int, *, low: int = 0, high: int | None = None) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    n = max(low, n)
    return min(n, high) if high is not None else n


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _next_url(request, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _display(obj, name: str) -> Any:
    """A field's value as people read it (choices by label, booleans as yes/no)."""
    field = type(obj)._meta.get_field(name)
    value = getattr(obj, name)
    if field.choices and value not in (None, ""):
        return getattr(obj, f"get_{name}_display")()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


def _facts(obj, names: list[str], wide: set[str] = frozenset()) -> list[dict[str, Any]]:
    return [
        {"name": n, "label": _label(type(obj), n), "value": v, "wide": n in wide and v not in (None, "")}
        for n, v in ((n, _display(obj, n)) for n in names)
    ]


NAME_FIELDS = {"owner": "user", "department": "department", "team": "team"}
HIDDEN_CHANGES = {"customer", "created_at"}


def _readable_history(entries) -> list:
    """Replace the ids the audit trail stores for users, departments and teams by their names."""
    wanted: dict[str, set] = {}
    for e in entries:
        e.changes = [ch for ch in e.changes if ch.field not in HIDDEN_CHANGES]
        for ch in e.changes:
            kind = NAME_FIELDS.get(ch.field)
            if kind:
                wanted.setdefault(kind, set()).update(v for v in (ch.old, ch.new) if v not in (None, ""))
    names = {kind: org_selectors.names_of(kind, ids) for kind, ids in wanted.items()}
    for e in entries:
        for ch in e.changes:
            kind = NAME_FIELDS.get(ch.field)
            if kind:
                ch.old = names[kind].get(ch.old, ch.old) if ch.old not in (None, "") else ch.old
                ch.new = names[kind].get(ch.new, ch.new) if ch.new not in (None, "") else ch.new
    return entries


def _can_create(user) -> bool:
    return bool(user.is_admin or user.role in (Role.MANAGER, Role.ACCOUNT_MANAGER))


def _can_hand_over(user) -> bool:
    return bool(user.is_admin or user.role == Role.MANAGER)


def _form_page(request, template: str, ctx: dict[str, Any], status: int = 200):
    required, key_account = selectors.required_customer_fields()
    ctx = {"required_names": set(required), "key_account_names": set(key_account),
           "conflict": None, **ctx}  # fmt: skip
    return render(request, template, ctx, status=status)


# --- the list -------------------------------------------------------------------------------------

LIMITS = (25, 50, 100, 200)
COLUMNS = [
    ("name", gettext_lazy("Name"), ""),
    ("region", gettext_lazy("Region"), ""),
    ("industry", gettext_lazy("Industry"), ""),
    ("owner", gettext_lazy("Account manager"), ""),
    ("lifecycle_stage", gettext_lazy("Lifecycle"), ""),
    ("value_level", gettext_lazy("Value level"), ""),
    ("maintenance_tier", gettext_lazy("Maintenance tier"), ""),
    ("strategic_type", gettext_lazy("Strategic type"), ""),
    ("abc_class", gettext_lazy("ABC"), ""),
    ("annual_revenue", gettext_lazy("Annual revenue"), "num"),
    ("updated_at", gettext_lazy("Updated"), ""),
]


def _list_params(request) -> tuple[str, dict[str, str]]:
    q = request.GET.get("q", "").strip()
    filters = {k: request.GET[k].strip() for k in selectors.FILTERS if request.GET.get(k, "").strip()}
    return q, filters


def _filter_fields(user, values: dict[str, str]) -> list[dict[str, Any]]:
    """The filter panel: one select per classification scheme and per organisation dimension."""
    any_ = _("Any")
    fields: list[dict[str, Any]] = []

    def add(name, label, options=None, kind="select"):
        fields.append(
            {
                "name": name,
                "label": label,
                "options": options or [],
                "kind": kind,
                "value": values.get(name, ""),
            }
        )

    for name, label in c.CLASSIFICATION_FIELDS.items():
        opts = [(v, str(lbl)) for v, lbl in Customer._meta.get_field(name).choices if v != ""]
        add(name, label, [("", any_), *opts])
    # owners as (id, name) pairs only: a large company has a thousand of them on every list view
    owners = (
        org_selectors.people(user)
        .filter(Q(role__in=services.OWNER_ROLES) | Q(is_superuser=True))
        .values_list("pk", "display_name", "username")
    )
    add("owner", _("Account manager"), [("", any_)] + [(str(pk), dn or un) for pk, dn, un in owners])
    add(
        "department",
        _("Department"),
        [("", any_)] + [(str(d.pk), d.name) for d in org_selectors.departments(user)],
    )
    add(
        "team",
        _("Team"),
        [("", any_)] + [(str(t.pk), f"{t.department.name} / {t.name}") for t in org_selectors.teams(user)],
    )
    add("industry", _("Industry"), [("", any_), *[(v, str(lbl)) for v, lbl in c.Industry.choices]])
    add("province", _("Province"), [("", any_), *[(p, p) for p in c.PROVINCES]])
    add("city", _("City"), kind="text")
    add("kind", _("Kind"), [("", any_), *[(v, str(lbl)) for v, lbl in c.CustomerKind.choices]])
    add("is_key_account", _("Key account"), [("", any_), ("1", _("Yes")), ("0", _("No"))])
    add("need_match", _("Need match"), [("", any_), *[(v, str(lbl)) for v, lbl in c.NeedMatch.choices]])
    add(
        "acquisition_channel",
        _("Acquisition channel"),
        [("", any_), *[(v, str(lbl)) for v, lbl in c.AcquisitionChannel.choices]],
    )
    add("tag", _("Tag"), kind="text")
    return fields


def _active_filters(fields: list[dict[str, Any]], request) -> list[dict[str, str]]:
    """The filters in use, as removable chips."""
    chips = []
    for f in fields:
        if not f["value"]:
            continue
        shown = dict(f["options"]).get(f["value"], f["value"]) if f["kind"] == "select" else f["value"]
        params = request.GET.copy()
        params.pop(f["name"], None)
        params.pop("offset", None)
        chips.append({"label": f["label"], "value": shown, "remove": "?" + params.urlencode()})
    return chips


@login_required
@vary_on_headers("HX-Request", "HX-Target")
def customer_list(request):
    user = request.user
    q, filters = _list_params(request)
    sort = request.GET.get("sort", "name")
    limit = _int(request.GET.get("limit"), 50, low=1, high=selectors.MAX_LIMIT)
    offset = _int(request.GET.get("offset"), 0)
    page = selectors.customer_list(user, q=q, filters=filters, sort=sort, limit=limit, offset=offset)
    fields = _filter_fields(user, filters)
    export_query = urlencode({k: v for k, v in {**filters, "q": q}.items() if v})
    ctx = {
        "page": page,
        "q": q,
        "filter_fields": fields,
        "chips": _active_filters(fields, request),
        "filters_open": bool(filters),
        "limits": LIMITS,
        "columns": COLUMNS,
        "sort_param": ("-" if page.descending else "") + page.sort,
        "can_create": _can_create(user),
        "can_export": selectors.can_export(user),
        "export_url": reverse("customers:export") + ("?" + export_query if export_query else ""),
        "first_row": page.offset + 1,
        "last_row": page.offset + len(page.items),
        "prev_offset": max(0, page.offset - page.limit),
        "next_offset": page.offset + page.limit,
        "last_offset": (page.page_count - 1) * page.limit,
    }
    template = "customers/list.html"
    if _is_htmx(request):
        # the filter form swaps only the table; sort, paging and filter chips swap the whole panel
        # so that the form shows the same state as the table
        target = request.headers.get("HX-Target")
        template = "customers/_results.html" if target == "customer-results" else "customers/_panel.html"
    return render(request, template, ctx)


@login_required
def search(request):
    q = request.GET.get("q", "").strip()
    customers = contacts = None
    if q:
        customers = selectors.customer_list(request.user, q=q, limit=20)
        contacts = selectors.contact_list(request.user, q=q, limit=20)
    return render(
        request,
        "customers/search.html",
        {
            "q": q,
            "global_q": q,
            "customers": customers,
            "contacts": contacts,
            "list_url": reverse("customers:list") + "?" + urlencode({"q": q}),
        },
    )


# --- create / edit / delete -----------------------------------------------------------------------


def _customer_initial(user, customer: Customer) -> dict[str, Any]:
    initial = {f: getattr(customer, f) for f in services.CUSTOMER_FIELDS if f != "owner"}
    initial["owner"] = customer.owner_id
    initial["account_team"] = [u.pk for u in selectors.account_team_of(user, customer.pk)]
    initial["tags"] = ", ".join(selectors.tags_of(user, customer.pk))
    initial["version"] = customer.version
    return initial


@login_required
def customer_create(request):
    user = request.user
    if not _can_create(user):
        raise PermissionDenied
    owners = selectors.owner_choices(user)
    form = CustomerForm(
        request.POST or None,
        initial={"owner": user.pk, "lifecycle_stage": c.LifecycleStage.POTENTIAL, "kind": "company"},
        owner_queryset=owners,
        team_queryset=org_selectors.active_users(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(
                actor=user, data=form.service_data(), reason=form.cleaned_data.get("reason", "")
            )
        except ValidationFailed as e:
            apply_errors(form, e)
        except Forbidden as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return _form_page(request, "customers/form.html", {"form": form, "customer": None})


@login_required
def customer_edit(request, pk: int):
    user = request.user
    customer = _or_404(selectors.get_customer, user, pk)
    if not selectors.can_change(user, customer):
        raise PermissionDenied
    form = CustomerForm(
        request.POST or None,
        initial=_customer_initial(user, customer),
        owner_queryset=selectors.owner_choices(user, customer.owner_id),
        team_queryset=org_selectors.active_users(user),
        can_hand_over=_can_hand_over(user),
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(
                actor=user,
                customer_id=customer.pk,
                version=form.cleaned_data.get("version"),
                data=form.service_data(),
                reason=form.cleaned_data.get("reason", ""),
            )
        except ValidationFailed as e:
            apply_errors(form, e)
        except Conflict as e:
            conflict = str(e)
        except Forbidden as e:
            form.add_error(None, str(e))
        except NotFound:
            raise Http404()
        else:
            messages.success(request, _("Saved. The change is in the customer's history."))
            return redirect("customers:detail", pk=customer.pk)
    return _form_page(
        request,
        "customers/form.html",
        {"form": form, "customer": customer, "conflict": conflict},
        status=409 if conflict else 200,
    )


@login_required
def customer_delete(request, pk: int):
    user = request.user
    customer = _or_404(selectors.get_customer, user, pk)
    if not selectors.can_delete(user, customer):
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            services.delete_customer(
                actor=user,
                customer_id=customer.pk,
                version=request.POST.get("version") or None,
                reason=request.POST.get("reason", ""),
            )
        except Conflict as e:
            error = str(e)
        except (Forbidden, NotFound):
            raise PermissionDenied
        else:
            messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.name})
            return redirect("customers:list")
    contacts = selectors.contacts_of(user, customer.pk)
    return render(
        request, "customers/confirm_delete.html", {"customer": customer, "contacts": contacts, "error": error}
    )


# --- the key-account card (大客户档案卡) -----------------------------------------------------------

OVERVIEW_FIELDS = [
    "kind", "credit_code", "industry", "province", "city", "address", "employees", "annual_revenue",
    "registered_capital", "founded_on", "customer_since", "management_structure", "overview",
]  # fmt: skip
CHANNEL_FIELDS = [
    "phone", "phone_alt", "fax", "email", "website", "acquisition_channel", "purchase_channel", "prices_paid",
    "social_relations",
]  # fmt: skip
BUSINESS_FIELDS = [
    "needs", "purchase_notes", "product_usage", "decision_process", "competitors", "preferences",
    "need_match", "our_advantages", "our_weaknesses",
]  # fmt: skip
CLASSIFICATION_EXTRA = [
    "closable_amount", "business_need", "annual_purchases", "annual_profit", "is_benchmark",
    "decision_chain_known",
]  # fmt: skip
LONG_TEXT = {
    "address", "management_structure", "overview", "social_relations", "needs", "purchase_notes",
    "product_usage", "decision_process", "competitors", "preferences", "our_advantages", "our_weaknesses",
    "business_need",
}  # fmt: skip
MONEY_FIELDS = {
    "annual_revenue", "registered_capital", "credit_limit", "closable_amount", "annual_purchases",
    "annual_profit",
}  # fmt: skip
CARD_HISTORY = 15


def _classification(customer: Customer) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "label": label,
            "value": getattr(customer, name),
            "display": _display(customer, name) if getattr(customer, name) else "",
        }
        for name, label in c.CLASSIFICATION_FIELDS.items()
    ]


@login_required
def customer_detail(request, pk: int):
    user = request.user
    customer = _or_404(selectors.get_customer, user, pk)
    missing = services.missing_required(customer)
    history = _readable_history(selectors.customer_history(user, pk, include_contacts=True))
    changeable = selectors.can_change(user, customer)
    ctx = {
        "customer": customer,
        "account_team": selectors.account_team_of(user, pk),
        "tags": selectors.tags_of(user, pk),
        "classification": _classification(customer),
        "classification_extra": _facts(customer, CLASSIFICATION_EXTRA, LONG_TEXT),
        "overview": _facts(customer, OVERVIEW_FIELDS, LONG_TEXT),
        "channels": _facts(customer, CHANNEL_FIELDS, LONG_TEXT),
        "business": _facts(customer, BUSINESS_FIELDS, LONG_TEXT),
        "money_fields": MONEY_FIELDS,
        "completeness": services.profile_completeness(customer),
        "missing": [{"name": f, "label": _label(Customer, f)} for f in missing],
        "contacts": selectors.contacts_of(user, pk),
        "personal": pk in selectors.personal_access(user, [pk]),
        "finance": pk in selectors.finance_access(user, [pk]),
        "classification_history": selectors.classification_history(user, pk)[:30],
        "scheme_labels": {k: str(v) for k, v in c.CLASSIFICATION_FIELDS.items()},
        "scheme_values": {
            name: dict(Customer._meta.get_field(name).flatchoices) for name in c.CLASSIFICATION_FIELDS
        },
        "revenue": selectors.revenue_history(user, pk),
        "history": history[:CARD_HISTORY],
        "history_more": len(history) > CARD_HISTORY,
        "history_count": len(history),
        "can_change": changeable,
        "can_delete": selectors.can_delete(user, customer),
        "revenue_form": RevenueForm(initial={"period_start": timezone.localdate().strftime("%Y-%m")})
        if changeable
        else None,
        "can_audit": selectors.can_audit(user),
    }
    return render(request, "customers/detail.html", ctx)


@login_required
def customer_history(request, pk: int):
    customer = _or_404(selectors.get_customer, request.user, pk)
    entries = _readable_history(selectors.customer_history(request.user, pk, include_contacts=True))
    return render(request, "customers/history.html", {"customer": customer, "entries": entries})


@login_required
@require_POST
def record_revenue(request, pk: int):
    user = request.user
    customer = _or_404(selectors.get_customer, user, pk)
    form = RevenueForm(request.POST)
    url = reverse("customers:detail", args=[customer.pk]) + "#revenue"
    if not form.is_valid():
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, e)
        return HttpResponseRedirect(url)
    try:
        services.record_revenue(
            actor=user,
            customer_id=customer.pk,
            period_start=form.cleaned_data["period_start"],
            revenue=form.cleaned_data["revenue"],
        )
    except ValidationFailed as e:
        for msgs in e.errors.values():
            for m in msgs:
                messages.error(request, m)
    except Forbidden:
        raise PermissionDenied
    except NotFound:
        raise Http404()
    else:
        messages.success(request, _("Revenue recorded."))
    return HttpResponseRedirect(url)


# --- contacts -------------------------------------------------------------------------------------

CONTACT_MAIN = ["title", "department", "decision_role", "attitude", "is_primary", "concerns"]
CONTACT_CHANNELS = ["mobile", "phone", "email", "wechat"]


@login_required
def contact_create(request, pk: int):
    user = request.user
    customer = _or_404(selectors.get_customer, user, pk)
    if not selectors.can_change(user, customer):
        raise PermissionDenied
    personal = customer.pk in selectors.personal_access(user, [customer.pk])
    form = ContactForm(request.POST or None, personal=personal)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.create_contact(actor=user, customer_id=customer.pk, data=form.service_data())
        except ValidationFailed as e:
            apply_errors(form, e)
        except Forbidden as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Contact “%(name)s” added.") % {"name": contact.name})
            return redirect("customers:contact_detail", pk=contact.pk)
    return _form_page(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": None, "required_names": set()},
    )


@login_required
def contact_detail(request, pk: int):
    user = request.user
    contact = _or_404(selectors.get_contact, user, pk)
    personal = contact.customer_id in selectors.personal_access(user, [contact.customer_id])
    anniversaries = []
    if personal and contact.anniversaries:
        try:
            anniversaries = services.parse_anniversaries(contact.anniversaries)
        except Exception:
            anniversaries = []
    ctx = {
        "contact": contact,
        "customer": contact.customer,
        "main": _facts(contact, CONTACT_MAIN, {"concerns"}),
        "channels": _facts(contact, CONTACT_CHANNELS),
        "personal": personal,
        "personal_facts": _facts(
            contact,
            ["birth_year", "education", "personality", "interests", "family", "career", "notes"],
            {"personality", "interests", "family", "career", "notes"},
        )
        if personal
        else [],
        "anniversaries": anniversaries,
        "history": _readable_history(selectors.contact_history(user, pk))[:CARD_HISTORY],
        "can_change": selectors.can_change(user, contact),
        "can_delete": selectors.can_delete(user, contact),
    }
    return render(request, "customers/contact_detail.html", ctx)


@login_required
def contact_edit(request, pk: int):
    user = request.user
    contact = _or_404(selectors.get_contact, user, pk)
    if not selectors.can_change(user, contact):
        raise PermissionDenied
    personal = contact.customer_id in selectors.personal_access(user, [contact.customer_id])
    initial = {f: getattr(contact, f) for f in services.CONTACT_FIELDS}
    initial["version"] = contact.version
    form = ContactForm(request.POST or None, initial=initial, personal=personal)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(
                actor=user,
                contact_id=contact.pk,
                version=form.cleaned_data.get("version"),
                data=form.service_data(),
            )
        except ValidationFailed as e:
            apply_errors(form, e)
        except Conflict as e:
            conflict = str(e)
        except Forbidden as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Saved."))
            return redirect("customers:contact_detail", pk=contact.pk)
    return _form_page(
        request,
        "customers/contact_form.html",
        {
            "form": form,
            "customer": contact.customer,
            "contact": contact,
            "conflict": conflict,
            "required_names": set(),
        },
        status=409 if conflict else 200,
    )


@login_required
def contact_delete(request, pk: int):
    user = request.user
    contact = _or_404(selectors.get_contact, user, pk)
    if not selectors.can_delete(user, contact):
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            services.delete_contact(
                actor=user, contact_id=contact.pk, version=request.POST.get("version") or None
            )
        except Conflict as e:
            error = str(e)
        except (Forbidden, NotFound):
            raise PermissionDenied
        else:
            messages.success(request, _("Contact “%(name)s” deleted.") % {"name": contact.name})
            return redirect("customers:detail", pk=contact.customer_id)
    return render(request, "customers/contact_confirm_delete.html", {"contact": contact, "error": error})


@login_required
def contact_history(request, pk: int):
    contact = _or_404(selectors.get_contact, request.user, pk)
    entries = _readable_history(selectors.contact_history(request.user, pk))
    return render(request, "customers/contact_history.html", {"contact": contact, "entries": entries})


# --- reasons owed (C1) ----------------------------------------------------------------------------


def _reason_rows(user, items) -> list[dict[str, Any]]:
    explainable = selectors.explainable_ids(user, [r.pk for r in items if r.is_open])
    return [{"r": r, "can_explain": r.pk in explainable} for r in items]


@login_required
def reasons(request):
    user = request.user
    default_mine = user.role == Role.ACCOUNT_MANAGER
    if "filtered" in request.GET:
        mine = request.GET.get("mine") == "1"
    else:
        mine = default_mine
    explained = request.GET.get("explained") == "1"
    limit = 50
    offset = _int(request.GET.get("offset"), 0)
    qs = selectors.reasons_owed(user, only_mine=mine, include_explained=explained)
    items = list(qs[offset : offset + limit + 1])
    has_next = len(items) > limit
    items = items[:limit]
    base = {"filtered": "1", "mine": "1" if mine else "", "explained": "1" if explained else ""}
    base = {k: v for k, v in base.items() if v}
    ctx = {
        "rows": _reason_rows(user, items),
        "mine": mine,
        "explained": explained,
        "offset": offset,
        "has_prev": offset > 0,
        "has_next": has_next,
        "prev_url": "?" + urlencode({**base, "offset": max(0, offset - limit)}),
        "next_url": "?" + urlencode({**base, "offset": offset + limit}),
        "explain_form": ExplainForm(),
    }
    return render(request, "customers/reasons.html", ctx)


@login_required
@require_POST
def reason_explain(request, pk: int):
    user = request.user
    req = _or_404(selectors.get_reason_request, user, pk)
    form = ExplainForm(request.POST)
    error = None
    if form.is_valid():
        try:
            req = services.explain_revenue_change(
                actor=user, request_id=req.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as e:
            error = " ".join(m for msgs in e.errors.values() for m in msgs)
        except Forbidden:
            raise PermissionDenied
        except NotFound:
            raise Http404()
    else:
        error = " ".join(m for msgs in form.errors.values() for m in msgs)
    if _is_htmx(request):
        row = _reason_rows(user, [req])[0]
        return render(
            request,
            "customers/_reason_row.html",
            {
                "row": row,
                "error": error,
                "explain_form": form if error else ExplainForm(),
                "just_explained": not error,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Reason recorded."))
    return redirect(_next_url(request, reverse("customers:reasons")))


# --- audit (auditors and administrators) ----------------------------------------------------------


@login_required
def audit(request):
    user = request.user
    if not selectors.can_audit(user):
        raise Http404()
    form = AuditFilterForm(request.GET or None, users=org_selectors.people(user))
    params: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        params = {
            "model": cd.get("model") or "",
            "who": cd.get("user"),
            "since": cd.get("since"),
            "until": cd.get("until"),
            "customer_id": cd.get("customer"),
        }
    limit = _int(request.GET.get("limit"), 50, low=1, high=200)
    offset = _int(request.GET.get("offset"), 0)
    page = _or_404(selectors.audit_log, user, limit=limit, offset=offset, **params)
    _readable_history(page.items)
    return render(
        request,
        "customers/audit.html",
        {
            "form": form,
            "page": page,
            "first_row": offset + 1,
            "last_row": offset + len(page.items),
            "prev_offset": max(0, offset - limit),
            "next_offset": offset + limit,
        },
    )


# --- settings (administrators) --------------------------------------------------------------------


@login_required
def settings_view(request):
    user = request.user
    current = _or_404(selectors.customer_settings, user)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(actor=user, data=dict(form.cleaned_data))
        except ValidationFailed as e:
            apply_errors(form, e)
        except Forbidden:
            raise Http404()
        else:
            messages.success(request, _("Settings saved."))
            return redirect("customers:settings")
    return render(request, "customers/settings.html", {"form": form})


# --- export (C16, C17): a stated purpose, logged -------------------------------------------------

EXPORT_COLUMNS = [
    ("id", "ID"),
    ("name", gettext_lazy("Name")),
    ("short_name", gettext_lazy("Short name")),
    ("credit_code", gettext_lazy("Unified social credit code")),
    ("kind", gettext_lazy("Kind")),
    ("industry", gettext_lazy("Industry")),
    ("province", gettext_lazy("Province")),
    ("city", gettext_lazy("City")),
    ("address", gettext_lazy("Address")),
    ("employees", gettext_lazy("Employees")),
    ("annual_revenue", gettext_lazy("Annual revenue (CNY)")),
    ("phone", gettext_lazy("Phone")),
    ("email", gettext_lazy("Email")),
    ("owner", gettext_lazy("Account manager")),
    ("department", gettext_lazy("Department")),
    ("team", gettext_lazy("Team")),
    ("is_key_account", gettext_lazy("Key account")),
    *[(name, label) for name, label in c.CLASSIFICATION_FIELDS.items()],
    ("need_match", gettext_lazy("Need match")),
    ("credit_limit", gettext_lazy("Credit limit (CNY)")),
    ("payment_terms", gettext_lazy("Payment terms")),
    ("customer_since", gettext_lazy("Customer since")),
    ("updated_at", gettext_lazy("Updated")),
]


def _export_value(customer: Customer, name: str) -> Any:
    if name in ("owner", "department", "team"):
        rel = getattr(customer, name)
        return str(rel) if rel else ""
    value = _display(customer, name)
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    return (
        "" if value is None else (str(value) if not isinstance(value, int | float | datetime.date) else value)
    )


def _write_xlsx(user, q: str, filters: dict[str, str]) -> tuple[Any, int]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Customers")[:31])
    ws.append([str(label) for _name, label in EXPORT_COLUMNS])
    rows = 0
    for customer in selectors.export_rows(user, q=q, filters=filters):
        line = []
        for name, _heading in EXPORT_COLUMNS:
            v = _export_value(customer, name)
            if name in MONEY_FIELDS and getattr(customer, name) is not None:
                v = float(getattr(customer, name))
            line.append(v)
        ws.append(line)
        rows += 1
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out, rows


@login_required
def export(request):
    user = request.user
    if not selectors.can_export(user):
        raise Http404()
    source = request.POST if request.method == "POST" else request.GET
    q = source.get("q", "").strip()
    filters = {k: source[k].strip() for k in selectors.FILTERS if source.get(k, "").strip()}
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        out, rows = _write_xlsx(user, q, filters)
        try:
            core_services.log_export(
                actor=user,
                what="customers",
                filters={**filters, **({"q": q} if q else {})},
                purpose=form.cleaned_data["purpose"],
                row_count=rows,
            )
        except ValidationFailed as e:
            out.close()
            apply_errors(form, e)
        else:
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            return FileResponse(
                out,
                as_attachment=True,
                filename=f"guanxi-customers-{stamp}.xlsx",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
    preview = selectors.customer_list(user, q=q, filters=filters, limit=1, action="export")
    fields = _filter_fields(user, filters)
    shown = [
        {"label": f["label"], "value": dict(f["options"]).get(f["value"], f["value"])}
        for f in fields
        if f["value"]
    ]
    return render(
        request,
        "customers/export.html",
        {
            "form": form,
            "q": q,
            "filters": filters,
            "shown_filters": shown,
            "count": preview.count,
            "cap": selectors.EXPORT_CAP,
            "back_url": reverse("customers:list") + "?" + urlencode({**filters, **({"q": q} if q else {})}),
        },
    )
