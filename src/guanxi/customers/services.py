"""Every write to customers and contacts (C1–C3). One transaction per business action; the audit
trail (django-simple-history), classification history and search terms are written in it too."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.org.access import covered_user_ids, scope
from guanxi.org.models import Role, User

from . import choices as c
from . import search
from .models import (
    ClassificationChange,
    Contact,
    Customer,
    CustomerSettings,
    RevenueFigure,
    RevenueReasonRequest,
    Tag,
)
from .validators import normalize_credit_code, normalize_phone

# Fields a caller may set through create/update (the rest is bookkeeping or derived).
CUSTOMER_FIELDS = [
    f.name
    for f in Customer._meta.get_fields()
    if getattr(f, "concrete", False)
    and not f.many_to_many
    and f.name not in {"id", "version", "created_at", "updated_at", "department", "team"}
]
CUSTOMER_M2M = {"account_team", "tags"}
CONTACT_FIELDS = [
    f.name
    for f in Contact._meta.get_fields()
    if getattr(f, "concrete", False)
    and f.name not in {"id", "version", "created_at", "updated_at", "customer"}
]
CUSTOMER_PHONE_FIELDS = ("phone", "phone_alt", "fax")
CONTACT_PHONE_FIELDS = ("mobile", "phone")
OWNER_ROLES = (Role.ACCOUNT_MANAGER, Role.MANAGER, Role.ADMIN)


# --- helpers --------------------------------------------------------------------------------------


def _clean_text(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in data.items():
        out[k] = v.strip() if isinstance(v, str) else v
    return out


def _normalize_customer_fields(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    if "code" in data:
        data["code"] = (str(data["code"]).strip() if data["code"] is not None else "") or None
    if "credit_code" in data:
        try:
            data["credit_code"] = normalize_credit_code(data["credit_code"])
        except ValidationError as e:
            errors.setdefault("credit_code", []).extend(e.messages)
    for f in CUSTOMER_PHONE_FIELDS:
        if f in data:
            try:
                data[f] = normalize_phone(data[f])
            except ValidationError as e:
                errors.setdefault(f, []).extend(e.messages)


def _resolve_owner(actor: User, owner: Any, errors: dict[str, list[str]]) -> User | None:
    if owner is None or owner == "":
        errors.setdefault("owner", []).append(_("Every customer needs an account manager."))
        return None
    owner_id = owner.pk if isinstance(owner, User) else owner
    user = User.objects.filter(pk=owner_id, is_active=True).first() if str(owner_id).isdigit() else None
    if user is None:
        errors.setdefault("owner", []).append(_("No such active user."))
        return None
    if not (user.is_admin or user.role in OWNER_ROLES):
        errors.setdefault("owner", []).append(_("Only account managers and managers can own customers."))
        return None
    return user


def _check_owner_allowed(actor: User, owner: User, errors: dict[str, list[str]]) -> None:
    if actor.is_admin or owner.pk == actor.pk:
        return
    if actor.role == Role.MANAGER and actor.department_id and owner.department_id == actor.department_id:
        return
    errors.setdefault("owner", []).append(
        _("You can assign customers only to yourself or, as a manager, to your department.")
    )


def _resolve_users(ids: Any, field: str, errors: dict[str, list[str]]) -> list[User]:
    ids = [i.pk if isinstance(i, User) else i for i in (ids or [])]
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("A list of user ids is expected."))
        return []
    users = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(users) != len(ids):
        errors.setdefault(field, []).append(_("Unknown or inactive user in the list."))
    return users


def _resolve_tags(names: Any) -> list[Tag]:
    if isinstance(names, str):
        names = [n for n in names.replace("，", ",").split(",")]
    clean = sorted({str(n).strip()[:50] for n in (names or []) if str(n).strip()})
    return [Tag.objects.get_or_create(name=n)[0] for n in clean]


def missing_required(customer: Customer, settings_: CustomerSettings | None = None) -> list[str]:
    """Required fields (configurable) that this customer lacks; key accounts need the overview."""
    st = settings_ or CustomerSettings.load()
    fields = list(st.required_fields)
    if customer.is_key_account:
        fields += [f for f in st.key_account_required_fields if f not in fields]
    fields = _applicable(customer, fields)
    return [f for f in fields if hasattr(customer, f) and getattr(customer, f) in (None, "")]


# Facts that only a company has; an individual (consumer) customer is never asked for them.
COMPANY_ONLY_FIELDS = {
    "credit_code", "industry", "employees", "annual_revenue", "registered_capital",
    "management_structure", "founded_on", "overview", "fax", "website", "decision_process",
}  # fmt: skip


def _applicable(customer: Customer, fields: list[str]) -> list[str]:
    if customer.kind == c.CustomerKind.INDIVIDUAL:
        return [f for f in fields if f not in COMPANY_ONLY_FIELDS]
    return fields


def profile_completeness(customer: Customer, settings_: CustomerSettings | None = None) -> int:
    """Share (0–100) of the profile's fields a key-account card expects that are filled in."""
    st = settings_ or CustomerSettings.load()
    fields = list(dict.fromkeys([*st.required_fields, *st.key_account_required_fields, *PROFILE_FIELDS]))
    fields = _applicable(customer, fields)
    filled = sum(1 for f in fields if getattr(customer, f, None) not in (None, ""))
    return round(100 * filled / len(fields)) if fields else 100


