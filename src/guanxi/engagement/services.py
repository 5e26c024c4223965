"""Every write of visits, plans, cadence, care and the daily summary (C5–C7)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.customers.models import Contact, Customer
from guanxi.org.access import can, scope
from guanxi.org.models import User

from . import cadence, carecal
from .models import (
    OPEN_STATES,
    PLAN_TRANSITIONS,
    CadenceOverride,
    CadencePolicy,
    CadenceRequirement,
    CalendarFeed,
    CareSettings,
    CareState,
    CareTask,
    Category,
    CustomerEngagement,
    DailySummary,
    Gift,
    MessageTemplate,
    Method,
    Occasion,
    PlanState,
    RecordForm,
    Visit,
    VisitPlan,
)

PLAN_FIELDS = ("scheduled_at", "place", "method", "category", "purpose", "content", "trigger")
VISIT_FIELDS = (
    "form",
    "method",
    "category",
    "direction",
    "visited_on",
    "place",
    "scheduled_arrival",
    "actual_arrival",
    "received_by",
    "their_seniority",
    "our_people",
    "our_seniority",
    "content",
    "deal_progress",
    "feedback",
    "product_usage",
    "service_satisfaction",
    "opinion_of_us",
    "continuation",
    "follow_ups",
    "next_visit_on",
)
# the in-person fields the shorter phone form (电话回访记录表) leaves out
IN_PERSON_ONLY = (
    "place",
    "scheduled_arrival",
    "actual_arrival",
    "our_people",
    "our_seniority",
    "their_seniority",
)


def _customer_for_change(actor: User, customer_id: Any) -> Customer:
    try:
        customer_id = int(customer_id)
    except (TypeError, ValueError):
        raise ValidationFailed.one("customer", _("Choose a customer."))
    if not scope(actor, Customer.objects.filter(pk=customer_id), "view").exists():
        raise NotFound()
    customer = scope(actor, Customer.objects.filter(pk=customer_id), "change").first()
    if customer is None:
        raise Forbidden()
    return customer


def _contacts(customer: Customer, contact_ids) -> list[Contact]:
    ids = {int(i) for i in (contact_ids or []) if str(i).strip()}
    found = list(Contact.objects.filter(customer=customer, pk__in=ids))
    if len(found) != len(ids):
        raise ValidationFailed.one("contacts", _("Choose contacts of this customer."))
    return found


def _clean(obj, exclude: list[str]) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as e:
        raise ValidationFailed.from_django(e)


def _aware(value: Any) -> Any:
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _check_assignee(customer: Customer, assignee_id: Any, actor: User) -> User:
    if assignee_id in (None, ""):
        return actor
    assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None or not can(assignee, customer, "change"):
        raise ValidationFailed.one("assignee", _("Choose someone who looks after this customer."))
    return assignee


# --- plans (回访计划表) ------------------------------------------------------------------------------


def create_plan(
    *, actor: User, customer_id: Any, data: dict[str, Any], follows: Visit | None = None
) -> VisitPlan:
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        plan = VisitPlan(customer=customer, created_by=actor, follows=follows)
        for f in PLAN_FIELDS:
            if f in data and data[f] is not None:
                setattr(plan, f, _aware(data[f]) if f == "scheduled_at" else data[f])
        if not data.get("scheduled_at"):
            raise ValidationFailed.one("scheduled_at", _("Enter the date and time of the visit."))
        plan.assignee = _check_assignee(customer, data.get("assignee"), actor)
        _clean(plan, ["customer", "assignee", "follows", "created_by", "state_changed_by", "version"])
        plan._history_user = actor
        plan.save()
        plan.contacts.set(_contacts(customer, data.get("contacts")))
        return plan


def _plan_for_change(actor: User, plan_id: Any) -> VisitPlan:
    plan = scope(actor, VisitPlan.objects.filter(pk=plan_id), "view").select_related("customer").first()
    if plan is None:
        raise NotFound()
    if not scope(actor, VisitPlan.objects.filter(pk=plan.pk), "change").exists():
        raise Forbidden()
    return plan


def _claim(plan: VisitPlan, version: Any) -> None:
    if version in (None, ""):
        return
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationFailed.one("version", _("Send the version of the record you read."))
    if not VisitPlan.objects.filter(pk=plan.pk, version=version).update(version=F("version") + 1):
        raise Conflict(VisitPlan.objects.filter(pk=plan.pk).values_list("version", flat=True).first())
    plan.version = version + 1


def update_plan(*, actor: User, plan_id: Any, version: Any, data: dict[str, Any]) -> VisitPlan:
    with transaction.atomic():
        plan = _plan_for_change(actor, plan_id)
        if not plan.is_open:
            raise ValidationFailed.one("state", _("Only a planned or confirmed visit can be changed."))
        _claim(plan, version)
        for f in PLAN_FIELDS:
            if f in data and data[f] is not None:
                setattr(plan, f, _aware(data[f]) if f == "scheduled_at" else data[f])
        if "assignee" in data:
            plan.assignee = _check_assignee(plan.customer, data.get("assignee"), actor)
        _clean(plan, ["customer", "assignee", "follows", "created_by", "state_changed_by", "version"])
        plan._history_user = actor
        plan.save()
        if "contacts" in data:
            plan.contacts.set(_contacts(plan.customer, data.get("contacts")))
        return plan


def transition_plan(
    *, actor: User | None, plan_id: Any, to: str, note: str = "", version: Any = None
) -> VisitPlan:
    """Move a plan along planned → confirmed → done / missed / cancelled (done: by recording it)."""
    with transaction.atomic():
        plan = _plan_for_change(actor, plan_id) if actor is not None else VisitPlan.objects.get(pk=plan_id)
        if to == PlanState.DONE:
            raise ValidationFailed.one("state", _("A visit is done when its record is filled in."))
        _set_state(plan, to, actor, note, version)
        return plan


def _set_state(plan: VisitPlan, to: str, actor: User | None, note: str = "", version: Any = None) -> None:
    if to not in PlanState.values:
        raise ValidationFailed.one("state", _("Unknown state."))
    if to not in PLAN_TRANSITIONS[PlanState(plan.state)]:
        raise ValidationFailed.one(
            "state",
            _("A visit that is %(old)s cannot become %(new)s.")
            % {"old": PlanState(plan.state).label, "new": PlanState(to).label},
        )
    _claim(plan, version)
    plan.state = to
    plan.state_changed_by = actor
    plan.state_changed_at = timezone.now()
    plan.state_note = note
    plan._history_user = actor
    plan.save()


def mark_missed(as_of: datetime.date | datetime.datetime | None = None) -> int:
    """Plans still open after their day has passed become missed; returns how many."""
    if as_of is None:
        as_of = timezone.localdate()
    if isinstance(as_of, datetime.datetime):
        as_of = timezone.localtime(as_of).date() if timezone.is_aware(as_of) else as_of.date()
    start = timezone.make_aware(datetime.datetime.combine(as_of, datetime.time.min))
    stale = list(
        VisitPlan.objects.filter(state__in=OPEN_STATES, scheduled_at__lt=start, record__isnull=True).only(
            "pk", "state"
        )
    )
    n = 0
    for plan in stale:
        with transaction.atomic():
            plan = VisitPlan.objects.select_for_update().get(pk=plan.pk)
            if plan.state in OPEN_STATES:
                _set_state(plan, PlanState.MISSED, None, _("Its day passed without a visit record."))
                n += 1
    return n


# --- visit records (访问履历卡) ----------------------------------------------------------------------


def record_visit(*, actor: User, customer_id: Any = None, plan_id: Any = None, data: dict[str, Any]) -> Visit:
    """Fill in a visit record; the plan (if any) becomes done, the customer's summary moves on, and
    a next visit date creates the next plan."""
    with transaction.atomic():
        plan = None
        if plan_id not in (None, ""):
            plan = _plan_for_change(actor, plan_id)
            plan = VisitPlan.objects.select_for_update().get(pk=plan.pk)
            if customer_id not in (None, "") and int(customer_id) != plan.customer_id:
                raise ValidationFailed.one("plan", _("The plan is for another customer."))
            if plan.state not in OPEN_STATES:
                raise ValidationFailed.one("plan", _("This visit is already closed."))
            customer = plan.customer
        else:
            customer = _customer_for_change(actor, customer_id)
        visit = Visit(customer=customer, plan=plan, recorded_by=actor)
        for f in VISIT_FIELDS:
            if f in data and data[f] is not None:
                setattr(visit, f, _aware(data[f]))
        if plan is not None:
            visit.scheduled_arrival = visit.scheduled_arrival or plan.scheduled_at
            if "method" not in data:
                visit.method = plan.method
            if "category" not in data:
                visit.category = plan.category
            if not visit.place and plan.place:
                visit.place = plan.place
        if visit.form == RecordForm.PHONE:
            for f in IN_PERSON_ONLY:
                setattr(visit, f, None if f.endswith("arrival") else "")
            if "method" not in data:
                visit.method = Method.PHONE
        errors: dict[str, list[str]] = {}
        if not visit.visited_on:
            errors["visited_on"] = [_("Enter the date of the visit.")]
        elif visit.visited_on > timezone.localdate():
            errors["visited_on"] = [_("A visit is recorded after it happened: the date is in the future.")]
        if visit.next_visit_on and visit.visited_on and visit.next_visit_on <= visit.visited_on:
            errors.setdefault("next_visit_on", []).append(_("The next visit comes after this one."))
        if errors:
            raise ValidationFailed(errors)
        _clean(visit, ["customer", "plan", "recorded_by"])
        visit.save()
        visit.contacts.set(
            _contacts(customer, data.get("contacts"))
            if "contacts" in data
            else (list(plan.contacts.all()) if plan else [])
        )
        if plan is not None:
            _set_state(plan, PlanState.DONE, actor)
        note_contact(customer, visit.visited_on, visit.category)
        if visit.next_visit_on:
            at = timezone.make_aware(datetime.datetime.combine(visit.next_visit_on, datetime.time(10, 0)))
            create_plan(
                actor=actor,
                customer_id=customer.pk,
                follows=visit,
                data={
                    "scheduled_at": at,
                    "method": visit.method,
                    "category": Category.ROUTINE,
                    "trigger": "periodic",
                    "place": visit.place or "",
                    "purpose": visit.follow_ups[:500] if visit.follow_ups else "",
                    "assignee": plan.assignee_id if plan else actor.pk,
                    "contacts": [c.pk for c in visit.contacts.all()],
                },
            )
        return visit


# --- the per-customer summary and cadence (C6) ---------------------------------------------------


def note_contact(customer: Customer, day: datetime.date, category: str) -> CustomerEngagement:
    """Add one contact to the customer's summary (no scan of the visits)."""
    summary, _created = CustomerEngagement.objects.select_for_update().get_or_create(customer=customer)
    kinds = [cadence.CONTACT] + ([category] if category and category != cadence.CONTACT else [])
    summary.recent = cadence.add_date(summary.recent or {}, kinds, day)
    if summary.last_contact_on is None or day > summary.last_contact_on:
        summary.last_contact_on = day
    summary.contacts_total += 1
    summary.cadence_due_on = _due(customer, summary.recent)
    summary.save()
    return summary


