"""Every read of customers and contacts. Each starts from ``org.access.scope``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import NotFound
from guanxi.org.access import scope
from guanxi.org.models import Role, User

from . import choices as c
from . import search
from .models import ClassificationChange, Contact, Customer, RevenueReasonRequest

# sort key → ordering (every one ends in id so that paging is stable; each has an index)
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "industry": ("industry", "id"),
    "region": ("province", "city", "id"),
    "owner": ("owner", "name", "id"),
    "team": ("team", "id"),
    "lifecycle_stage": ("lifecycle_stage", "id"),
    "value_level": ("value_level", "id"),
    "maintenance_tier": ("maintenance_tier", "id"),
    "strategic_type": ("strategic_type", "id"),
    "abc_class": ("abc_class", "id"),
    "annual_revenue": ("annual_revenue", "id"),
    "updated_at": ("updated_at", "id"),
}
SORT_LABELS = {
    "name": _("Name"), "industry": _("Industry"), "region": _("Region"), "owner": _("Account manager"),
    "team": _("Team"), "lifecycle_stage": _("Lifecycle stage"), "value_level": _("Value level"),
    "maintenance_tier": _("Maintenance tier"), "strategic_type": _("Strategic type"),
    "abc_class": _("ABC class"), "annual_revenue": _("Annual revenue"), "updated_at": _("Updated"),
}  # fmt: skip

# filter parameter → model field; every classification scheme is a filter
FILTERS = {
    **{f: f for f in c.CLASSIFICATION_FIELDS},
    "kind": "kind",
    "owner": "owner_id",
    "team": "team_id",
    "department": "department_id",
    "industry": "industry",
    "province": "province",
    "city": "city",
    "need_match": "need_match",
    "acquisition_channel": "acquisition_channel",
    "is_key_account": "is_key_account",
    "tag": "tags__name",
}
MAX_LIMIT = 200


@dataclass
class Page:
    items: list[Any]
    count: int
    limit: int
    offset: int
    sort: str = "name"
    descending: bool = False
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.count

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1

    @property
    def page_count(self) -> int:
        return max(1, -(-self.count // self.limit))


def _search_filter(qs: QuerySet, q: str, kind: str) -> QuerySet:
    sub = search.id_subquery(q, kind)
    if sub is None:
        return qs.none()
    sql, params = sub
    qs = qs.filter(pk__in=RawSQL(sql, params))
    if search.needs_like_check(q):
        # bigrams may match out of order: check each word of the query (split at spaces and
        # punctuation, which the index ignores) as a substring of the name
        term = q.strip()
        words = search.query_words(term)
        if kind == search.KIND_CUSTOMER:
            code = term.replace(" ", "").replace("-", "").upper()  # a credit code (prefix) is no name part
            in_name = Q()
            for w in words:
                in_name &= Q(name__icontains=w) | Q(short_name__icontains=w)
            qs = qs.filter(in_name | Q(credit_code__startswith=code))
        else:
            for w in words:
                qs = qs.filter(name__icontains=w)
    return qs


def _apply_filters(qs: QuerySet, filters: dict[str, Any]) -> tuple[QuerySet, dict[str, str]]:
    used = {}
    for key, fieldname in FILTERS.items():
        value = filters.get(key)
        if value in (None, "", []):
            continue
        if key == "is_key_account":
            value = str(value).lower() in ("1", "true", "yes", "on")
        elif fieldname.endswith("_id"):
            if not str(value).isdigit():
                continue
            value = int(value)
        qs = qs.filter(**{fieldname: value})
        used[key] = str(filters.get(key))
    return qs, used


def customer_list(
    user: User,
    *,
    q: str = "",
    filters: dict[str, Any] | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
    action: str = "view",
) -> Page:
    """One page of the customers ``user`` may see, filtered, searched and sorted.

    Paging reads the page's ids from an index-only scan first, then loads just those rows, so a
    deep page costs an index walk, not a table walk.
    """
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        key, descending = "name", False
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    qs = scope(user, Customer.objects.all(), action)
    qs, used = _apply_filters(qs, filters or {})
    if q and q.strip():
        qs = _search_filter(qs, q, search.KIND_CUSTOMER)
        used["q"] = q.strip()
    if "tag" in used:
        qs = qs.distinct()
    order = [("-" + f if descending else f) for f in SORTS[key]]
    ids = list(qs.order_by(*order).values_list("id", flat=True)[offset : offset + limit])
    rows = {
        r.pk: r
        for r in Customer.objects.filter(pk__in=ids).select_related("owner", "team", "department")
    }
    items = [rows[i] for i in ids if i in rows]
    count = qs.count() if (offset or len(ids) == limit) else offset + len(ids)
    return Page(items, count, limit, offset, key, descending, used)


def customer_queryset(user: User, *, q: str = "", filters: dict[str, Any] | None = None,
                      action: str = "view") -> QuerySet:  # fmt: skip
    """The same rows as ``customer_list`` without paging (exports)."""
    qs = scope(user, Customer.objects.all(), action)
    qs, _used = _apply_filters(qs, filters or {})
    if q and q.strip():
        qs = _search_filter(qs, q, search.KIND_CUSTOMER)
    return qs.order_by("name", "id")


def get_customer(user: User, customer_id: int, action: str = "view") -> Customer:
    obj = (
        scope(user, Customer.objects.all(), action)
        .select_related("owner", "team", "department")
        .filter(pk=customer_id)
        .first()
    )
    if obj is None:
        raise NotFound()
    return obj


def can_change(user: User, obj) -> bool:
    return scope(user, type(obj).objects.filter(pk=obj.pk), "change").exists()


def can_delete(user: User, obj) -> bool:
    return scope(user, type(obj).objects.filter(pk=obj.pk), "delete").exists()


def personal_access(user: User, customer_ids) -> set[int]:
    """Ids among ``customer_ids`` whose contacts' personal fields ``user`` may see."""
    ids = list({i for i in customer_ids})
    if not ids:
        return set()
    return set(
        scope(user, Customer.objects.filter(pk__in=ids), "view_personal").values_list("pk", flat=True)
    )


