"""Every write of the service desk (C8). One transaction per business action; each step of a
ticket is a TicketEvent (who, when, what) so that the ticket's timeline is its audit trail."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.customers.models import Contact, Customer
from guanxi.org.access import can, scope
from guanxi.org.models import Department, Role, User

from . import mail, sla
from .models import (
    Attachment,
    Cause,
    Channel,
    ClockUnit,
    Evaluation,
    ImprovementAction,
    Kind,
    ManualDay,
    ManualYear,
    PublicLink,
    ReplyLanguage,
    ServiceSettings,
    Severity,
    SlaPolicy,
    State,
    Ticket,
    TicketEvent,
)

CREATE_ROLES = (Role.ADMIN, Role.SERVICE_AGENT, Role.MANAGER, Role.ACCOUNT_MANAGER)
MAX_FILE_BYTES = 20 * 1024 * 1024

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "acknowledge": ({State.NEW}, State.ACKNOWLEDGED),
    "start": ({State.ACKNOWLEDGED}, State.IN_PROGRESS),
    "resolve": ({State.IN_PROGRESS}, State.RESOLVED),
    "close": ({State.RESOLVED}, State.CLOSED),
    "reopen": ({State.RESOLVED, State.CLOSED}, State.IN_PROGRESS),
}
# the actions that need a note, and what the note is
NOTE_REQUIRED = {"start", "resolve", "reopen"}


def action_labels() -> dict[str, str]:
    return {
        "acknowledge": _("Acknowledge"),
        "start": _("Start work with a plan"),
        "resolve": _("Resolve"),
        "close": _("Close: the customer confirmed"),
        "reopen": _("Reopen"),
    }


def allowed_actions(state: str) -> list[str]:
    return [a for a, (sources, _target) in TRANSITIONS.items() if state in sources]


# --- helpers --------------------------------------------------------------------------------------


def _text(data: dict[str, Any], name: str, *, max_length: int | None = None) -> str:
    v = data.get(name)
    v = "" if v is None else str(v).strip()
    return v[:max_length] if max_length else v


def _when(value: Any, field: str, errors: dict[str, list[str]]) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        dt = value
    else:
        dt = parse_datetime(str(value))
        if dt is None:
            d = parse_date(str(value))
            dt = datetime.datetime.combine(d, datetime.time(9, 0)) if d else None
        if dt is None:
            errors.setdefault(field, []).append(_("Enter a valid date and time."))
            return None
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt)
    return dt


def _claim_version(pk: int, version: Any) -> int:
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationFailed.one("version", _("Send the version of the record you read."))
    if not Ticket.objects.filter(pk=pk, version=version).update(version=F("version") + 1):
        raise Conflict(Ticket.objects.filter(pk=pk).values_list("version", flat=True).first())
    return version + 1


def _ticket_for_change(actor: User, ticket_id: int) -> Ticket:
    t = scope(actor, Ticket.objects.select_for_update().filter(pk=ticket_id), "change").first()
    if t is not None:
        return t
    if scope(actor, Ticket.objects.filter(pk=ticket_id), "view").exists():
        raise Forbidden()
    raise NotFound()


def _event(ticket: Ticket, type_: str, actor: User | None, note: str = "", **kw) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, type=type_, actor=actor, note=note, **kw)


def service_department() -> Department | None:
    return Department.objects.filter(kind="service").order_by("pk").first()


def _check_assignee(errors, department: Department | None, assignee_id: Any) -> User | None:
    if assignee_id in (None, ""):
        return None
    user = User.objects.filter(pk=assignee_id, is_active=True).first()
    if user is None:
        errors.setdefault("assignee", []).append(_("Choose an active user."))
    elif department is not None and user.department_id != department.pk:
        errors.setdefault("assignee", []).append(
            _("The assignee must belong to the responsible department %(d)s.") % {"d": department}
        )
    return user


# --- creating tickets -----------------------------------------------------------------------------


def _validate_ticket(data: dict[str, Any], errors: dict[str, list[str]], *, public: bool = False) -> dict:
    clean: dict[str, Any] = {}
    kind = _text(data, "kind")
    if kind not in Kind.values:
        errors.setdefault("kind", []).append(_("Choose inquiry, complaint or suggestion."))
    clean["kind"] = kind
    channel = _text(data, "channel") or (Channel.WEB_FORM if public else "")
    if channel not in Channel.values:
        errors.setdefault("channel", []).append(_("Choose the channel the customer used."))
    clean["channel"] = channel
    severity = _text(data, "severity") or Severity.NORMAL
    if severity not in Severity.values:
        errors.setdefault("severity", []).append(_("Choose a severity."))
    clean["severity"] = severity
    for name, limit in (("subject", 200),):
        clean[name] = _text(data, name, max_length=limit)
        if not clean[name]:
            errors.setdefault(name, []).append(_("This field is required."))
    clean["description"] = _text(data, "description")
    if not clean["description"]:
        errors.setdefault("description", []).append(_("Describe the matter."))
    elif len(clean["description"]) > 10000:
        errors.setdefault("description", []).append(_("At most 10,000 characters."))
    for name in ("impact_scope", "expectation"):
        clean[name] = _text(data, name, max_length=5000)
    clean["occurred_at"] = _when(data.get("occurred_at"), "occurred_at", errors)
    cause = _text(data, "cause")
    if cause and cause not in Cause.values:
        errors.setdefault("cause", []).append(_("Choose a cause category."))
    if kind == Kind.COMPLAINT and not public:
        if not cause:
            errors.setdefault("cause", []).append(_("A complaint needs its cause category."))
        if not clean["expectation"]:
            errors.setdefault("expectation", []).append(_("Record what the customer expects."))
    clean["cause"] = cause
    promised = _when(data.get("promised_reply_at"), "promised_reply_at", errors)
    if promised and kind != Kind.INQUIRY:
        errors.setdefault("promised_reply_at", []).append(_("Only an inquiry carries a promised reply time."))
    clean["promised_reply_at"] = promised
    language = _text(data, "reply_language")
    if not language and public:
        language = ReplyLanguage.EN if (translation.get_language() or "").startswith("en") else ""
    language = language or ReplyLanguage.ZH_HANS
    if language not in ReplyLanguage.values:
        errors.setdefault("reply_language", []).append(_("Choose Chinese or English."))
    clean["reply_language"] = language
    return clean


def _open(ticket: Ticket, actor: User | None, *, by_customer: bool = False) -> Ticket:
    clocks = sla.clocks_for(ticket.kind, ticket.severity, ticket.created_at)
    ticket.response_due = clocks.response_due
    ticket.plan_due = clocks.plan_due
    ticket.sla_note = clocks.note
    ticket.sla_fallback = clocks.fallback
    ticket.save()
    _event(
        ticket,
        TicketEvent.Type.CREATED,
        actor,
        to_state=State.NEW,
        to_department=ticket.department,
        to_assignee=ticket.assignee,
        by_customer=by_customer,
    )
    return ticket


def create_ticket(*, actor: User, data: dict[str, Any]) -> Ticket:
    if not actor or not (actor.is_admin or actor.role in CREATE_ROLES):
        raise Forbidden(_("Your role does not open tickets."))
    errors: dict[str, list[str]] = {}
    clean = _validate_ticket(data, errors)
    customer = None
    cid = data.get("customer_id") or data.get("customer")
    if cid in (None, ""):
        errors.setdefault("customer", []).append(_("Choose the customer."))
    else:
        customer = scope(actor, Customer.objects.filter(pk=cid), "view").first()
        if customer is None:
            errors.setdefault("customer", []).append(_("No such customer in your scope."))
    contact = None
    ctid = data.get("contact_id") or data.get("contact")
    if ctid not in (None, "") and customer is not None:
        contact = Contact.objects.filter(pk=ctid, customer=customer).first()
        if contact is None:
            errors.setdefault("contact", []).append(_("The contact must be one of the customer's contacts."))
    dept_id = data.get("department_id") or data.get("department")
    department = (
        Department.objects.filter(pk=dept_id).first() if dept_id not in (None, "") else service_department()
    )
    if department is None:
        errors.setdefault("department", []).append(_("Choose the responsible department."))
    assignee = _check_assignee(errors, department, data.get("assignee_id") or data.get("assignee"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        ticket = Ticket(
            **clean,
            customer=customer,
            contact=contact,
            department=department,
            assignee=assignee,
            created_by=actor,
            created_at=timezone.now(),
        )
        return _open(ticket, actor)


def submit_public(*, token: str, data: dict[str, Any]) -> Ticket:
    """A customer's ticket through the secret link of the public form (no account)."""
    link = PublicLink.objects.select_related("customer").filter(token=token).first()
    if link is None:
        raise NotFound()
    errors: dict[str, list[str]] = {}
    data = {**data, "channel": Channel.WEB_FORM, "severity": Severity.NORMAL}
    clean = _validate_ticket(data, errors, public=True)
    clean["promised_reply_at"] = None
    name = _text(data, "reporter_name", max_length=100)
    phone = _text(data, "reporter_phone", max_length=40)
    email = _text(data, "reporter_email", max_length=254)
    if not name:
        errors.setdefault("reporter_name", []).append(_("Tell us your name."))
    if not phone and not email:
        errors.setdefault("reporter_phone", []).append(_("Leave a phone number or an email address."))
    if email and ("@" not in email or "." not in email.split("@")[-1]):
        errors.setdefault("reporter_email", []).append(_("Enter a valid email address."))
    department = service_department()
    if department is None:
        errors.setdefault("__all__", []).append(_("The service desk is not set up yet; please call us."))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        ticket = Ticket(
            **clean,
            customer=link.customer,
            department=department,
            reporter_name=name,
            reporter_phone=phone,
            reporter_email=email,
            created_at=timezone.now(),
        )
        return _open(ticket, None, by_customer=True)