def policy_for(customer: Customer) -> CadencePolicy | None:
    """The policy of the customer's strategic type, else of its maintenance tier."""
    for dimension in ("strategic_type", "maintenance_tier"):
        value = getattr(customer, dimension)
        if value:
            policy = CadencePolicy.objects.filter(dimension=dimension, value=value, active=True).first()
            if policy is not None and policy.requirements.exists():
                return policy
    return None


def requirements_of(policy: CadencePolicy | None) -> list[cadence.Requirement]:
    if policy is None:
        return []
    return [cadence.Requirement(r.kind, r.count, r.period_days) for r in policy.requirements.all()]


def _scale(customer: Customer) -> int:
    override = CadenceOverride.objects.filter(customer=customer).first()
    return override.period_scale_pct if override else 100


def _due(customer: Customer, recent: dict, since: datetime.date | None = None) -> datetime.date | None:
    reqs = requirements_of(policy_for(customer))
    if not reqs:
        return None
    since = since or timezone.localtime(customer.created_at).date()
    return cadence.due_on(cadence.evaluate(reqs, recent, timezone.localdate(), since, _scale(customer)))


def refresh_summary(customer: Customer, since: datetime.date | None = None) -> CustomerEngagement | None:
    """Recompute the cadence due date from the summary (after a policy, override or class change).
    ``since``: when the customer came under its policy (default: when it was created)."""
    summary = CustomerEngagement.objects.filter(customer=customer).first()
    due = _due(customer, summary.recent if summary else {}, since)
    if summary is None:
        if due is None:
            return None
        return CustomerEngagement.objects.create(customer=customer, cadence_due_on=due)
    if summary.cadence_due_on != due:
        summary.cadence_due_on = due
        summary.save(update_fields=["cadence_due_on"])
    return summary