def contacts_of(user: User, customer_id: int) -> list[Contact]:
    get_customer(user, customer_id)
    return list(
        scope(user, Contact.objects.all(), "view").filter(customer_id=customer_id).order_by("-is_primary", "name")
    )


def contact_list(user: User, *, q: str = "", customer_id: int | None = None, limit: int = 50,
                 offset: int = 0) -> Page:  # fmt: skip
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    qs = scope(user, Contact.objects.all(), "view")
    used = {}
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
        used["customer"] = str(customer_id)
    if q and q.strip():
        qs = _search_filter(qs, q, search.KIND_CONTACT)
        used["q"] = q.strip()
    ids = list(qs.order_by("name", "id").values_list("id", flat=True)[offset : offset + limit])
    rows = {r.pk: r for r in Contact.objects.filter(pk__in=ids).select_related("customer")}
    items = [rows[i] for i in ids if i in rows]
    count = qs.count() if (offset or len(ids) == limit) else offset + len(ids)
    return Page(items, count, limit, offset, "name", False, used)


def get_contact(user: User, contact_id: int) -> Contact:
    obj = scope(user, Contact.objects.all(), "view").select_related("customer").filter(pk=contact_id).first()
    if obj is None:
        raise NotFound()
    return obj


# --- audit trail ----------------------------------------------------------------------------------

HIDDEN_HISTORY_FIELDS = {"version"}
MASK = "•••"


@dataclass
class Change:
    field: str
    label: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    id: int
    model: str
    object_id: int
    object_name: str
    when: datetime.datetime
    who: str | None
    who_id: int | None
    type: str  # created / changed / deleted
    reason: str | None
    changes: list[Change]


SAME_EDIT_SECONDS = 2
_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def _display(model, fname: str, value: Any) -> Any:
    try:
        f = model._meta.get_field(fname)
    except Exception:
        return value
    if getattr(f, "choices", None) and value not in (None, ""):
        return str(dict(f.flatchoices).get(value, value))
    return value


