"""Every read of customers and contacts. Each starts from ``org.access.scope``."""

from __future__ import annotations

import datetime
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import NotFound
from guanxi.org.access import scope
from guanxi.org.models import Role, User

from . import choices as c
from . import search
from .models import ClassificationChange, Contact, Customer, RevenueReasonRequest

# sort key → ordering (every one ends in id so that paging is stable; each has an index with the
# same columns, so a page is an index walk; ties are broken by name, which people read)
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "industry": ("industry", "name", "id"),
    "region": ("province", "city", "name", "id"),
    "owner": ("owner", "name", "id"),
    "team": ("team", "name", "id"),
    "lifecycle_stage": ("lifecycle_stage", "name", "id"),
    "value_level": ("value_level", "name", "id"),
    "maintenance_tier": ("maintenance_tier", "name", "id"),
    "strategic_type": ("strategic_type", "name", "id"),
    "abc_class": ("abc_class", "name", "id"),
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
    # False when counting every match would cost more than a page view may: ``count`` is then a
    # lower bound (show "more than {count}"), and has_next / page_count are lower bounds too
    count_exact: bool = True

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


# --- search and paging at a million rows (see shared/PERFORMANCE.md and bench/) ------------------

SEARCH_LIST_MAX = 5000  # a search matching at most this many records filters by an id list
COUNT_CAP = 1000  # counted first, cheaply; beyond it an exact count is tried within a budget
COUNT_BUDGET_MS = 20  # SQLite: the exact count may take this long, else the count is "more than"
PLAN_BUDGET_MS = 25  # SQLite: time for walking the sort index before letting the filters lead
SMALL_SCOPE = 5000  # a scope this small (an account manager's book) is simply read and sorted
SEARCH_DRIVE_MAX = 80_000  # a search matching at most this many may be read from its matches and sorted
SEARCH_WALK_BUDGET_MS = 15  # SQLite: time for probing along the sort order before reading the matches

_SORT_INDEX = {  # sort key → the index (models.Customer.Meta) that yields rows in that order
    "name": "cust_name", "industry": "cust_industry", "region": "cust_region", "owner": "cust_owner",
    "team": "cust_team", "lifecycle_stage": "cust_lifecycle", "value_level": "cust_value",
    "maintenance_tier": "cust_tier", "strategic_type": "cust_strategic", "abc_class": "cust_abc",
    "annual_revenue": "cust_revenue", "updated_at": "cust_updated",
}  # fmt: skip


class _OverBudget(Exception):
    pass


@contextmanager
def _budget(ms: float | None):
    """On SQLite, interrupt the statements run inside after ``ms`` milliseconds (_OverBudget)."""
    if ms is None or connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.perf_counter() + ms / 1000
    raw.set_progress_handler(lambda: time.perf_counter() > deadline, 1000)
    try:
        yield
    except (DatabaseError, sqlite3.OperationalError) as exc:
        if "interrupt" in str(exc):
            raise _OverBudget() from exc
        raise
    finally:
        raw.set_progress_handler(None, 0)


class _Matches(Func):
    """A boolean SQL condition on the row's own id (``{id}`` in ``sql``), aliased correctly even
    when the query ends up inside another one."""

    output_field = BooleanField()

    def __init__(self, sql: str, params: list):
        super().__init__(F("pk"))
        self.match_sql, self.match_params = sql, list(params)

    def as_sql(self, compiler, connection, **extra_context):
        id_sql, id_params = compiler.compile(self.get_source_expressions()[0])
        assert not id_params
        return self.match_sql.replace("{id}", id_sql), list(self.match_params)


def _search(qs: QuerySet, q: str, kind: str, membership: bool = False) -> tuple[QuerySet, bool, list]:
    """``qs`` narrowed to the records matching ``q``; True when they are given as an id list.

    Few matches (the usual case: a name part, a phone, pinyin of a name) are listed from the term
    index and the database reads just those rows. Many matches (a word in every fifth name) are
    probed row by row through the term index instead, so that a page sorted by an index stops
    after a page's worth of matches rather than gathering and sorting 200,000 of them.
    """
    plan = search.query_plan(q, kind)
    if not plan:
        return qs.none(), True, plan
    ids, plan = search.candidate_ids(plan, kind, SEARCH_LIST_MAX)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    else:
        sql, params = search.match_sql(plan, kind, "{id}", membership)
        qs = qs.filter(_Matches(sql, params))
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
    return qs, ids is not None, plan