def refresh_all(customers=None) -> int:
    n = 0
    for customer in customers if customers is not None else Customer.objects.all().iterator():
        refresh_summary(customer)
        n += 1
    return n


def _admin_only(actor: User) -> None:
    if not (actor and actor.is_admin):
        raise Forbidden(_("Only an administrator changes the cadence policies."))


def save_policy(
    *,
    actor: User,
    dimension: str,
    value: str,
    requirements: list[dict[str, Any]],
    max_contacts_30d: Any = None,
    service_plan: str | None = None,
    active: bool = True,
) -> CadencePolicy:
    _admin_only(actor)
    from guanxi.customers import choices as c

    valid = {"strategic_type": c.StrategicType.values, "maintenance_tier": c.MaintenanceTier.values}
    if dimension not in valid:
        raise ValidationFailed.one("dimension", _("Choose strategic type or maintenance tier."))
    if value not in valid[dimension]:
        raise ValidationFailed.one("value", _("Unknown value."))
    errors: dict[str, list[str]] = {}
    clean = []
    kinds = {cadence.CONTACT, *Category.values}
    for i, r in enumerate(requirements):
        try:
            kind, count, period = r["kind"], int(r["count"]), int(r["period_days"])
        except (KeyError, TypeError, ValueError):
            errors.setdefault("requirements", []).append(_("Requirement %(n)s is incomplete.") % {"n": i + 1})
            continue
        if kind not in kinds or not 1 <= count <= cadence.KEEP or not 1 <= period <= 3660:
            errors.setdefault("requirements", []).append(
                _("Requirement %(n)s: a known kind, at least 1 contact, every 1 to 3660 days.") % {"n": i + 1}
            )
            continue
        clean.append((kind, count, period))
    if max_contacts_30d not in (None, ""):
        try:
            max_contacts_30d = int(max_contacts_30d)
            if not 1 <= max_contacts_30d <= 1000:
                raise ValueError
        except (TypeError, ValueError):
            errors["max_contacts_30d"] = [_("Enter a number from 1 to 1000.")]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        policy, _created = CadencePolicy.objects.get_or_create(dimension=dimension, value=value)
        policy.active = bool(active)
        if max_contacts_30d not in (None, ""):
            policy.max_contacts_30d = max_contacts_30d
        if service_plan is not None:
            policy.service_plan = service_plan
        policy.updated_at = timezone.now()
        policy.save()
        policy.requirements.all().delete()
        CadenceRequirement.objects.bulk_create(
            CadenceRequirement(policy=policy, kind=k, count=n, period_days=p) for k, n, p in clean
        )
        refresh_all(Customer.objects.filter(**{dimension: value}).iterator())
    return policy


