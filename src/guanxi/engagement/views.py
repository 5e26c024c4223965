"""Web pages of visits and revisits, cadence, customer care and the work summary (C5–C7).

Thin: parse the request, call a selector (read) or a service (write), render. Out-of-scope records
answer 404; visible records the user may not change answer 403.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from guanxi.customers import choices as cc

from . import cadence, selectors, services
from .forms import (
    CareCloseForm,
    CareSettingsForm,
    GiftForm,
    MessageTemplateForm,
    OverrideForm,
    PlanForm,
    PolicyForm,
    RequirementFormSet,
    SummaryForm,
    TransitionForm,
    VisitForm,
    apply_errors,
)
from .models import REQUIREMENT_KINDS, CadencePolicy, PlanState, RecordForm


def _or_404(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotFound:
        raise Http404()


def _int(value: Any, default: int = 0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _page(request, qs, limit: int = 50):
    offset = _int(request.GET.get("offset"))
    items = list(qs[offset : offset + limit + 1])
    params = {k: v for k, v in request.GET.items() if k != "offset"}
    return {
        "items": items[:limit],
        "has_prev": offset > 0,
        "has_next": len(items) > limit,
        "prev_url": "?" + urlencode({**params, "offset": max(0, offset - limit)}),
        "next_url": "?" + urlencode({**params, "offset": offset + limit}),
    }


KIND_LABELS = dict(REQUIREMENT_KINDS)


# --- target list ----------------------------------------------------------------------------------


@login_required
def targets(request):
    g = request.GET
    filters = {
        k: g.get(k, "")
        for k in (
            "maintenance_tier",
            "strategic_type",
            "value_level",
            "abc_class",
            "lifecycle_stage",
            "importance",
            "due",
            "last_before",
            "never",
            "owner",
        )
    }
    limit = 50
    page = selectors.targets(
        request.user, q=g.get("q", ""), filters=filters, limit=limit, offset=_int(g.get("offset"))
    )
    params = {k: v for k, v in g.items() if k != "offset"}
    ctx = {
        "page": page,
        "f": filters,
        "q": g.get("q", ""),
        "choices": {
            "maintenance_tier": cc.MaintenanceTier.choices,
            "strategic_type": cc.StrategicType.choices,
            "value_level": cc.ValueLevel.choices,
            "abc_class": cc.ABCClass.choices,
            "lifecycle_stage": cc.LifecycleStage.choices,
            "importance": cc.Importance.choices,
        },
        "labels": {
            "maintenance_tier": _("Maintenance tier"),
            "strategic_type": _("Strategic type"),
            "value_level": _("Value level"),
            "abc_class": _("ABC class"),
            "lifecycle_stage": _("Lifecycle stage"),
            "importance": _("Importance"),
        },
        "prev_url": "?" + urlencode({**params, "offset": max(0, page.offset - limit)}),
        "next_url": "?" + urlencode({**params, "offset": page.offset + limit}),
        "today": timezone.localdate(),
        "nav_active": "visits",
    }
    return render(request, "engagement/targets.html", ctx)


# --- plans ----------------------------------------------------------------------------------------


@login_required
def plan_list(request):
    user = request.user
    mine = request.GET.get("mine", "1") == "1"
    state = request.GET.get("state", "open")
    qs = selectors.plans(user, mine=mine, state=state)
    if state in ("missed", "done", "cancelled", ""):
        qs = qs.order_by("-scheduled_at", "-id")
    ctx = {
        **_page(request, qs),
        "mine": mine,
        "state": state,
        "states": PlanState.choices,
        "today": timezone.localdate(),
        "nav_active": "visits",
    }
    return render(request, "engagement/plans.html", ctx)


def _plan_form_context(user, customer, form, plan=None):
    return {
        "customer": customer,
        "form": form,
        "plan": plan,
        "nav_active": "visits",
    }


@login_required
def plan_create(request):
    user = request.user
    customer = _or_404(
        selectors.customer_for_change, user, _int(request.GET.get("customer") or request.POST.get("customer"))
    )
    if not selectors.can_change_customer(user, customer):
        raise PermissionDenied
    contacts = selectors.contacts_for(user, customer.pk)
    assignees = selectors.assignee_choices(user, customer)
    if request.method == "POST":
        form = PlanForm(request.POST, contacts=contacts, assignees=assignees)
        if form.is_valid():
            try:
                plan = services.create_plan(actor=user, customer_id=customer.pk, data=form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Visit planned."))
                return redirect("engagement:plan_detail", plan.pk)
    else:
        default = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
        default = default.replace(hour=10)
        form = PlanForm(
            initial={
                "scheduled_at": default,
                "assignee": str(user.pk if user in assignees else customer.owner_id),
                "place": customer.address,
            },
            contacts=contacts,
            assignees=assignees,
        )
    return render(request, "engagement/plan_form.html", _plan_form_context(user, customer, form))


@login_required
def plan_edit(request, pk: int):
    user = request.user
    plan = _or_404(selectors.get_plan, user, pk)
    customer = plan.customer
    if not selectors.can_change_customer(user, customer):
        raise PermissionDenied
    if not plan.is_open:
        messages.error(request, _("Only a planned or confirmed visit can be changed."))
        return redirect("engagement:plan_detail", plan.pk)
    contacts = selectors.contacts_for(user, customer.pk)
    assignees = selectors.assignee_choices(user, customer)
    if plan.assignee not in assignees:
        assignees.append(plan.assignee)
    if request.method == "POST":
        form = PlanForm(request.POST, contacts=contacts, assignees=assignees)
        if form.is_valid():
            try:
                services.update_plan(
                    actor=user, plan_id=plan.pk, version=request.POST.get("version"), data=form.cleaned_data
                )
            except ValidationFailed as e:
                apply_errors(form, e)
            except Conflict as e:
                form.add_error(None, str(e))
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Plan saved."))
                return redirect("engagement:plan_detail", plan.pk)
    else:
        form = PlanForm(
            initial={
                "scheduled_at": timezone.localtime(plan.scheduled_at),
                "method": plan.method,
                "place": plan.place,
                "contacts": [str(c.pk) for c in plan.contacts.all()],
                "category": plan.category,
                "trigger": plan.trigger,
                "assignee": str(plan.assignee_id),
                "purpose": plan.purpose,
                "content": plan.content,
            },
            contacts=contacts,
            assignees=assignees,
        )
    return render(request, "engagement/plan_form.html", _plan_form_context(user, customer, form, plan))


@login_required
def plan_detail(request, pk: int):
    user = request.user
    plan = _or_404(selectors.get_plan, user, pk)
    ctx = {
        "plan": plan,
        "record": getattr(plan, "record", None) if hasattr(plan, "record") else None,
        "can_change": selectors.can_change_customer(user, plan.customer),
        "history": selectors.plan_history(user, plan.pk),
        "nav_active": "visits",
    }
    return render(request, "engagement/plan_detail.html", ctx)


@login_required
@require_POST
def plan_transition(request, pk: int):
    user = request.user
    plan = _or_404(selectors.get_plan, user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown state."))
        return redirect("engagement:plan_detail", plan.pk)
    try:
        services.transition_plan(
            actor=user,
            plan_id=plan.pk,
            to=form.cleaned_data["to"],
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except Forbidden:
        raise PermissionDenied
    except NotFound:
        raise Http404()
    except ValidationFailed as e:
        messages.error(request, " ".join(m for ms in e.errors.values() for m in ms))
    except Conflict as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request, _("Visit is now %(state)s.") % {"state": PlanState(form.cleaned_data["to"]).label}
        )
    return redirect("engagement:plan_detail", plan.pk)


# --- visit records --------------------------------------------------------------------------------


@login_required
def visit_create(request):
    user = request.user
    src = request.POST if request.method == "POST" else request.GET
    plan = None
    if src.get("plan"):
        plan = _or_404(selectors.get_plan, user, _int(src.get("plan")))
        customer = plan.customer
    else:
        customer = _or_404(selectors.customer_for_change, user, _int(src.get("customer")))
    if not selectors.can_change_customer(user, customer):
        raise PermissionDenied
    phone = src.get("form") == RecordForm.PHONE or (
        plan is not None and plan.method == "phone" and "form" not in src
    )
    contacts = selectors.contacts_for(user, customer.pk)
    if request.method == "POST":
        form = VisitForm(request.POST, contacts=contacts, phone=phone)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v not in ("",) or k in ("contacts",)}
            data["form"] = RecordForm.PHONE if phone else RecordForm.IN_PERSON
            try:
                visit = services.record_visit(
                    actor=user, customer_id=customer.pk, plan_id=plan.pk if plan else None, data=data
                )
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Visit recorded."))
                if visit.next_visit_on:
                    messages.info(
                        request, _("The next visit is planned for %(day)s.") % {"day": visit.next_visit_on}
                    )
                return redirect("engagement:visit_detail", visit.pk)
    else:
        initial = {
            "form": RecordForm.PHONE if phone else RecordForm.IN_PERSON,
            "visited_on": timezone.localdate(),
            "method": "phone" if phone else "in_person",
            "category": "routine",
            "direction": "outbound",
        }
        if plan is not None:
            initial.update(
                {
                    "method": plan.method,
                    "category": plan.category,
                    "place": plan.place,
                    "scheduled_arrival": timezone.localtime(plan.scheduled_at),
                    "visited_on": min(timezone.localdate(), timezone.localtime(plan.scheduled_at).date()),
                    "contacts": [str(c.pk) for c in plan.contacts.all()],
                }
            )
        form = VisitForm(initial=initial, contacts=contacts, phone=phone)
    ctx = {"customer": customer, "plan": plan, "form": form, "phone": phone, "nav_active": "visits"}
    return render(request, "engagement/visit_form.html", ctx)


@login_required
def visit_detail(request, pk: int):
    visit = _or_404(selectors.get_visit, request.user, pk)
    return render(request, "engagement/visit_detail.html", {"visit": visit, "nav_active": "visits"})


@login_required
def customer_visits(request, pk: int):
    """The visits panel of a customer's card (loaded by htmx from customers/detail.html)."""
    user = request.user
    status = _or_404(selectors.cadence_status, user, pk)
    customer = status.customer
    ctx = {
        "customer": customer,
        "status": status,
        "kind_labels": KIND_LABELS,
        "plans": list(selectors.plans(user, customer_id=customer.pk, state="open")[:5]),
        "visits": list(selectors.visits(user, customer_id=customer.pk)[:5]),
        "gifts": list(selectors.gifts(user, customer_id=customer.pk)[:5]),
        "can_change": selectors.can_change_customer(user, customer),
    }
    return render(request, "engagement/_customer_visits.html", ctx)