def public_link(*, actor: User, customer_id: int, renew: bool = False) -> PublicLink:
    """The customer's secret form link (made on first use; ``renew`` replaces a leaked one)."""
    customer = scope(actor, Customer.objects.filter(pk=customer_id), "view").first()
    if customer is None:
        raise NotFound()
    if not (actor.is_admin or actor.role == Role.SERVICE_AGENT or can(actor, customer, "change")):
        raise Forbidden()
    from .models import new_token

    with transaction.atomic():
        link, created = PublicLink.objects.get_or_create(customer=customer)
        if renew and not created:
            link.token = new_token()
            link.created_at = timezone.now()
            link.save()
    return link


# --- the flow -------------------------------------------------------------------------------------


def _apply(ticket: Ticket, action: str, note: str, now: datetime.datetime) -> str:
    sources, target = TRANSITIONS[action]
    if ticket.state not in sources:
        raise ValidationFailed.one(
            "action",
            _("A ticket that is “%(state)s” cannot be “%(action)s”. Possible now: %(possible)s.")
            % {
                "state": State(ticket.state).label,
                "action": action_labels()[action],
                "possible": ", ".join(action_labels()[a] for a in allowed_actions(ticket.state)) or "—",
            },
        )
    if action in NOTE_REQUIRED and not note:
        msg = {
            "start": _("Write down the plan (处理方案)."),
            "resolve": _("Write down how it was resolved."),
            "reopen": _("Write down why the customer is not satisfied."),
        }[action]
        raise ValidationFailed.one("note", msg)
    previous = ticket.state
    ticket.state = target
    if action == "acknowledge":
        ticket.acknowledged_at = now
    elif action == "start":
        ticket.started_at = now
        ticket.plan = note
    elif action == "resolve":
        ticket.resolved_at = now
        ticket.resolution = note
    elif action == "close":
        ticket.closed_at = now
    elif action == "reopen":
        # a new cycle: a new plan clock from now (the ticket's policy); the first cycle's clocks
        # and stops stay untouched so the quality figures count it once
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.reopen_count += 1
        ticket.reopened_at = now
        ticket.reopen_due = sla.clocks_for(ticket.kind, ticket.severity, now).plan_due
        ticket.escalated_at = None
    return previous