PROFILE_FIELDS = [
    "short_name", "industry", "province", "city", "address", "employees", "annual_revenue",
    "registered_capital", "management_structure", "founded_on", "overview", "phone", "email", "website",
    "acquisition_channel", "purchase_channel", "needs", "decision_process", "competitors", "preferences",
    "need_match", "our_advantages", "our_weaknesses", "credit_limit", "payment_terms",
    "value_level", "maintenance_tier", "strategic_type",
]  # fmt: skip


def _classification_rules(customer: Customer, before: dict[str, Any] | None, reason: str, errors) -> None:
    old_stage = (before or {}).get("lifecycle_stage")
    if before is not None and old_stage != customer.lifecycle_stage:
        allowed = c.LIFECYCLE_TRANSITIONS.get(old_stage, set())
        if customer.lifecycle_stage not in allowed:
            errors.setdefault("lifecycle_stage", []).append(
                _("A customer cannot move from %(old)s to %(new)s.")
                % {
                    "old": c.LifecycleStage(old_stage).label,
                    "new": c.LifecycleStage(customer.lifecycle_stage).label,
                }
            )
        if not reason:
            errors.setdefault("reason", []).append(_("Say why the lifecycle stage changes."))
    if customer.prospect_grade in c.GRADES_NEEDING_BUSINESS_NEED and not customer.business_need:
        errors.setdefault("business_need", []).append(
            _("Grades A–C need an explicit business need (what the customer needs to buy).")
        )


def _revenue_change_rule(
    customer: Customer, before: dict[str, Any] | None, reason: str, errors, st: CustomerSettings
) -> None:
    """A significant change of the customer's own annual revenue is only saved with a reason (C1)."""
    if before is None:
        return
    old, new = before.get("annual_revenue"), customer.annual_revenue
    if old in (None, 0) or new is None or old == new:
        return
    pct = abs(Decimal(new) - Decimal(old)) / Decimal(old) * 100
    if pct >= st.revenue_change_threshold_pct and not reason:
        errors.setdefault("reason", []).append(
            _("Annual revenue changes by %(pct)s%%: record the reason for so large a change.")
            % {"pct": f"{pct:.0f}"}
        )


def _validate_and_save(customer: Customer, *, actor: User, before, reason: str, errors) -> None:
    st = CustomerSettings.load()
    _classification_rules(customer, before, reason, errors)
    _revenue_change_rule(customer, before, reason, errors, st)
    missing = missing_required(customer, st)
    for f in missing:
        if f in errors:
            continue
        errors.setdefault(f, []).append(
            _("This field is required for a key account.")
            if customer.is_key_account and f not in st.required_fields
            else _("This field is required.")
        )
    try:
        customer.full_clean(exclude=["owner", "version"] + list(errors))
    except ValidationError as e:
        for k, v in e.message_dict.items():
            errors.setdefault(k, []).extend(v)
    if errors:
        raise ValidationFailed(errors)
    customer._history_user = actor
    customer._change_reason = reason or None
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise ValidationFailed.one("credit_code", _("Another customer already has this credit code."))