def set_override(
    *, actor: User, customer_id: Any, period_scale_pct: Any, max_contacts_30d: Any = None, reason: str = ""
) -> CadenceOverride | None:
    errors: dict[str, list[str]] = {}
    try:
        scale = int(period_scale_pct)
        if not 10 <= scale <= 1000:
            raise ValueError
    except (TypeError, ValueError):
        errors["period_scale_pct"] = [_("Enter a percentage from 10 to 1000.")]
        scale = 100
    if max_contacts_30d in ("",):
        max_contacts_30d = None
    if max_contacts_30d is not None:
        try:
            max_contacts_30d = int(max_contacts_30d)
            if not 1 <= max_contacts_30d <= 1000:
                raise ValueError
        except (TypeError, ValueError):
            errors["max_contacts_30d"] = [_("Enter a number from 1 to 1000.")]
    if scale != 100 and not (reason or "").strip():
        errors["reason"] = [_("Say why this customer's cadence differs from the policy.")]
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        if errors:
            raise ValidationFailed(errors)
        if scale == 100 and max_contacts_30d is None:
            CadenceOverride.objects.filter(customer=customer).delete()
            refresh_summary(customer)
            return None
        override, _created = CadenceOverride.objects.update_or_create(
            customer=customer,
            defaults={
                "period_scale_pct": scale,
                "max_contacts_30d": max_contacts_30d,
                "reason": reason.strip(),
                "changed_by": actor,
                "changed_at": timezone.now(),
            },
        )
        refresh_summary(customer)
        return override