def _after(ticket: Ticket, action: str, actor: User | None) -> None:
    """What follows a transition, inside its transaction: the timeline note of a reopen's new
    deadline, the customer's email (sent once the transaction has committed)."""
    if action == "reopen":
        _event(
            ticket,
            TicketEvent.Type.NOTE,
            actor,
            _("Reopened (%(n)s): new plan deadline %(due)s.")
            % {
                "n": ticket.reopen_count,
                "due": timezone.localtime(ticket.reopen_due).strftime("%Y-%m-%d %H:%M"),
            },
        )
    elif action == "acknowledge":
        mail.send_after_commit(ticket, "acknowledged")
    elif action == "resolve":
        mail.send_after_commit(ticket, "resolved")


def transition(*, actor: User, ticket_id: int, action: str, version: Any, note: str = "") -> Ticket:
    if action not in TRANSITIONS:
        raise ValidationFailed.one("action", _("Unknown action %(a)s.") % {"a": action})
    note = (note or "").strip()
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        now = timezone.now()
        previous = _apply(ticket, action, note, now)
        ticket.version = _claim_version(ticket.pk, version)
        ticket.save()
        _event(ticket, TicketEvent.Type.TRANSITION, actor, note, from_state=previous, to_state=ticket.state)
        _after(ticket, action, actor)
    return ticket