def _write_classification_history(customer, before, actor, reason) -> None:
    rows = []
    for f in c.CLASSIFICATION_FIELDS:
        old = (before or {}).get(f, "") or ""
        new = getattr(customer, f) or ""
        if old != new:
            rows.append(
                ClassificationChange(
                    customer=customer, field=f, old_value=old, new_value=new, changed_by=actor, reason=reason
                )
            )
    ClassificationChange.objects.bulk_create(rows)


def _check_fields(data: dict[str, Any], allowed: list[str] | set[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationFailed({k: [_("Unknown field.")] for k in unknown})


# --- customers ------------------------------------------------------------------------------------


def create_customer(*, actor: User, data: dict[str, Any], reason: str = "") -> Customer:
    if not (actor.is_admin or actor.role in (Role.MANAGER, Role.ACCOUNT_MANAGER)):
        raise Forbidden(_("Only account managers, managers and administrators create customers."))
    data = _clean_text(dict(data))
    reason = (reason or "").strip()
    _check_fields(data, [*CUSTOMER_FIELDS, *CUSTOMER_M2M])
    errors: dict[str, list[str]] = {}
    _normalize_customer_fields(data, errors)
    owner = _resolve_owner(actor, data.pop("owner", actor.pk), errors)
    if owner:
        _check_owner_allowed(actor, owner, errors)
    team_users = _resolve_users(data.pop("account_team", []), "account_team", errors)
    tag_names = data.pop("tags", [])
    with transaction.atomic():
        customer = Customer(**{k: v for k, v in data.items() if k not in errors})
        if owner:
            customer.owner = owner
            customer.department_id = owner.department_id
            customer.team_id = owner.team_id
        _validate_and_save(customer, actor=actor, before=None, reason=reason, errors=errors)
        customer.account_team.set(team_users)
        customer.tags.set(_resolve_tags(tag_names))
        _write_classification_history(customer, None, actor, reason or _("Created"))
        search.replace_terms(search.KIND_CUSTOMER, customer.pk, (), search.customer_terms(customer))
    return customer


def _snapshot(obj, fields) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def _get_for_change(actor: User, model, pk: int, action: str = "change"):
    """The record, if ``actor`` may ``action`` it; NotFound if they cannot even see it."""
    obj = scope(actor, model.objects.all(), action).filter(pk=pk).first()
    if obj is not None:
        return obj
    if scope(actor, model.objects.filter(pk=pk), "view").exists():
        raise Forbidden()
    raise NotFound()


def _claim_version(model, pk: int, version: Any) -> int:
    """Optimistic lock: bump the version only if it is still the one the caller read."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationFailed.one("version", _("Send the version of the record you read."))
    updated = model.objects.filter(pk=pk, version=version).update(version=F("version") + 1)
    if not updated:
        current = model.objects.filter(pk=pk).values_list("version", flat=True).first()
        raise Conflict(current)
    return version + 1


def update_customer(
    *, actor: User, customer_id: int, version: Any, data: dict[str, Any], reason: str = ""
) -> Customer:
    data = _clean_text(dict(data))
    reason = (reason or "").strip()
    _check_fields(data, [*CUSTOMER_FIELDS, *CUSTOMER_M2M])
    with transaction.atomic():
        customer = _get_for_change(actor, Customer, customer_id)
        new_version = _claim_version(Customer, customer_id, version)
        customer.refresh_from_db()
        before = _snapshot(customer, CUSTOMER_FIELDS)
        old_terms = search.customer_terms(customer)
        errors: dict[str, list[str]] = {}
        _normalize_customer_fields(data, errors)
        if "owner" in data:
            owner = _resolve_owner(actor, data.pop("owner"), errors)
            if owner and owner.pk != customer.owner_id:
                if not (actor.is_admin or actor.role == Role.MANAGER):
                    errors.setdefault("owner", []).append(_("Only a manager can hand a customer over."))
                else:
                    _check_owner_allowed(actor, owner, errors)
                if "owner" not in errors:
                    customer.owner = owner
                    customer.department_id = owner.department_id
                    customer.team_id = owner.team_id
        team_users = (
            _resolve_users(data.pop("account_team"), "account_team", errors)
            if "account_team" in data
            else None
        )
        if team_users is not None and actor.role == Role.ACCOUNT_MANAGER and not actor.is_admin:
            current = set(customer.account_team.values_list("pk", flat=True))
            if {u.pk for u in team_users} != current and customer.owner_id not in covered_user_ids(actor):
                errors.setdefault("account_team", []).append(
                    _("Only the account manager or a manager changes the account team.")
                )
                team_users = None
        tag_names = data.pop("tags", None)
        for k, v in data.items():
            if k not in errors:
                setattr(customer, k, v)
        customer.version = new_version
        customer.updated_at = timezone.now()
        _validate_and_save(customer, actor=actor, before=before, reason=reason, errors=errors)
        if team_users is not None:
            customer.account_team.set(team_users)
        if tag_names is not None:
            customer.tags.set(_resolve_tags(tag_names))
        old_owner = before.get("owner")
        if old_owner is not None and customer.owner_id != old_owner.pk:
            # a hand-over passes the open revenue-change reasons on to the new account manager
            RevenueReasonRequest.objects.filter(customer=customer, explained_at__isnull=True).update(
                owner=customer.owner
            )
        _write_classification_history(customer, before, actor, reason)
        search.replace_terms(search.KIND_CUSTOMER, customer.pk, old_terms, search.customer_terms(customer))
    return customer


def delete_customer(*, actor: User, customer_id: int, version: Any = None, reason: str = "") -> None:
    with transaction.atomic():
        customer = _get_for_change(actor, Customer, customer_id, "delete")
        if version is not None:
            _claim_version(Customer, customer_id, version)
        terms = search.customer_terms(customer)
        for contact in customer.contacts.all():
            search.replace_terms(search.KIND_CONTACT, contact.pk, search.contact_terms(contact), ())
            contact._history_user = actor
            contact.delete()
        customer._history_user = actor
        customer._change_reason = reason or None
        customer.delete()
        search.replace_terms(search.KIND_CUSTOMER, customer_id, terms, ())


# --- contacts -------------------------------------------------------------------------------------


def _normalize_contact_fields(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for f in CONTACT_PHONE_FIELDS:
        if f in data:
            try:
                data[f] = normalize_phone(data[f])
            except ValidationError as e:
                errors.setdefault(f, []).extend(e.messages)


def _validate_birthday(contact: Contact, errors) -> None:
    m, d = contact.birthday_month, contact.birthday_day
    if (m is None) != (d is None):
        errors.setdefault("birthday_day" if d is None else "birthday_month", []).append(
            _("Give both the month and the day of the birthday.")
        )
        return
    if m is None:
        if contact.birthday_leap_month:
            errors.setdefault("birthday_leap_month", []).append(_("A leap month needs a lunar birthday."))
        return
    if not contact.birthday_calendar:
        contact.birthday_calendar = c.BirthdayCalendar.SOLAR
    if not 1 <= m <= 12:
        errors.setdefault("birthday_month", []).append(_("The month is 1 to 12."))
        return
    if contact.birthday_calendar == c.BirthdayCalendar.LUNAR:
        if not 1 <= d <= 30:
            errors.setdefault("birthday_day", []).append(_("A lunar month has 29 or 30 days."))
    else:
        if contact.birthday_leap_month:
            errors.setdefault("birthday_leap_month", []).append(
                _("Only a lunar birthday can be in a leap month.")
            )
        try:
            datetime.date(2000, m, d)  # a leap year, so 29 February is allowed
        except ValueError:
            errors.setdefault("birthday_day", []).append(_("This day does not exist in that month."))
    if contact.birth_year and not 1900 <= contact.birth_year <= timezone.localdate().year:
        errors.setdefault("birth_year", []).append(_("Not a plausible year of birth."))


def parse_anniversaries(text: str) -> list[tuple[datetime.date, str]]:
    """``YYYY-MM-DD what`` per line → [(date, what)]; raises ValidationError on a bad line."""
    out = []
    for n, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        date_part, _sep, what = line.partition(" ")
        try:
            out.append((datetime.date.fromisoformat(date_part), what.strip()))
        except ValueError:
            raise ValidationError(
                _("Line %(n)s: start with a date as YYYY-MM-DD, then what it is.") % {"n": n}
            )
    return out


def _validate_and_save_contact(contact: Contact, actor: User, errors) -> None:
    _validate_birthday(contact, errors)
    try:
        parse_anniversaries(contact.anniversaries)
    except ValidationError as e:
        errors.setdefault("anniversaries", []).extend(e.messages)
    try:
        contact.full_clean(exclude=["customer", "version"] + list(errors))
    except ValidationError as e:
        for k, v in e.message_dict.items():
            errors.setdefault(k, []).extend(v)
    if errors:
        raise ValidationFailed(errors)
    contact._history_user = actor
    contact.save()


def create_contact(*, actor: User, customer_id: int, data: dict[str, Any]) -> Contact:
    data = _clean_text(dict(data))
    _check_fields(data, CONTACT_FIELDS)
    with transaction.atomic():
        customer = _get_for_change(actor, Customer, customer_id)
        errors: dict[str, list[str]] = {}
        _normalize_contact_fields(data, errors)
        contact = Contact(customer=customer, **{k: v for k, v in data.items() if k not in errors})
        _validate_and_save_contact(contact, actor, errors)
        search.replace_terms(search.KIND_CONTACT, contact.pk, (), search.contact_terms(contact))
    return contact


def update_contact(*, actor: User, contact_id: int, version: Any, data: dict[str, Any]) -> Contact:
    data = _clean_text(dict(data))
    _check_fields(data, CONTACT_FIELDS)
    with transaction.atomic():
        contact = _get_for_change(actor, Contact, contact_id)
        new_version = _claim_version(Contact, contact_id, version)
        contact.refresh_from_db()
        old_terms = search.contact_terms(contact)
        errors: dict[str, list[str]] = {}
        _normalize_contact_fields(data, errors)
        for k, v in data.items():
            if k not in errors:
                setattr(contact, k, v)
        contact.version = new_version
        contact.updated_at = timezone.now()
        _validate_and_save_contact(contact, actor, errors)
        search.replace_terms(search.KIND_CONTACT, contact.pk, old_terms, search.contact_terms(contact))
    return contact


def delete_contact(*, actor: User, contact_id: int, version: Any = None) -> None:
    with transaction.atomic():
        contact = _get_for_change(actor, Contact, contact_id, "delete")
        if version is not None:
            _claim_version(Contact, contact_id, version)
        terms = search.contact_terms(contact)
        contact._history_user = actor
        contact.delete()
        search.replace_terms(search.KIND_CONTACT, contact_id, terms, ())


# --- revenue change reasons (C1) ------------------------------------------------------------------


def month_start(value: datetime.date | str) -> datetime.date:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value if len(value) > 7 else value + "-01")
        except ValueError:
            raise ValidationFailed.one("period_start", _("Give the month as YYYY-MM."))
    return value.replace(day=1)


def _shift_month(d: datetime.date, months: int) -> datetime.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return datetime.date(y, m + 1, 1)


def significant_change(
    previous: Decimal, current: Decimal, threshold_pct: Decimal, min_base: Decimal
) -> tuple[bool, Decimal | None]:
    """Whether going from ``previous`` to ``current`` needs a reason, and the change in percent.

    Small accounts (both months below ``min_base``) never do; from nothing to something above the
    base does (the percentage is then undefined: None).
    """
    previous, current = Decimal(previous), Decimal(current)
    if max(abs(previous), abs(current)) < min_base:
        return False, None
    if previous == 0:
        return current != 0, None
    pct = (current - previous) / abs(previous) * 100
    return abs(pct) >= threshold_pct, pct.quantize(Decimal("0.01"))


def _evaluate_month(customer: Customer, period: datetime.date, st: CustomerSettings) -> None:
    figures = dict(
        RevenueFigure.objects.filter(
            customer=customer, period_start__in=[_shift_month(period, -1), period]
        ).values_list("period_start", "revenue")
    )
    current = figures.get(period)
    previous = figures.get(_shift_month(period, -1))
    existing = RevenueReasonRequest.objects.filter(customer=customer, period_start=period).first()
    needed, pct = (False, None)
    if current is not None and previous is not None:
        needed, pct = significant_change(
            previous, current, st.revenue_change_threshold_pct, st.revenue_change_min_base
        )
    if needed:
        if existing:
            existing.previous_revenue, existing.revenue, existing.change_pct = previous, current, pct
            existing.save(update_fields=["previous_revenue", "revenue", "change_pct"])
        else:
            RevenueReasonRequest.objects.create(
                customer=customer,
                period_start=period,
                previous_revenue=previous,
                revenue=current,
                change_pct=pct,
                owner=customer.owner,
            )
    elif existing and existing.is_open:
        existing.delete()


def record_revenue(
    *, actor: User | None, customer_id: int, period_start: datetime.date | str, revenue: Any
) -> RevenueFigure:
    """Set a customer's revenue for a month and apply the significant-change rule to it and to
    the month after it (whose base it is)."""
    period = month_start(period_start)
    try:
        revenue = Decimal(str(revenue))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.one("revenue", _("Enter a number."))
    with transaction.atomic():
        if actor is None:  # the system (later: the orders that keep revenue current)
            customer = Customer.objects.filter(pk=customer_id).first()
            if customer is None:
                raise NotFound()
        else:
            customer = _get_for_change(actor, Customer, customer_id)
        fig, _created = RevenueFigure.objects.update_or_create(
            customer=customer,
            period_start=period,
            defaults={"revenue": revenue, "updated_at": timezone.now()},
        )
        st = CustomerSettings.load()
        _evaluate_month(customer, period, st)
        _evaluate_month(customer, _shift_month(period, 1), st)
    return fig


def explain_revenue_change(*, actor: User, request_id: int, reason: str) -> RevenueReasonRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.one("reason", _("Write the reason."))
    with transaction.atomic():
        req = _get_for_change(actor, RevenueReasonRequest, request_id)
        req.reason = reason
        req.explained_by = actor
        req.explained_at = timezone.now()
        req.save(update_fields=["reason", "explained_by", "explained_at"])
    return req


def update_settings(*, actor: User, data: dict[str, Any]) -> CustomerSettings:
    if not actor.is_admin:
        raise Forbidden()
    st = CustomerSettings.load()
    allowed = {
        "revenue_change_threshold_pct", "revenue_change_min_base", "required_fields",
        "key_account_required_fields", "high_value_min_purchases", "mid_value_min_purchases",
    }  # fmt: skip
    _check_fields(data, allowed)
    valid_fields = set(CUSTOMER_FIELDS)
    errors: dict[str, list[str]] = {}
    for key in ("required_fields", "key_account_required_fields"):
        if key in data:
            bad = [f for f in data[key] if f not in valid_fields]
            if bad:
                errors[key] = [_("Unknown customer fields: %(f)s") % {"f": ", ".join(bad)}]
    for k, v in data.items():
        setattr(st, k, v)
    try:
        st.full_clean()
    except ValidationError as e:
        for k, v in e.message_dict.items():
            errors.setdefault(k, []).extend(v)
    if errors:
        raise ValidationFailed(errors)
    st.save()
    return st
