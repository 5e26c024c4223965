"""Web pages of the service desk (C8). Thin: parse, call a selector or a service, render.
Out-of-scope tickets and customers answer 404; visible tickets the user may not change answer 403."""

from __future__ import annotations

import mimetypes
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.core.forms import apply_errors

from . import ratelimit, selectors, services
from .forms import (
    CardForm,
    EvaluationForm,
    FilterForm,
    ManualDayForm,
    OutcomeForm,
    PolicyForm,
    PublicForm,
    TicketForm,
    TransferForm,
    TransitionForm,
    WorkdayForm,
)
from .models import ClockUnit, Kind, Severity, State

PUBLIC_LIMIT = 5  # submissions per client address and hour through the public form
PUBLIC_LINK_LIMIT = 20  # tickets per customer link and hour (many addresses, one leaked link)


def _or_404(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotFound:
        raise Http404()


def _int(v, default=0):
    try:
        return max(0, int(v))
    except (TypeError, ValueError):
        return default


def _admin(request):
    if not request.user.is_admin:
        raise PermissionDenied


# --- list, create, detail -------------------------------------------------------------------------


@login_required
def ticket_list(request):
    services.escalate_now_and_then()
    users = selectors.assignable_users()
    departments = selectors.departments()
    form = FilterForm(request.GET or None, departments=departments, users=users)
    filters = {k: v for k, v in request.GET.items() if k in selectors.FILTERS}
    page = selectors.ticket_list(
        request.user, filters=filters, limit=50, offset=_int(request.GET.get("offset"))
    )
    base = request.GET.copy()
    base.pop("offset", None)
    prev_q, next_q = base.copy(), base.copy()
    prev_q["offset"] = max(0, page.offset - page.limit)
    next_q["offset"] = page.offset + page.limit
    customer = None
    if filters.get("customer", "").isdigit():
        customer = _or_404(selectors.customer_for_tickets, request.user, int(filters["customer"]))
    return render(
        request,
        "service/list.html",
        {
            "page": page,
            "form": form,
            "can_create": selectors.may_open_tickets(request.user),
            "prev_url": "?" + prev_q.urlencode(),
            "next_url": "?" + next_q.urlencode(),
            "customer": customer,
        },
    )


def _ticket_form(request, data=None, initial=None):
    user = request.user
    cid = (data or {}).get("customer") or (initial or {}).get("customer")
    contacts = selectors.contacts_for(user, int(cid)) if str(cid or "").isdigit() else []
    return TicketForm(
        data,
        initial=initial,
        customers=selectors.customers_for_new_ticket(user),
        contacts=contacts,
        departments=selectors.departments(),
        users=selectors.assignable_users(),
    )


@login_required
def ticket_create(request):
    if not selectors.may_open_tickets(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = _ticket_form(request, request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items()}
            try:
                ticket = services.create_ticket(actor=request.user, data=data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Ticket %(n)s opened.") % {"n": ticket.number})
                return redirect("service:detail", ticket.pk)
    else:
        initial = {"kind": request.GET.get("kind") or Kind.INQUIRY, "severity": Severity.NORMAL}
        if request.GET.get("customer", "").isdigit():
            initial["customer"] = request.GET["customer"]
        dept = services.service_department()
        if dept:
            initial["department"] = dept.pk
        form = _ticket_form(request, initial=initial)
    return render(request, "service/form.html", {"form": form})


def _detail_context(request, ticket, **forms):
    user = request.user
    changeable = selectors.can_change(user, ticket)
    users = selectors.assignable_users()
    departments = selectors.departments()
    labels = services.action_labels()
    actions = (
        [
            {"action": a, "label": labels[a], "note_required": a in services.NOTE_REQUIRED}
            for a in services.allowed_actions(ticket.state)
        ]
        if changeable
        else []
    )
    ctx = {
        "ticket": ticket,
        "events": selectors.timeline(user, ticket.pk),
        "files": selectors.attachments(user, ticket.pk),
        "can_change": changeable,
        "actions": actions,
        "breaches": ticket.breaches(),
        "managers": services.managers_for(ticket),
        "transfer_form": forms.get("transfer_form")
        or TransferForm(
            initial={
                "version": ticket.version,
                "department": ticket.department_id,
                "assignee": ticket.assignee_id,
            },
            departments=departments,
            users=users,
        ),
        "card_form": forms.get("card_form")
        or CardForm(
            initial={"version": ticket.version, **{f: getattr(ticket, f) for f in services.CARD_FIELDS}}
        ),
        "evaluation_form": forms.get("evaluation_form")
        or EvaluationForm(initial=_evaluation_initial(ticket), users=users),
        "outcome_form": forms.get("outcome_form")
        or OutcomeForm(initial={"version": ticket.version, "outcome_message": ticket.outcome_message}),
        "transition_error": forms.get("transition_error"),
        "conflict": forms.get("conflict"),
        "improvement": getattr(ticket, "improvement", None) if ticket.kind == Kind.SUGGESTION else None,
        "customer_link": request.build_absolute_uri(
            reverse("service:public_ticket", args=[ticket.public_token])
        ),
    }
    return ctx


def _evaluation_initial(ticket):
    initial = {
        "version": ticket.version,
        "evaluation": ticket.evaluation,
        "evaluation_reason": ticket.evaluation_reason,
    }
    imp = getattr(ticket, "improvement", None) if ticket.pk else None
    if imp:
        initial.update(action_title=imp.title, action_owner=imp.owner_id, action_deadline=imp.deadline)
    return initial


@login_required
def ticket_detail(request, pk: int):
    ticket = _or_404(selectors.get_ticket, request.user, pk)
    return render(request, "service/detail.html", _detail_context(request, ticket))


def _changed(request, pk: int, fn, form_key: str | None = None, form=None, **kwargs):
    """Run a write; on a domain error re-render the ticket page with the messages."""
    try:
        fn(actor=request.user, ticket_id=pk, **kwargs)
    except NotFound:
        raise Http404()
    except Forbidden:
        raise PermissionDenied
    except Conflict as e:
        ticket = _or_404(selectors.get_ticket, request.user, pk)
        return render(
            request, "service/detail.html", _detail_context(request, ticket, conflict=str(e)), status=409
        )
    except ValidationFailed as e:
        ticket = _or_404(selectors.get_ticket, request.user, pk)
        extra = {}
        if form is not None and form_key:
            apply_errors(form, e)
            extra[form_key] = form
        else:
            extra["transition_error"] = " ".join(m for msgs in e.errors.values() for m in msgs)
        return render(request, "service/detail.html", _detail_context(request, ticket, **extra), status=422)
    return redirect("service:detail", pk)


@login_required
@require_POST
def ticket_transition(request, pk: int):
    form = TransitionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    resp = _changed(
        request,
        pk,
        services.transition,
        action=data.get("action", ""),
        version=request.POST.get("version"),
        note=data.get("note", ""),
    )
    if resp.status_code == 302:
        messages.success(
            request, _("Done: %(a)s.") % {"a": services.action_labels().get(data.get("action"), "")}
        )
    return resp


@login_required
@require_POST
def ticket_transfer(request, pk: int):
    form = TransferForm(request.POST, departments=selectors.departments(), users=selectors.assignable_users())
    return _changed(
        request,
        pk,
        services.transfer,
        "transfer_form",
        form,
        version=request.POST.get("version"),
        department_id=request.POST.get("department"),
        assignee_id=request.POST.get("assignee") or None,
        note=request.POST.get("note", ""),
    )


@login_required
@require_POST
def ticket_note(request, pk: int):
    return _changed(request, pk, services.add_note, note=request.POST.get("note", ""))


@login_required
@require_POST
def ticket_card(request, pk: int):
    form = CardForm(request.POST)
    data = {k: request.POST.get(k, "") for k in services.CARD_FIELDS}
    return _changed(
        request, pk, services.update_card, "card_form", form, version=request.POST.get("version"), data=data
    )


@login_required
@require_POST
def ticket_attach(request, pk: int):
    return _changed(request, pk, services.attach_file, upload=request.FILES.get("file"))


@login_required
def attachment_download(request, pk: int):
    att = _or_404(selectors.get_attachment, request.user, pk)
    try:
        fh = att.file.open("rb")
    except FileNotFoundError:
        raise Http404()
    ctype = mimetypes.guess_type(att.name)[0] or "application/octet-stream"
    resp = FileResponse(fh, as_attachment=True, filename=att.name, content_type=ctype)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    return resp


@login_required
@require_POST
def ticket_evaluate(request, pk: int):
    form = EvaluationForm(request.POST, users=selectors.assignable_users())
    data = {
        k: request.POST.get(k, "")
        for k in ("evaluation", "evaluation_reason", "action_title", "action_owner", "action_deadline")
    }
    return _changed(
        request,
        pk,
        services.evaluate_suggestion,
        "evaluation_form",
        form,
        version=request.POST.get("version"),
        data=data,
    )


@login_required
@require_POST
def ticket_outcome(request, pk: int):
    form = OutcomeForm(request.POST)
    return _changed(
        request,
        pk,
        services.record_outcome,
        "outcome_form",
        form,
        version=request.POST.get("version"),
        message=request.POST.get("outcome_message", ""),
    )


@login_required
@require_POST
def action_done(request, pk: int):
    return _changed(request, pk, services.complete_action)


# --- the customer card's section (htmx) -----------------------------------------------------------


@login_required
def customer_tickets(request, customer_pk: int):
    customer = _or_404(selectors.customer_for_tickets, request.user, customer_pk)
    tickets = selectors.tickets_of_customer(request.user, customer.pk)
    link = selectors.public_link_of(request.user, customer.pk)
    return render(
        request,
        "service/customer_tickets.html",
        {
            "customer": customer,
            "tickets": tickets[:20],
            "ticket_count": len(tickets),
            "complaints": [t for t in tickets if t.kind == Kind.COMPLAINT],
            "suggestions": [t for t in tickets if t.kind == Kind.SUGGESTION],
            "can_create": selectors.may_open_tickets(request.user),
            "public_url": request.build_absolute_uri(reverse("service:public_form", args=[link.token]))
            if link
            else "",
            "can_link": request.user.is_admin
            or request.user.role == "service_agent"
            or _can_change_customer(request.user, customer),
        },
    )


def _can_change_customer(user, customer) -> bool:
    from guanxi.org.access import can

    return can(user, customer, "change")


@login_required
@require_POST
def customer_link(request, customer_pk: int):
    try:
        services.public_link(
            actor=request.user, customer_id=customer_pk, renew=request.POST.get("renew") == "1"
        )
    except NotFound:
        raise Http404()
    except Forbidden:
        raise PermissionDenied
    messages.success(request, _("The customer's service form link is ready."))
    return redirect(reverse("customers:detail", args=[customer_pk]) + "#service")


# --- administration -------------------------------------------------------------------------------


@login_required
def sla_settings(request):
    _admin(request)
    s = selectors.service_settings()
    policy_form = PolicyForm(prefix="p")
    workday_form = WorkdayForm(
        prefix="w", initial={"workday_start": s.workday_start, "workday_end": s.workday_end}
    )
    if request.method == "POST":
        try:
            if "p-kind" in request.POST:
                policy_form = PolicyForm(request.POST, prefix="p")
                if policy_form.is_valid():
                    services.set_policy(actor=request.user, data=policy_form.cleaned_data)
                    messages.success(request, _("SLA policy saved."))
                    return redirect("service:settings")
            else:
                workday_form = WorkdayForm(request.POST, prefix="w")
                if workday_form.is_valid():
                    services.update_settings(
                        actor=request.user,
                        start=workday_form.cleaned_data["workday_start"],
                        end=workday_form.cleaned_data["workday_end"],
                    )
                    messages.success(request, _("Working day saved."))
                    return redirect("service:settings")
        except ValidationFailed as e:
            apply_errors(policy_form if "p-kind" in request.POST else workday_form, e)
    policies = selectors.policies()
    rows = []
    for kind, kind_label in Kind.choices:
        for sev, sev_label in Severity.choices:
            p = policies.get((kind, sev))
            rows.append(
                {
                    "kind": kind_label,
                    "severity": sev_label,
                    "custom": p is not None,
                    "response": (p.response_amount, ClockUnit(p.response_unit).label)
                    if p
                    else (24, ClockUnit.CALENDAR_HOURS.label),
                    "plan": (p.plan_amount, ClockUnit(p.plan_unit).label)
                    if p
                    else (3, ClockUnit.WORKING_DAYS.label),
                }
            )
    return render(
        request,
        "service/settings.html",
        {
            "rows": rows,
            "policy_form": policy_form,
            "workday_form": workday_form,
            "nav": "service_settings",
        },
    )


@login_required
def calendar_view(request):
    _admin(request)
    import datetime

    from .worktime import library_knows

    this_year = timezone.localdate().year
    form = ManualDayForm()
    if request.method == "POST":
        try:
            if "year" in request.POST:
                services.set_year_complete(
                    actor=request.user,
                    year=_int(request.POST.get("year")),
                    complete=request.POST.get("complete") == "1",
                )
                messages.success(request, _("Calendar year saved."))
                return redirect("service:calendar")
            if "delete" in request.POST:
                services.delete_manual_day(actor=request.user, day_id=_int(request.POST.get("delete")))
                messages.success(request, _("Day removed."))
                return redirect("service:calendar")
            form = ManualDayForm(request.POST)
            if form.is_valid():
                services.add_manual_day(actor=request.user, **form.cleaned_data)
                messages.success(request, _("Day saved."))
                return redirect("service:calendar")
        except ValidationFailed as e:
            apply_errors(form, e)
    manual = {y.year: y for y in selectors.manual_years()}
    years = []
    for y in range(this_year - 1, this_year + 3):
        years.append(
            {
                "year": y,
                "library": library_knows(y),
                "manual": manual.get(y),
                "known": library_knows(y) or bool(manual.get(y) and manual[y].complete),
            }
        )
    return render(
        request,
        "service/calendar.html",
        {
            "years": years,
            "form": form,
            "days": selectors.manual_days(),
            "today": datetime.date.today(),
        },
    )


# --- public pages (no account) --------------------------------------------------------------------


def public_form(request, token: str):
    customer = _or_404(selectors.public_customer, token)
    form = PublicForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not ratelimit.hit(f"ip:{ratelimit.client_ip(request)}", PUBLIC_LIMIT):
            form.add_error(
                None, _("Too many requests from your network. Please try again in an hour or call us.")
            )
            status = 429
        elif request.POST.get("website"):
            # a bot filled in the hidden field: answer as if it worked, store nothing
            return render(request, "service/public_thanks.html", {"customer": customer, "ticket": None})
        elif form.is_valid() and not ratelimit.hit(f"link:{token}", PUBLIC_LINK_LIMIT):
            form.add_error(
                None, _("Too many requests through this link. Please try again in an hour or call us.")
            )
            status = 429
        elif form.is_valid():
            try:
                ticket = services.submit_public(token=token, data=form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
                status = 422
            else:
                return render(
                    request,
                    "service/public_thanks.html",
                    {
                        "customer": customer,
                        "ticket": ticket,
                        "link": request.build_absolute_uri(
                            reverse("service:public_ticket", args=[ticket.public_token])
                        ),
                    },
                )
        else:
            status = 422
    return render(request, "service/public_form.html", {"customer": customer, "form": form}, status=status)


def public_ticket(request, token: str):
    ticket = _or_404(selectors.ticket_by_token, token)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            services.customer_answer(
                token=token,
                confirm=request.POST.get("answer") == "confirm",
                note=request.POST.get("note", ""),
            )
        except ValidationFailed as e:
            error = " ".join(m for msgs in e.errors.values() for m in msgs)
            status = 422
        else:
            return redirect("service:public_ticket", token)
        ticket = _or_404(selectors.ticket_by_token, token)
    return render(
        request,
        "service/public_ticket.html",
        {
            "ticket": ticket,
            "events": selectors.customer_events(ticket),
            "error": error,
            "waiting": ticket.state == State.RESOLVED,
        },
        status=status,
    )


# --- satisfaction surveys (C9) and service quality figures ----------------------------------------


@login_required
def survey_list(request):
    from . import surveys
    from .forms import CampaignForm

    can_run = surveys.may_run_campaigns(request.user)
    form = CampaignForm(request.POST or None)
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied
        if form.is_valid():
            try:
                campaign = surveys.create_campaign(actor=request.user, **form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            else:
                messages.success(
                    request, _("Survey campaign created: send each contact their personal link.")
                )
                return redirect("service:survey_detail", campaign.pk)
    return render(
        request,
        "service/surveys.html",
        {
            "campaigns": surveys.campaigns(request.user),
            "form": form if can_run else None,
            "results": surveys.results(request.user),
            "dimensions": surveys.dimension_labels(),
        },
    )


@login_required
def survey_detail(request, pk: int):
    from . import surveys

    campaign = _or_404(surveys.get_campaign, request.user, pk)
    invitations = list(surveys.invitations(request.user, pk))
    show_links = surveys.may_send_links(request.user)
    for inv in invitations:
        inv.link = (
            request.build_absolute_uri(reverse("service:survey_answer", args=[inv.token]))
            if show_links
            else ""
        )
    return render(
        request,
        "service/survey_detail.html",
        {
            "campaign": campaign,
            "invitations": invitations,
            "results": surveys.results(request.user, pk),
            "dimensions": surveys.dimension_labels(),
            "answered": sum(1 for i in invitations if i.answered_at),
        },
    )


def survey_answer(request, token: str):
    from . import surveys
    from .forms import AnswerForm

    inv = _or_404(surveys.invitation_by_token, token)
    closed = ""
    if inv.answered_at:
        closed = _("This survey has already been answered. Thank you!")
    elif inv.campaign.expires_at <= timezone.now():
        closed = _("This survey link has expired.")
    form = AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST" and not closed:
        if form.is_valid():
            try:
                surveys.answer(token=token, data=form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
                status = 422
            else:
                return render(request, "service/survey_thanks.html", {"invitation": inv})
        else:
            status = 422
    elif request.method == "POST":
        status = 410
    return render(
        request,
        "service/survey_answer.html",
        {"invitation": inv, "form": form, "closed": closed},
        status=status,
    )


@login_required
def quality_view(request):
    from . import surveys

    current = surveys.current_period()
    period = request.GET.get("period") or current
    if not re.fullmatch(r"20\d\dQ[1-4]", period):
        period = current
    year, q = int(current[:4]), int(current[-1])
    periods = []
    for _i in range(8):
        periods.append(f"{year}Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return render(
        request,
        "service/quality.html",
        {
            "period": period,
            "periods": periods,
            "figures": surveys.quality(request.user, period),
            "definitions": surveys.quality_definitions(),
        },
    )