def customer_answer(*, token: str, confirm: bool, note: str = "") -> Ticket:
    """The customer confirms a resolved ticket (closed) or reopens it, through the personal link."""
    note = (note or "").strip()[:5000]
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(public_token=token).first()
        if ticket is None:
            raise NotFound()
        if ticket.state != State.RESOLVED:
            raise ValidationFailed.one("__all__", _("This request is not waiting for your confirmation."))
        action = "close" if confirm else "reopen"
        if not confirm and not note:
            raise ValidationFailed.one("note", _("Please tell us what is still not right."))
        previous = _apply(ticket, action, note, timezone.now())
        ticket.version = F("version") + 1
        ticket.save()
        ticket.refresh_from_db()
        _event(
            ticket,
            TicketEvent.Type.TRANSITION,
            None,
            note,
            from_state=previous,
            to_state=ticket.state,
            by_customer=True,
        )
        _after(ticket, action, None)
    return ticket


def transfer(
    *, actor: User, ticket_id: int, version: Any, department_id: Any, assignee_id: Any = None, note: str = ""
) -> Ticket:
    """Hand the ticket to another department (or another person in it); recorded on the timeline."""
    errors: dict[str, list[str]] = {}
    department = (
        Department.objects.filter(pk=department_id).first() if department_id not in (None, "") else None
    )
    if department is None:
        errors["department"] = [_("Choose the responsible department.")]
    assignee = _check_assignee(errors, department, assignee_id)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        if ticket.state == State.CLOSED:
            raise ValidationFailed.one("department", _("A closed ticket is not transferred."))
        if ticket.department_id == department.pk and ticket.assignee_id == (
            assignee.pk if assignee else None
        ):
            raise ValidationFailed.one("department", _("The ticket is already there."))
        previous = ticket.department
        ticket.department = department
        ticket.assignee = assignee
        ticket.escalated_at = None
        ticket.version = _claim_version(ticket.pk, version)
        ticket.save()
        _event(
            ticket,
            TicketEvent.Type.TRANSFER,
            actor,
            (note or "").strip(),
            from_department=previous,
            to_department=department,
            to_assignee=assignee,
        )
    return ticket


def add_note(*, actor: User, ticket_id: int, note: str) -> TicketEvent:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.one("note", _("Write the note."))
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        return _event(ticket, TicketEvent.Type.NOTE, actor, note[:10000])


# --- complaint card, files, suggestions -----------------------------------------------------------

CARD_FIELDS = ("cause", "course_of_events", "customer_position", "dispute", "dispute_outcome")


def update_card(*, actor: User, ticket_id: int, version: Any, data: dict[str, Any]) -> Ticket:
    """The complaint card (抱怨管理卡): cause, course of events, the customer's position and reasons,
    the dispute and how it ended."""
    cause = _text(data, "cause")
    if cause and cause not in Cause.values:
        raise ValidationFailed.one("cause", _("Choose a cause category."))
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        if ticket.kind != Kind.COMPLAINT:
            raise ValidationFailed.one("__all__", _("Only a complaint has a complaint card."))
        for name in CARD_FIELDS:
            if name in data:
                setattr(ticket, name, _text(data, name, max_length=10000))
        ticket.version = _claim_version(ticket.pk, version)
        ticket.save()
        _event(ticket, TicketEvent.Type.CARD, actor)
    return ticket