# --- cadence --------------------------------------------------------------------------------------


@login_required
def cadence_policies(request):
    user = request.user
    policies = selectors.policies(user)
    labels = {
        "strategic_type": dict(cc.StrategicType.choices),
        "maintenance_tier": dict(cc.MaintenanceTier.choices),
    }
    rows = [(p, labels.get(p.dimension, {}).get(p.value, p.value)) for p in policies]
    return render(
        request,
        "engagement/cadence.html",
        {"rows": rows, "kind_labels": KIND_LABELS, "nav_active": "cadence"},
    )


@login_required
def policy_edit(request, pk: int):
    user = request.user
    policy = next((p for p in selectors.policies(user) if p.pk == pk), None)
    if policy is None:
        raise Http404()
    if not user.is_admin:
        raise PermissionDenied
    if request.method == "POST":
        form = PolicyForm(request.POST)
        formset = RequirementFormSet(request.POST, prefix="req")
        if form.is_valid() and formset.is_valid():
            reqs = [f.cleaned_data for f in formset if f.cleaned_data.get("kind")]
            try:
                services.save_policy(
                    actor=user,
                    dimension=policy.dimension,
                    value=policy.value,
                    requirements=reqs,
                    max_contacts_30d=form.cleaned_data["max_contacts_30d"],
                    service_plan=form.cleaned_data["service_plan"],
                    active=form.cleaned_data["active"],
                )
            except ValidationFailed as e:
                apply_errors(form, e)
            else:
                messages.success(request, _("Policy saved; every customer's due date follows it."))
                return redirect("engagement:cadence")
    else:
        form = PolicyForm(
            initial={
                "active": policy.active,
                "max_contacts_30d": policy.max_contacts_30d,
                "service_plan": policy.service_plan,
            }
        )
        formset = RequirementFormSet(
            prefix="req",
            initial=[
                {"kind": r.kind, "count": r.count, "period_days": r.period_days}
                for r in policy.requirements.all()
            ],
        )
    labels = {
        "strategic_type": dict(cc.StrategicType.choices),
        "maintenance_tier": dict(cc.MaintenanceTier.choices),
    }
    ctx = {
        "policy": policy,
        "label": labels[policy.dimension].get(policy.value, policy.value),
        "form": form,
        "formset": formset,
        "nav_active": "cadence",
    }
    return render(request, "engagement/policy_form.html", ctx)