def _search_filter(qs: QuerySet, q: str, kind: str) -> QuerySet:
    return _search(qs, q, kind)[0]


def _capped_count(qs: QuerySet, cap: int) -> int:
    return qs.order_by()[: cap + 1].count()


def _count(qs: QuerySet, shown: int, more: bool, offset: int, probing: bool = False) -> tuple[int, bool]:
    """How many rows ``qs`` has, and whether that is exact (else a lower bound).

    Counting a million rows through an index is cheap, but counting the rows that match two
    filters or a common word means reading each of them. So: without a next page the count is
    known; else up to COUNT_CAP are counted (cheap), and beyond that an exact count is tried
    within COUNT_BUDGET_MS; if it does not finish, the page says "more than COUNT_CAP".
    """
    if not more and (shown or not offset):
        return offset + shown, True
    floor = offset + shown + (1 if more else 0)
    if connection.vendor != "sqlite":
        return qs.order_by().count(), True
    try:
        with _budget(COUNT_BUDGET_MS / 2 if probing else COUNT_BUDGET_MS):
            n = _capped_count(qs, COUNT_CAP)
    except _OverBudget:
        return floor, False
    if n <= COUNT_CAP:
        return n, True
    if probing:  # every row of the scope would be probed for the word: not within a page view
        return max(floor, COUNT_CAP), False
    # one condition is one index range; more usually mean reading rows, so less time is given
    budget = COUNT_BUDGET_MS if len(qs.query.where.children) <= 1 else COUNT_BUDGET_MS / 2
    try:
        with _budget(budget):
            return qs.order_by().count(), True
    except _OverBudget:
        return max(floor, COUNT_CAP), False


def _postings(plan: list) -> int | None:
    """How many records have the plan's one term (the index range, counted within the budget)."""
    try:
        with _budget(COUNT_BUDGET_MS):
            return search.count_upto(plan, search.KIND_CUSTOMER, None)
    except _OverBudget:
        return None


def _equal_columns(qs: QuerySet) -> set[str]:
    """Columns the query's WHERE pins to one value at its top level (scope and filters)."""
    from django.db.models.lookups import Exact
    from django.db.models.sql.where import AND, WhereNode

    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, WhereNode):
            if node.connector == AND and not node.negated:
                for child in node.children:
                    walk(child)
        elif isinstance(node, Exact) and hasattr(node.lhs, "target"):
            found.add(node.lhs.target.column)

    walk(qs.query.where)
    return found


def _raw_ids(qs: QuerySet, key: str, descending: bool, offset: int, n: int, *,
             index: str | None) -> list[int]:  # fmt: skip
    """The ids of one page, read by walking ``index`` in sort order (SQLite ``INDEXED BY``), or
    with no index or cust_id_name (``ORDER BY +col``, which no index can give): the matches are
    read by id and sorted."""
    try:
        sql, params = qs.order_by().values_list("id", flat=True).query.sql_with_params()
    except EmptyResultSet:
        return []
    table = connection.ops.quote_name(Customer._meta.db_table)
    if index:
        frm = rf"FROM {re.escape(table)}(?=\s|$)"
        sql, hit = re.subn(frm, f"FROM {table} INDEXED BY {index}", sql, count=1)
        if not hit:
            raise _OverBudget()
    direction = "DESC" if descending else "ASC"
    cols = [Customer._meta.get_field(f).column for f in SORTS[key]]
    plus = "+" if not index or index == "cust_id_name" else ""
    order = ", ".join(f'{plus}{table}."{col}" {direction}' for col in cols)
    with connection.cursor() as cur:
        cur.execute(f"{sql} ORDER BY {order} LIMIT {int(n)} OFFSET {int(offset)}", params)
        return [r[0] for r in cur.fetchall()]