def attach_file(*, actor: User, ticket_id: int, upload) -> Attachment:
    if upload is None:
        raise ValidationFailed.one("file", _("Choose a file."))
    if upload.size > MAX_FILE_BYTES:
        raise ValidationFailed.one("file", _("A file may have at most 20 MB."))
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        name = (upload.name or "file").replace("/", "_").replace("\\", "_")[-200:]
        att = Attachment(ticket=ticket, name=name, size=upload.size, uploaded_by=actor)
        att.file.save(name, upload, save=False)
        att.save()
        _event(ticket, TicketEvent.Type.FILE, actor, name)
    return att


def evaluate_suggestion(*, actor: User, ticket_id: int, version: Any, data: dict[str, Any]) -> Ticket:
    """Adopted (with an improvement action: owner and deadline) or declined, with the reason."""
    errors: dict[str, list[str]] = {}
    evaluation = _text(data, "evaluation")
    if evaluation not in Evaluation.values:
        errors["evaluation"] = [_("Choose adopted or declined.")]
    reason = _text(data, "evaluation_reason", max_length=5000)
    if not reason:
        errors["evaluation_reason"] = [_("Give the reason.")]
    owner = None
    deadline = None
    title = _text(data, "action_title", max_length=200)
    if evaluation == Evaluation.ADOPTED:
        if not title:
            errors["action_title"] = [_("Name the improvement action.")]
        owner = User.objects.filter(pk=data.get("action_owner") or 0, is_active=True).first()
        if owner is None:
            errors["action_owner"] = [_("Choose the owner of the improvement action.")]
        raw = data.get("action_deadline")
        deadline = raw if isinstance(raw, datetime.date) else parse_date(str(raw or ""))
        if deadline is None:
            errors["action_deadline"] = [_("Enter the deadline.")]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        if ticket.kind != Kind.SUGGESTION:
            raise ValidationFailed.one("evaluation", _("Only a suggestion is evaluated."))
        ticket.evaluation = evaluation
        ticket.evaluation_reason = reason
        ticket.evaluated_at = timezone.now()
        ticket.version = _claim_version(ticket.pk, version)
        ticket.save()
        if evaluation == Evaluation.ADOPTED:
            ImprovementAction.objects.update_or_create(
                ticket=ticket, defaults={"title": title, "owner": owner, "deadline": deadline}
            )
        else:
            ImprovementAction.objects.filter(ticket=ticket).delete()
        _event(ticket, TicketEvent.Type.EVALUATION, actor, f"{Evaluation(evaluation).label}: {reason}")
    return ticket


def record_outcome(*, actor: User, ticket_id: int, version: Any, message: str) -> Ticket:
    """The outcome of a suggestion told to the customer (recorded; who and when)."""
    message = (message or "").strip()
    if not message:
        raise ValidationFailed.one("outcome_message", _("Write what the customer was told."))
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        if ticket.kind != Kind.SUGGESTION or not ticket.evaluation:
            raise ValidationFailed.one("outcome_message", _("Evaluate the suggestion first."))
        ticket.outcome_message = message[:5000]
        ticket.outcome_sent_at = timezone.now()
        ticket.outcome_sent_by = actor
        ticket.version = _claim_version(ticket.pk, version)
        ticket.save()
        _event(ticket, TicketEvent.Type.OUTCOME, actor, message[:5000])
        mail.send_after_commit(ticket, "outcome")
    return ticket


def complete_action(*, actor: User, ticket_id: int) -> ImprovementAction:
    with transaction.atomic():
        ticket = _ticket_for_change(actor, ticket_id)
        action = ImprovementAction.objects.filter(ticket=ticket).first()
        if action is None:
            raise ValidationFailed.one("__all__", _("This ticket has no improvement action."))
        action.done_at = timezone.now()
        action.save()
        _event(
            ticket, TicketEvent.Type.NOTE, actor, _("Improvement action done: %(t)s") % {"t": action.title}
        )
    return action


# --- escalation -----------------------------------------------------------------------------------