@login_required
def customer_cadence(request, pk: int):
    user = request.user
    status = _or_404(selectors.cadence_status, user, pk)
    can_change = selectors.can_change_customer(user, status.customer)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = OverrideForm(request.POST)
        if form.is_valid():
            try:
                services.set_override(actor=user, customer_id=pk, **form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Cadence saved."))
                return redirect("engagement:customer_cadence", pk)
    else:
        o = status.override
        form = OverrideForm(
            initial={
                "period_scale_pct": o.period_scale_pct if o else 100,
                "max_contacts_30d": o.max_contacts_30d if o else None,
                "reason": o.reason if o else "",
            }
        )
    ctx = {
        "status": status,
        "customer": status.customer,
        "form": form,
        "can_change": can_change,
        "kind_labels": KIND_LABELS,
        "nav_active": "cadence",
    }
    return render(request, "engagement/customer_cadence.html", ctx)


@login_required
def overdue(request):
    user = request.user
    ctx = {
        **_page(request, selectors.overdue_customers(user)),
        "over": selectors.over_maintained(user),
        "today": timezone.localdate(),
        "nav_active": "cadence",
    }
    return render(request, "engagement/overdue.html", ctx)


# --- the end-of-day summary -----------------------------------------------------------------------


@login_required
def summary(request):
    user = request.user
    current = selectors.todays_summary(user)
    if request.method == "POST":
        form = SummaryForm(request.POST)
        if form.is_valid():
            try:
                services.save_daily_summary(actor=user, **form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            else:
                messages.success(request, _("Work summary saved."))
                return redirect("engagement:summary")
    else:
        form = SummaryForm(
            initial={"text": current.text, "problems": current.problems, "tomorrow": current.tomorrow}
            if current
            else None
        )
    team = (
        list(selectors.daily_summaries(user, team=True)[:100])
        if selectors.reads_team_summaries(user)
        else None
    )
    if team:
        services.mark_summaries_read(actor=user, summary_ids=[s.pk for s in team])
    ctx = {
        "form": form,
        "current": current,
        "mine": list(selectors.daily_summaries(user)[:14]),
        "team": team,
        "done_today": list(selectors.visits(user, mine=True).filter(visited_on=timezone.localdate())),
        "nav_active": "summary",
    }
    return render(request, "engagement/summary.html", ctx)


# --- care -----------------------------------------------------------------------------------------


@login_required
def care(request):
    user = request.user
    services.generate_care_tasks(customers=selectors.care_scope(user))
    ctx = {
        "tasks": list(selectors.care_tasks(user)[:200]),
        "upcoming": selectors.upcoming_occasions(user, days=30),
        "templates": selectors.message_templates(user),
        "settings": selectors.care_settings(),
        "close_form": CareCloseForm(),
        "nav_active": "care",
    }
    return render(request, "engagement/care.html", ctx)


def _care_admin(request):
    """The care settings pages exist for administrators only (404 for everyone else)."""
    if not request.user.is_admin:
        raise Http404()
    return request.user


@login_required
def care_settings(request):
    user = _care_admin(request)
    current = selectors.care_settings()
    if request.method == "POST":
        form = CareSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.update_care_settings(actor=user, data=form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise Http404()
            else:
                messages.success(request, _("Care settings saved."))
                return redirect("engagement:care_settings")
    else:
        form = CareSettingsForm(
            initial={"days_ahead": current.days_ahead, "festival_tiers": current.festival_tiers}
        )
    ctx = {
        "form": form,
        "templates": selectors.message_templates(user, inactive=True),
        "nav_active": "care",
    }
    return render(request, "engagement/care_settings.html", ctx)


@login_required
def care_template_edit(request, pk: int | None = None):
    user = _care_admin(request)
    template = _or_404(selectors.get_message_template, user, pk) if pk is not None else None
    if request.method == "POST":
        form = MessageTemplateForm(request.POST)
        if form.is_valid():
            try:
                services.save_message_template(actor=user, template_id=pk, data=form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except NotFound:
                raise Http404()
            except Forbidden:
                raise Http404()
            else:
                messages.success(request, _("Message template saved."))
                return redirect("engagement:care_settings")
    elif template is not None:
        form = MessageTemplateForm(
            initial={
                "occasion": template.occasion,
                "channel": template.channel,
                "language": template.language,
                "body": template.body,
                "active": template.active,
            }
        )
    else:
        form = MessageTemplateForm(initial={"occasion": request.GET.get("occasion", "birthday")})
    ctx = {"form": form, "template": template, "nav_active": "care"}
    return render(request, "engagement/care_template_form.html", ctx)


@login_required
def care_task(request, pk: int):
    user = request.user
    task = _or_404(selectors.get_care_task, user, pk)
    can_change = selectors.can_change_customer(user, task.customer)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = CareCloseForm(request.POST)
        if form.is_valid():
            try:
                services.close_care_task(actor=user, task_id=task.pk, **form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except Forbidden:
                raise PermissionDenied
            else:
                messages.success(request, _("Greeting recorded."))
                return redirect("engagement:care")
    else:
        form = CareCloseForm(initial={"state": "done"})
    templates = selectors.message_templates(user, task.occasion)
    suggestions = [(t, selectors.render_message(t, task, user)) for t in templates]
    ctx = {
        "task": task,
        "form": form,
        "suggestions": suggestions,
        "can_change": can_change,
        "nav_active": "care",
    }
    return render(request, "engagement/care_task.html", ctx)


@login_required
def gift_create(request):
    user = request.user
    src = request.POST if request.method == "POST" else request.GET
    customer = _or_404(selectors.customer_for_change, user, _int(src.get("customer")))
    if not selectors.can_change_customer(user, customer):
        raise PermissionDenied
    contacts = selectors.contacts_for(user, customer.pk)
    if request.method == "POST":
        form = GiftForm(request.POST, contacts=contacts)
        if form.is_valid():
            try:
                services.record_gift(actor=user, customer_id=customer.pk, data=form.cleaned_data)
            except ValidationFailed as e:
                apply_errors(form, e)
            except (Forbidden, NotFound):
                raise PermissionDenied
            else:
                messages.success(request, _("Gift recorded."))
                return redirect(reverse("customers:detail", args=[customer.pk]) + "#visits")
    else:
        task = src.get("task")
        form = GiftForm(
            initial={"given_on": timezone.localdate(), "task": task, "contact": src.get("contact", "")},
            contacts=contacts,
        )
    return render(
        request, "engagement/gift_form.html", {"customer": customer, "form": form, "nav_active": "care"}
    )


__all__ = ["cadence", "CadencePolicy"]


# --- the pre-visit brief --------------------------------------------------------------------------


@login_required
def brief(request, pk: int):
    data = _or_404(selectors.brief, request.user, pk)
    template = "engagement/brief_print.html" if request.GET.get("print") else "engagement/brief.html"
    return render(
        request,
        template,
        {
            "b": data,
            "customer": data.customer,
            "kind_labels": KIND_LABELS,
            "nav_active": "visits",
            "today": timezone.localdate(),
        },
    )


# --- the calendar feed ----------------------------------------------------------------------------


@login_required
def calendar(request):
    user = request.user
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            services.revoke_calendar(actor=user)
            messages.success(request, _("The calendar link no longer works."))
        else:
            services.calendar_token(actor=user, rotate=action == "rotate")
            messages.success(request, _("Calendar link ready."))
        return redirect("engagement:calendar")
    feed = selectors.calendar_feed(user)
    url = request.build_absolute_uri(reverse("engagement:calendar_feed", args=[feed.token])) if feed else ""
    return render(request, "engagement/calendar.html", {"feed": feed, "url": url, "nav_active": "visits"})


def calendar_feed(request, token: str):
    """The feed itself: no session (calendar apps cannot sign in); the secret token is the key."""
    from django.http import HttpResponse

    from . import ical

    user = _or_404(selectors.feed_owner, token)
    services.generate_care_tasks(customers=selectors.care_scope(user))
    plans, tasks = selectors.feed_items(user)
    body = ical.build(user, plans, tasks, host=request.get_host().split(":")[0])
    resp = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    resp["Content-Disposition"] = 'inline; filename="guanxi.ics"'
    resp["Cache-Control"] = "private, max-age=900"
    return resp


@login_required
def followups(request):
    report = selectors.followups(request.user)
    top = max([b["pct"] for b in report.buckets] + [b["seed_pct"] for b in report.buckets] + [1])
    bars = []
    for i, b in enumerate(report.buckets):
        h, hs = round(b["pct"] * 160 / top), round(b["seed_pct"] * 160 / top)
        bars.append({**b, "x": 10 + i * 68, "h": h, "y": 180 - h, "hs": hs, "ys": 180 - hs})
    return render(request, "engagement/followups.html", {"r": report, "bars": bars, "nav_active": "cadence"})