def _page_ids(base: QuerySet, qs: QuerySet, key: str, descending: bool, offset: int, limit: int,
              used: dict[str, str], listed: bool, alt: QuerySet | None = None,
              matches: int | None = None) -> list[int]:  # fmt: skip
    """The ids of one page (plus one more, to know whether there is a next page).

    Every filter column has an index ending in (name, id), so a page sorted by name is one index
    walk, whichever filter leads. Two cases need help, because SQLite plans without knowing how many
    rows a value has: a sort by another column within a large scope or filter (SQLite would rather
    read the department's 50,000 rows and sort them than walk the revenue index, which finds a page
    of them after a thousand entries), and a search too common to list (walk the sort order and
    probe each row). There the sort index is walked first, within PLAN_BUDGET_MS when a filter
    could lead instead, and if it finds too few matches in that time (a rare value), the database's
    own plan runs. A search too common to list is walked probing each row first; if the matches
    lie far along the sort order (a city's name: the names starting with it sort together), the
    walk is redone against the matches' ids built once (``alt``). A small scope (an account
    manager's book) or an id list is simply read and sorted.
    """
    n = limit + 1
    order = [("-" + f if descending else f) for f in SORTS[key]]
    filtered = any(k != "q" for k in used)
    restricted = base.query.has_filters()
    searching = "q" in used and not listed
    index = None
    if connection.vendor == "sqlite" and not listed and "tag" not in used:
        if key != "name" and (filtered or restricted or searching):
            index = _SORT_INDEX.get(key)
        elif key == "name" and searching and not filtered:
            pinned = _equal_columns(qs)
            index = "cust_name"
            if "department_id" in pinned:
                index = "cust_dept"
            elif "owner_id" in pinned:
                index = "cust_owner"
    final = qs  # a small scope is read row by row, each probed: no id list of the matches is built
    if index and not (restricted and _capped_count(base, SMALL_SCOPE) <= SMALL_SCOPE):
        led_by_filters = filtered or restricted
        attempts = [(qs, index, PLAN_BUDGET_MS if led_by_filters else None)]
        if alt is not None:
            attempts = [(qs, index, SEARCH_WALK_BUDGET_MS)]
            if matches is not None and matches <= SEARCH_DRIVE_MAX:
                # read the matches (at most 80,000) and sort them; by name, from a narrow index
                attempts.append((alt, "cust_id_name" if key == "name" else None, None))
            else:  # walk again against the matches' ids, built once: bounded by the scope's size
                attempts.append((alt, index, PLAN_BUDGET_MS if filtered else None))
            final = alt
        for candidate, walk, budget in attempts:
            try:
                with _budget(budget):
                    return _raw_ids(candidate, key, descending, offset, n, index=walk)
            except _OverBudget:
                continue
            except DatabaseError:  # e.g. an index renamed: the database's own plan is still correct
                break
    return list(final.order_by(*order).values_list("id", flat=True)[offset : offset + n])


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
    base = scope(user, Customer.objects.all(), action)
    qs, used = _apply_filters(base, filters or {})
    listed, alt, matches, known = False, None, None, None
    if q and q.strip():
        pre = qs
        qs, listed, plan = _search(pre, q, search.KIND_CUSTOMER)
        if not listed:  # many matches: the same search as id lists, for walks that go far
            alt = _search(pre, q, search.KIND_CUSTOMER, membership=True)[0]
            if not base.query.has_filters():  # reading the matches by id only pays without a scope
                one_term = len(plan) == 1 and len(plan[0]) == 1 and not plan[0][0].prefix
                if one_term and not used and not search.needs_like_check(q):
                    # one word, everyone's customers: each entry of the word is one customer
                    known = _postings(plan)
                    matches = SEARCH_DRIVE_MAX + 1 if known is None else known
                else:
                    matches = search.count_upto(plan, search.KIND_CUSTOMER, SEARCH_DRIVE_MAX + 1)
        used["q"] = q.strip()
    if "tag" in used:
        qs = qs.distinct()
        alt = alt.distinct() if alt is not None else None
    ids = _page_ids(base, qs, key, descending, offset, limit, used, listed, alt, matches)
    more = len(ids) > limit
    ids = ids[:limit]
    rows = {
        r.pk: r for r in Customer.objects.filter(pk__in=ids).select_related("owner", "team", "department")
    }
    items = [rows[i] for i in ids if i in rows]
    if known is not None:
        count, exact = known, True
    else:
        count, exact = _count(qs, len(ids), more, offset, probing=alt is not None)
    return Page(items, count, limit, offset, key, descending, used, count_exact=exact)


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
    return set(scope(user, Customer.objects.filter(pk__in=ids), "view_personal").values_list("pk", flat=True))