def _m2m_values(model, rec, mname: str) -> list[str]:
    """Names of the related objects of a historical record's many-to-many field."""
    target = model._meta.get_field(mname).related_model
    rows = getattr(rec, mname).all()
    fk = next(
        (f.name for f in rows.model._meta.concrete_fields if f.is_relation and f.related_model is target),
        None,
    )
    if fk is None:
        return []
    return sorted(str(getattr(r, fk)) for r in rows.select_related(fk))


def _entries(model, records: list, show_personal: set[int] | None, customer_of) -> list[HistoryEntry]:
    """History rows (oldest first per object) → entries with each field's old and new value."""
    personal = set(getattr(model, "PERSONAL_FIELDS", ()))
    fields = [
        f.name for f in model._meta.concrete_fields if f.name not in HIDDEN_HISTORY_FIELDS and f.name != "id"
    ]
    m2m = [f.name for f in getattr(model._meta, "many_to_many", [])]
    users = {
        u.pk: str(u) for u in User.objects.filter(pk__in={r.history_user_id for r in records if r.history_user_id})
    }
    prev: dict[int, Any] = {}
    last_of: dict[int, HistoryEntry] = {}
    out = []
    for rec in records:
        before = prev.get(rec.id)
        changes = []
        masked = show_personal is not None and customer_of(rec) not in show_personal
        for fname in fields:
            attr = fname + "_id" if model._meta.get_field(fname).is_relation else fname
            new = getattr(rec, attr, None)
            old = getattr(before, attr, None) if before is not None else None
            if before is None and rec.history_type == "+" and new in (None, "", False):
                continue
            if before is not None and old == new:
                continue
            if before is None and rec.history_type != "+":
                continue
            label = str(model._meta.get_field(fname).verbose_name)
            if fname in personal and masked:
                changes.append(Change(fname, label, MASK if old not in (None, "") else "", MASK))
            else:
                changes.append(Change(fname, label, _display(model, fname, old), _display(model, fname, new)))
        for mname in m2m:
            new_set = _m2m_values(model, rec, mname)
            old_set = _m2m_values(model, before, mname) if before is not None else []
            if new_set != old_set:
                label = str(model._meta.get_field(mname).verbose_name)
                changes.append(Change(mname, label, ", ".join(old_set), ", ".join(new_set)))
        prev[rec.id] = rec
        last = last_of.get(rec.id)
        if (
            last is not None
            and rec.history_type == "~"
            and last.type in ("created", "changed")
            and last.who_id == rec.history_user_id
            and changes
            and all(ch.field in m2m for ch in changes)
            and (rec.history_date - last.when).total_seconds() < SAME_EDIT_SECONDS
        ):
            # one save writes the fields, then the account team and tags, and each many-to-many
            # change gets a history record of its own: show them as the one change the user made
            merged = {ch.field: ch for ch in last.changes}
            for ch in changes:
                if ch.field in merged:
                    merged[ch.field].new = ch.new
                else:
                    merged[ch.field] = ch
            last.changes = list(merged.values())
            last.id, last.when = rec.history_id, rec.history_date
            last.reason = last.reason or rec.history_change_reason
            if not any(e is last for e in out):
                out.append(last)
            continue
        last_of[rec.id] = entry = HistoryEntry(
            id=rec.history_id,
            model=model._meta.model_name,
            object_id=rec.id,
            object_name=getattr(rec, "name", str(rec.id)),
            when=rec.history_date,
            who=users.get(rec.history_user_id),
            who_id=rec.history_user_id,
            type=_TYPES.get(rec.history_type, rec.history_type),
            reason=rec.history_change_reason,
            changes=changes,
        )
        if changes or rec.history_type != "~":
            out.append(entry)  # a save that changed nothing visible shows only if its m2m part did
    return out