# --- the end-of-day summary (工作总结) ---------------------------------------------------------------


def save_daily_summary(
    *, actor: User, day: datetime.date | None = None, text: str, problems: str = "", tomorrow: str = ""
) -> DailySummary:
    day = day or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationFailed.one("day", _("A summary is written on the day or after it."))
    if not (text or "").strip():
        raise ValidationFailed.one("text", _("Write what you did today."))
    with transaction.atomic():
        summary, _created = DailySummary.objects.update_or_create(
            user=actor,
            day=day,
            defaults={
                "text": text.strip(),
                "problems": (problems or "").strip(),
                "tomorrow": (tomorrow or "").strip(),
                "updated_at": timezone.now(),
            },
        )
        return summary


def mark_summaries_read(*, actor: User, summary_ids) -> int:
    """The manager has read these summaries of the team (the author sees when)."""
    if not (actor.is_admin or actor.role == "manager"):
        return 0
    visible = scope(actor, DailySummary.objects.filter(pk__in=list(summary_ids)), "view").exclude(user=actor)
    return visible.filter(read_by_manager_at__isnull=True).update(read_by_manager_at=timezone.now())


# --- customer care (C7) ---------------------------------------------------------------------------


def _festival_customers():
    settings_ = CareSettings.load()
    from django.db.models import Q

    return Customer.objects.filter(Q(is_key_account=True) | Q(maintenance_tier__in=settings_.festival_tiers))