FINANCE_FIELDS = ("credit_limit", "payment_terms")


def finance_access(user: User, customer_ids) -> set[int]:
    """Ids among ``customer_ids`` whose credit, payment terms and revenue ``user`` may see."""
    ids = list(set(customer_ids))
    if not ids:
        return set()
    return set(scope(user, Customer.objects.filter(pk__in=ids), "view_finance").values_list("pk", flat=True))


def contacts_of(user: User, customer_id: int) -> list[Contact]:
    get_customer(user, customer_id)
    return list(
        scope(user, Contact.objects.all(), "view")
        .filter(customer_id=customer_id)
        .order_by("-is_primary", "name")
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
    ids = list(qs.order_by("name", "id").values_list("id", flat=True)[offset : offset + limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    rows = {r.pk: r for r in Contact.objects.filter(pk__in=ids).select_related("customer")}
    items = [rows[i] for i in ids if i in rows]
    count, exact = _count(qs, len(ids), more, offset)
    return Page(items, count, limit, offset, "name", False, used, count_exact=exact)


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
    """History rows (oldest first per object) → entries with each field's old and new value.

    ``show_personal`` (None: everything shown) is the set of customer ids whose sensitive fields
    the reader may see: a contact's personal fields, a customer's credit and payment terms."""
    personal = set(getattr(model, "PERSONAL_FIELDS", ())) | (
        set(FINANCE_FIELDS) if model is Customer else set()
    )
    fields = [
        f.name for f in model._meta.concrete_fields if f.name not in HIDDEN_HISTORY_FIELDS and f.name != "id"
    ]
    m2m = [f.name for f in getattr(model._meta, "many_to_many", [])]
    users = {
        u.pk: str(u)
        for u in User.objects.filter(pk__in={r.history_user_id for r in records if r.history_user_id})
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
            object_name=getattr(rec, "name", None) or getattr(rec, "description", None) or str(rec.id),
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
    entries = _entries(Customer, records, finance_access(user, [customer_id]), lambda r: r.id)
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


# Models of later apps whose changes belong in the auditor's trail (each has simple-history and a
# ``customer`` foreign key); an app adds its own from its apps.py, so this module never imports it.
AUDITED_MODELS: list[type] = []


def register_audited(model: type) -> None:
    if model not in AUDITED_MODELS:
        AUDITED_MODELS.append(model)


def audited_model_names() -> list[tuple[str, str]]:
    """(model name, label) of everything the audit trail covers, for its filter."""
    return [(m._meta.model_name, str(m._meta.verbose_name)) for m in (Customer, Contact, *AUDITED_MODELS)]


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
    """Every change of customers, contacts and the registered models (gifts…), newest first, for
    auditors and administrators."""
    if not can_audit(user):
        raise NotFound()
    visible_qs = scope(user, Customer.objects.all(), "view")
    # An unrestricted scope must also cover deleted customers, whose rows are gone.
    visible = visible_qs.values("pk") if visible_qs.query.has_filters() else None
    entries: list[HistoryEntry] = []
    window = offset + limit
    for mdl in (Customer, Contact, *AUDITED_MODELS):
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
            es = _entries(Customer, records, finance_access(user, object_ids), lambda r: r.id)
        elif mdl is Contact:
            allowed = personal_access(user, {r.customer_id for r in records})
            es = _entries(Contact, records, allowed, lambda r: r.customer_id)
        else:
            es = _entries(mdl, records, None, None)
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