def customer_history(user: User, customer_id: int, *, include_contacts: bool = False) -> list[HistoryEntry]:
    """The audit trail of one customer (and optionally its contacts), newest first."""
    get_customer(user, customer_id)
    records = list(Customer.history.filter(id=customer_id).order_by("history_date", "history_id"))
    entries = _entries(Customer, records, None, None)
    if include_contacts:
        entries += _contact_entries(user, Contact.history.filter(customer_id=customer_id))
    entries.sort(key=lambda e: (e.when, e.id), reverse=True)
    return entries


def _contact_entries(user: User, hqs) -> list[HistoryEntry]:
    records = list(hqs.order_by("history_date", "history_id"))
    allowed = personal_access(user, {r.customer_id for r in records})
    return _entries(Contact, records, allowed, lambda r: r.customer_id)


def contact_history(user: User, contact_id: int) -> list[HistoryEntry]:
    contact = get_contact(user, contact_id)
    entries = _contact_entries(user, Contact.history.filter(id=contact.pk))
    entries.sort(key=lambda e: (e.when, e.id), reverse=True)
    return entries


def can_audit(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_admin or user.role == Role.AUDITOR))


def audit_log(
    user: User,
    *,
    model: str = "",
    who: int | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    customer_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Every change of customers and contacts, newest first, for auditors and administrators."""
    if not can_audit(user):
        raise NotFound()
    visible_qs = scope(user, Customer.objects.all(), "view")
    # An unrestricted scope must also cover deleted customers, whose rows are gone.
    visible = visible_qs.values("pk") if visible_qs.query.has_filters() else None
    entries: list[HistoryEntry] = []
    window = offset + limit
    for mdl in (Customer, Contact):
        if model and model != mdl._meta.model_name:
            continue
        hqs = mdl.history.all()
        if visible is not None:
            hqs = hqs.filter(id__in=visible) if mdl is Customer else hqs.filter(customer_id__in=visible)
        if who:
            hqs = hqs.filter(history_user_id=who)
        if since:
            hqs = hqs.filter(history_date__date__gte=since)
        if until:
            hqs = hqs.filter(history_date__date__lte=until)
        if customer_id:
            hqs = hqs.filter(id=customer_id) if mdl is Customer else hqs.filter(customer_id=customer_id)
        newest = list(hqs.order_by("-history_date", "-history_id").values_list("id", "history_id")[:window])
        object_ids = {i for i, _h in newest}
        keep = {h for _i, h in newest}
        # the diff needs each object's earlier version too, so load those objects' whole history
        records = list(mdl.history.filter(id__in=object_ids).order_by("history_date", "history_id"))
        if mdl is Customer:
            es = _entries(Customer, records, None, None)
        else:
            allowed = personal_access(user, {r.customer_id for r in records})
            es = _entries(Contact, records, allowed, lambda r: r.customer_id)
        entries += [e for e in es if e.id in keep]
    entries.sort(key=lambda e: (e.when, e.id), reverse=True)
    # an exact count across two history tables is not needed: the page says whether there is more
    page = entries[offset : offset + limit]
    return Page(page, offset + len(page) + (1 if len(entries) > offset + limit else 0), limit, offset)


def classification_history(user: User, customer_id: int) -> list[ClassificationChange]:
    get_customer(user, customer_id)
    return list(
        ClassificationChange.objects.filter(customer_id=customer_id).select_related("changed_by")[:200]
    )


# --- reasons owed (C1) ----------------------------------------------------------------------------


def reasons_owed(user: User, *, only_mine: bool = False, include_explained: bool = False) -> QuerySet:
    qs = scope(user, RevenueReasonRequest.objects.all(), "view").select_related("customer", "owner")
    if not include_explained:
        qs = qs.filter(explained_at__isnull=True)
    if only_mine:
        qs = qs.filter(owner=user)
    return qs.order_by("-period_start", "-id")


def get_reason_request(user: User, request_id: int) -> RevenueReasonRequest:
    obj = reasons_owed(user, include_explained=True).filter(pk=request_id).first()
    if obj is None:
        raise NotFound()
    return obj


# --- organisation look-ups for filters and forms --------------------------------------------------


def assignable_owners(user: User) -> QuerySet:
    qs = User.objects.filter(is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.MANAGER, Role.ADMIN])
    if user.is_admin:
        return qs.order_by("username")
    if user.role == Role.MANAGER and user.department_id:
        return qs.filter(department_id=user.department_id).order_by("username")
    return qs.filter(pk=user.pk)


# --- reads for the web UI (card, forms, export, settings) -----------------------------------------


def can_export(user: User) -> bool:
    """Whether any customer at all is in ``user``'s export scope (decided without a query)."""
    return not scope(user, Customer.objects.all(), "export").query.is_empty()


def owner_choices(user: User, current_owner_id: int | None = None) -> QuerySet:
    """Who ``user`` may pick as account manager, plus the customer's current one."""
    qs = assignable_owners(user)
    if current_owner_id:
        qs = User.objects.filter(Q(pk__in=qs.values("pk")) | Q(pk=current_owner_id))
    return qs.order_by("username")


def account_team_of(user: User, customer_id: int) -> list[User]:
    customer = get_customer(user, customer_id)
    return list(customer.account_team.order_by("username"))


def tags_of(user: User, customer_id: int) -> list[str]:
    customer = get_customer(user, customer_id)
    return list(customer.tags.order_by("name").values_list("name", flat=True))


@dataclass
class RevenueRow:
    period_start: datetime.date
    revenue: Any
    previous: Any = None
    change_pct: Any = None
    reason: RevenueReasonRequest | None = None


def revenue_history(user: User, customer_id: int, *, months: int = 24) -> list[RevenueRow]:
    """The customer's monthly revenue (newest first) with the reason owed or given for each month."""
    from .models import RevenueFigure

    get_customer(user, customer_id)
    figures = list(
        RevenueFigure.objects.filter(customer_id=customer_id)
        .order_by("-period_start")
        .values_list("period_start", "revenue")[: months + 1]
    )
    reasons = {
        r.period_start: r
        for r in RevenueReasonRequest.objects.filter(customer_id=customer_id).select_related("explained_by")
    }
    rows = []
    for i, (period, revenue) in enumerate(figures[:months]):
        row = RevenueRow(period, revenue, reason=reasons.get(period))
        if i + 1 < len(figures):
            prev_period, prev = figures[i + 1]
            if (prev_period.year * 12 + prev_period.month) == (period.year * 12 + period.month) - 1:
                row.previous = prev
                if prev:
                    row.change_pct = (revenue - prev) / abs(prev) * 100
        rows.append(row)
    return rows


def explainable_ids(user: User, request_ids) -> set[int]:
    """Among ``request_ids``, the reasons owed that ``user`` may explain."""
    ids = list(set(request_ids))
    if not ids:
        return set()
    return set(
        scope(user, RevenueReasonRequest.objects.filter(pk__in=ids), "change").values_list("pk", flat=True)
    )


def customer_settings(user: User):
    """The company-wide customer settings (administrators only)."""
    from .models import CustomerSettings

    if not (user.is_authenticated and user.is_admin):
        raise NotFound()
    return CustomerSettings.load()


EXPORT_CAP = 100_000


def export_rows(user: User, *, q: str = "", filters: dict[str, Any] | None = None, cap: int = EXPORT_CAP):
    """The customers of a filtered list for an export file, streamed in chunks, at most ``cap``."""
    qs = customer_queryset(user, q=q, filters=filters, action="export")
    if filters and filters.get("tag"):
        qs = qs.distinct()
    qs = qs.select_related("owner", "team", "department")[:cap]
    yield from qs.iterator(chunk_size=2000)


def required_customer_fields() -> tuple[list[str], list[str]]:
    """The fields every customer needs, and those a key account needs as well (for form hints)."""
    from .models import CustomerSettings

    st = CustomerSettings.load()
    return list(st.required_fields), list(st.key_account_required_fields)