def generate_care_tasks(as_of: datetime.date | None = None, customers=None) -> int:
    """Greeting tasks for birthdays, anniversaries and festivals in the next ``days_ahead`` days
    (titles stored in the site's language, whoever's request made them)."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return _generate_care_tasks(as_of, customers)


def _generate_care_tasks(as_of: datetime.date | None, customers) -> int:
    as_of = as_of or timezone.localdate()
    end = as_of + datetime.timedelta(days=CareSettings.load().days_ahead)
    made = 0
    base = Customer.objects.all() if customers is None else customers
    contacts = Contact.objects.filter(customer__in=base).filter(
        birthday_month__isnull=False
    ) | Contact.objects.filter(customer__in=base).exclude(anniversaries="")
    for contact in contacts.select_related("customer").distinct():
        for occ in carecal.contact_occasions(contact, as_of, end):
            made += _task(contact.customer, contact, occ)
    festivals = carecal.festival_occasions(as_of, end)
    if festivals:
        for customer in _festival_customers().filter(pk__in=base.values("pk")):
            primary = customer.contacts.order_by("-is_primary", "id").first()
            for occ in festivals:
                made += _task(customer, primary, occ)
    return made


def _task(customer: Customer, contact: Contact | None, occ: carecal.Occurrence) -> int:
    _obj, created = CareTask.objects.get_or_create(
        customer=customer,
        key=occ.key[:80],
        defaults={
            "contact": contact,
            "occasion": occ.occasion,
            "title": occ.title[:100],
            "occurs_on": occ.day,
            "assignee_id": customer.owner_id,
        },
    )
    return int(created)


def _task_for_change(actor: User, task_id: Any) -> CareTask:
    task = scope(actor, CareTask.objects.filter(pk=task_id), "view").first()
    if task is None:
        raise NotFound()
    if not scope(actor, CareTask.objects.filter(pk=task.pk), "change").exists():
        raise Forbidden()
    return task


def close_care_task(*, actor: User, task_id: Any, state: str = CareState.DONE, message: str = "") -> CareTask:
    with transaction.atomic():
        task = _task_for_change(actor, task_id)
        if state not in (CareState.DONE, CareState.SKIPPED):
            raise ValidationFailed.one("state", _("Mark the greeting done or skipped."))
        if task.state != CareState.OPEN:
            raise ValidationFailed.one("state", _("This greeting is already closed."))
        task.state = state
        task.message = message or ""
        task.done_by = actor
        task.done_at = timezone.now()
        task.save()
        return task


def record_gift(*, actor: User, customer_id: Any, data: dict[str, Any]) -> Gift:
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        gift = Gift(customer=customer, given_by=actor)
        for f in ("given_on", "description", "value", "occasion"):
            if data.get(f) not in (None, ""):
                setattr(gift, f, data[f])
        if data.get("contact"):
            found = _contacts(customer, [data["contact"]])
            gift.contact = found[0]
        if data.get("task"):
            gift.task = _task_for_change(actor, data["task"])
            if gift.task.customer_id != customer.pk:
                raise ValidationFailed.one("task", _("The greeting is for another customer."))
        _clean(gift, ["customer", "given_by", "contact", "task"])
        gift._history_user = actor
        gift.save()
        return gift


# --- the calendar feed ----------------------------------------------------------------------------


def calendar_token(*, actor: User, rotate: bool = False) -> str:
    with transaction.atomic():
        feed = CalendarFeed.objects.filter(user=actor).first()
        if feed is None:
            feed = CalendarFeed.objects.create(user=actor, token=CalendarFeed.new_token())
        elif rotate:
            feed.token = CalendarFeed.new_token()
            feed.created_at = timezone.now()
            feed.save()
        return feed.token


def revoke_calendar(*, actor: User) -> None:
    CalendarFeed.objects.filter(user=actor).delete()


# --- care settings and message templates (C7, administrators) -------------------------------------

CARE_DAYS_AHEAD_MAX = 60
TEMPLATE_KINDS = ("message", "card", "coupon")
TEMPLATE_LANGUAGES = ("zh-hans", "en")
# the sample a template is rendered with before it is saved: every placeholder a template may use
TEMPLATE_SAMPLE = {
    "name": "李建国",
    "customer": "华东精密机械有限公司",
    "occasion": "中秋节",
    "sender": "王芳",
}


def _care_admin_only(actor: User) -> None:
    if not (actor and actor.is_admin):
        raise Forbidden(_("Only an administrator changes the care settings and message templates."))


def update_care_settings(*, actor: User, data: dict[str, Any]) -> CareSettings:
    """Change how many days ahead greeting tasks are made and which maintenance tiers get festival
    greetings (key accounts always do). Fields left out of ``data`` stay as they are."""
    from guanxi.customers.choices import MaintenanceTier

    _care_admin_only(actor)
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if "days_ahead" in data:
        try:
            days = int(data["days_ahead"])
            if isinstance(data["days_ahead"], bool) or not 0 <= days <= CARE_DAYS_AHEAD_MAX:
                raise ValueError
            changes["days_ahead"] = days
        except (TypeError, ValueError):
            errors["days_ahead"] = [
                _("Enter a whole number of days from 0 to %(max)s.") % {"max": CARE_DAYS_AHEAD_MAX}
            ]
    if "festival_tiers" in data:
        tiers = data["festival_tiers"]
        if tiers is None:
            tiers = []
        if isinstance(tiers, str) or not isinstance(tiers, (list, tuple, set)):
            errors["festival_tiers"] = [_("Give a list of maintenance tiers.")]
        else:
            unknown = [str(t) for t in tiers if t not in MaintenanceTier.values]
            if unknown:
                errors["festival_tiers"] = [
                    _("Unknown maintenance tier: %(tiers)s.") % {"tiers": ", ".join(unknown)}
                ]
            else:
                changes["festival_tiers"] = [t for t in MaintenanceTier.values if t in set(tiers)]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        CareSettings.load()
        obj = CareSettings.objects.select_for_update().get(pk=1)
        for field, value in changes.items():
            setattr(obj, field, value)
        obj.save()
    return obj


def check_template_body(body: Any) -> list[str]:
    """The problems of a template text (empty when it renders with the sample data)."""
    if not isinstance(body, str) or not body.strip():
        return [_("Write the text of the message.")]
    try:
        body.format(**TEMPLATE_SAMPLE)
    except KeyError as e:
        return [
            _("Unknown placeholder {%(name)s}; use {name}, {customer}, {occasion} or {sender}.")
            % {"name": e.args[0]}
        ]
    except (IndexError, ValueError, AttributeError):
        return [
            _(
                "The braces do not form placeholders; use {name}, {customer}, {occasion} or {sender}, "
                "and write a literal brace twice ({{ or }})."
            )
        ]
    return []


def save_message_template(*, actor: User, template_id: Any = None, data: dict[str, Any]) -> MessageTemplate:
    """Create (``template_id`` None) or change a greeting template; ``active=False`` deactivates it
    (it stays on record but is no longer suggested). Fields left out of ``data`` stay as they are."""
    _care_admin_only(actor)
    with transaction.atomic():
        if template_id is None:
            template = MessageTemplate()
            required = ("occasion", "channel", "language", "body")
        else:
            try:
                template = MessageTemplate.objects.select_for_update().get(pk=int(template_id))
            except (MessageTemplate.DoesNotExist, TypeError, ValueError):
                raise NotFound()
            required = ()
        errors: dict[str, list[str]] = {}
        allowed = {
            "occasion": Occasion.values,
            "channel": TEMPLATE_KINDS,
            "language": TEMPLATE_LANGUAGES,
        }
        for field, values in allowed.items():
            if field in data and data[field] is not None:
                if data[field] not in values:
                    errors[field] = [_("Choose one of: %(values)s.") % {"values": ", ".join(values)}]
                else:
                    setattr(template, field, data[field])
            elif field in required:
                errors[field] = [_("This field is required.")]
        if "body" in data and data["body"] is not None or "body" in required:
            problems = check_template_body(data.get("body"))
            if problems:
                errors["body"] = problems
            else:
                template.body = data["body"].strip()
        if "active" in data and data["active"] is not None:
            template.active = bool(data["active"])
        if errors:
            raise ValidationFailed(errors)
        template.updated_at = timezone.now()
        template.save()
    return template