def managers_for(ticket: Ticket) -> list[User]:
    """The assignee's managers: the users with role manager in the assignee's department (the
    ticket's department when nobody is assigned)."""
    dept_id = (
        ticket.assignee.department_id
        if ticket.assignee and ticket.assignee.department_id
        else ticket.department_id
    )
    return list(User.objects.filter(role=Role.MANAGER, department_id=dept_id, is_active=True))


def escalate_breaches(now: datetime.datetime | None = None) -> int:
    """Flag every open ticket past a deadline once: an escalation event naming the managers."""
    now = now or timezone.now()
    from .selectors import current_breach_q

    count = 0
    candidates = (
        Ticket.objects.filter(escalated_at__isnull=True)
        .exclude(state__in=(State.RESOLVED, State.CLOSED))
        .filter(current_breach_q(now))
        .select_related("assignee", "department")
    )
    for ticket in candidates[:500]:
        with transaction.atomic():
            if not Ticket.objects.filter(pk=ticket.pk, escalated_at__isnull=True).update(escalated_at=now):
                continue
            managers = managers_for(ticket)
            names = ", ".join(str(m) for m in managers) or _("no manager in the department")
            _event(
                ticket,
                TicketEvent.Type.ESCALATION,
                None,
                _("SLA breached; escalated to %(m)s") % {"m": names},
            )
            count += 1
    return count


def escalate_now_and_then() -> None:
    """Escalate at most once a minute from page views (cron runs `guanxi escalate_tickets` too)."""
    if cache.add("guanxi-service-escalation", 1, 60):
        escalate_breaches()


# --- administration: SLA policies, the working day, the calendar ----------------------------------


def _admin_only(actor: User) -> None:
    if not (actor and actor.is_authenticated and actor.is_admin):
        raise Forbidden()


def set_policy(*, actor: User, data: dict[str, Any]) -> SlaPolicy:
    _admin_only(actor)
    errors: dict[str, list[str]] = {}
    kind, severity = _text(data, "kind"), _text(data, "severity")
    if kind not in Kind.values:
        errors["kind"] = [_("Choose a type.")]
    if severity not in Severity.values:
        errors["severity"] = [_("Choose a severity.")]
    values = {}
    for name in ("response_amount", "plan_amount"):
        try:
            values[name] = int(data.get(name))
            if not 1 <= values[name] <= 1000:
                raise ValueError
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number from 1 to 1000.")]
    for name in ("response_unit", "plan_unit"):
        values[name] = _text(data, name)
        if values[name] not in ClockUnit.values:
            errors[name] = [_("Choose calendar hours, working hours or working days.")]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        policy, _c = SlaPolicy.objects.update_or_create(kind=kind, severity=severity, defaults=values)
    return policy


def update_settings(*, actor: User, start: datetime.time, end: datetime.time) -> ServiceSettings:
    _admin_only(actor)
    if start is None or end is None or end <= start:
        raise ValidationFailed.one("workday_end", _("The working day must end after it starts."))
    with transaction.atomic():
        s = ServiceSettings.load()
        s.workday_start, s.workday_end = start, end
        s.save()
    return s


def add_manual_day(*, actor: User, date: Any, is_workday: bool, note: str = "") -> ManualDay:
    _admin_only(actor)
    day = date if isinstance(date, datetime.date) else parse_date(str(date or ""))
    if day is None:
        raise ValidationFailed.one("date", _("Enter a valid date."))
    with transaction.atomic():
        obj, _c = ManualDay.objects.update_or_create(
            date=day, defaults={"is_workday": bool(is_workday), "note": (note or "").strip()[:100]}
        )
        ManualYear.objects.get_or_create(year=day.year)
    return obj


def delete_manual_day(*, actor: User, day_id: int) -> None:
    _admin_only(actor)
    ManualDay.objects.filter(pk=day_id).delete()


def set_year_complete(*, actor: User, year: int, complete: bool) -> ManualYear:
    _admin_only(actor)
    if not 2000 <= int(year) <= 2100:
        raise ValidationFailed.one("year", _("Enter a year between 2000 and 2100."))
    with transaction.atomic():
        obj, _c = ManualYear.objects.update_or_create(year=int(year), defaults={"complete": bool(complete)})
    return obj
