"""The service desk (C8): tickets and their flow, SLA clocks and breaches, escalation, transfers,
the complaint card, files, suggestions, the public form and the customer's personal link, the
calendar check, and the REST API."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from guanxi.core.errors import Conflict, Forbidden, ValidationFailed
from guanxi.org.models import Department, Role
from guanxi.service import checks, selectors, services, sla
from guanxi.service.models import ManualYear, SlaPolicy, Ticket, TicketEvent


@pytest.fixture(autouse=True)
def _english():
    """Messages in English (the default language is Simplified Chinese)."""
    from django.utils import translation
    from django.utils.translation import trans_real

    before = getattr(trans_real._active, "value", None)
    translation.activate("en")
    try:
        yield
    finally:
        if before is None:
            if hasattr(trans_real._active, "value"):
                del trans_real._active.value
        else:
            trans_real._active.value = before


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def ticket_data(world, **kw):
    data = {
        "kind": "complaint",
        "channel": "hotline",
        "customer_id": world.A.pk,
        "contact_id": world.A1.pk,
        "subject": "轴承尺寸超差",
        "description": "到货轴承内径超差 0.02mm",
        "severity": "high",
        "cause": "product_tolerance",
        "impact_scope": "一条装配线停线",
        "expectation": "补发合格品",
        "occurred_at": "2025-03-01T10:00",
    }
    data.update(kw)
    return data


def open_ticket(world, actor=None, **kw) -> Ticket:
    return services.create_ticket(actor=actor or world.org.service, data=ticket_data(world, **kw))


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


# --- creating ---------------------------------------------------------------------------------------


def test_a_ticket_has_every_field_and_its_clocks(world):
    t = open_ticket(world)
    assert t.state == "new" and t.department == world.org.service_dept
    assert t.cause == "product_tolerance" and t.impact_scope and t.expectation and t.occurred_at
    # defaults from the seeds: 24 calendar hours to answer, 3 working days for a plan
    assert t.response_due == t.created_at + datetime.timedelta(hours=24)
    assert t.plan_due > t.created_at
    assert "24" in t.sla_note and "3" in t.sla_note
    ev = TicketEvent.objects.get(ticket=t)
    assert ev.type == "created" and ev.actor == world.org.service


def test_a_complaint_needs_its_cause_and_expectation(world):
    with pytest.raises(ValidationFailed) as e:
        open_ticket(world, cause="", expectation="")
    assert set(e.value.errors) >= {"cause", "expectation"}


def test_bad_input_names_each_field(world):
    with pytest.raises(ValidationFailed) as e:
        services.create_ticket(
            actor=world.org.service, data={"kind": "x", "channel": "y", "customer_id": 999999}
        )
    assert set(e.value.errors) >= {"kind", "channel", "customer", "subject", "description"}


def test_only_an_inquiry_carries_a_promised_reply_time(world):
    with pytest.raises(ValidationFailed) as e:
        open_ticket(world, promised_reply_at="2030-01-01T10:00")
    assert "promised_reply_at" in e.value.errors
    t = open_ticket(
        world, kind="inquiry", cause="", promised_reply_at=timezone.now() + datetime.timedelta(hours=4)
    )
    assert t.promised_reply_at is not None


def test_who_may_open_tickets(world):
    o = world.org
    for user in (o.analyst, o.auditor):
        with pytest.raises(Forbidden):
            open_ticket(world, actor=user)
    # an account manager only for customers in their scope
    with pytest.raises(ValidationFailed) as e:
        open_ticket(world, actor=o.rep2a)
    assert "customer" in e.value.errors
    assert open_ticket(world, actor=o.rep1a).customer == world.A


def test_the_contact_must_belong_to_the_customer(world):
    with pytest.raises(ValidationFailed) as e:
        open_ticket(world, contact_id=world.B1.pk)
    assert "contact" in e.value.errors


def test_sla_policies_per_type_and_severity_on_working_time(world):
    SlaPolicy.objects.create(
        kind="complaint",
        severity="high",
        response_amount=4,
        response_unit="working_hours",
        plan_amount=1,
        plan_unit="working_days",
    )
    t = open_ticket(world)
    cal = sla.work_calendar()
    local = timezone.localtime(t.created_at).replace(tzinfo=None, microsecond=0)
    assert timezone.localtime(t.response_due).replace(tzinfo=None) == cal.add(
        local, datetime.timedelta(hours=4)
    )
    assert "4" in t.sla_note


def test_a_clock_in_an_unknown_year_says_so(db):
    start = timezone.make_aware(datetime.datetime(2099, 3, 2, 10, 0))
    clocks = sla.clocks_for("complaint", "normal", start)
    assert clocks.fallback and "2099" in clocks.note
    ManualYear.objects.create(year=2099, complete=True)
    clocks = sla.clocks_for("complaint", "normal", start)
    assert not clocks.fallback


@pytest.mark.django_db
def test_the_check_warns_when_an_open_ticket_needed_an_unknown_year(world):
    assert checks.calendar_is_current() == []
    t = open_ticket(world)
    Ticket.objects.filter(pk=t.pk).update(sla_fallback=True)
    warnings = checks.calendar_is_current()
    next_year = timezone.localdate().year + 1
    from guanxi.service.worktime import library_knows

    if library_knows(next_year):
        assert warnings == []
    else:
        assert [w.id for w in warnings] == ["service.W001"]
        assert str(next_year) in warnings[0].msg
        ManualYear.objects.create(year=next_year, complete=True)
        assert checks.calendar_is_current() == []


# --- the flow -----------------------------------------------------------------------------------------


def step(ticket, action, actor, note="x"):
    ticket.refresh_from_db()
    return services.transition(
        actor=actor, ticket_id=ticket.pk, action=action, version=ticket.version, note=note
    )


def test_the_whole_flow_with_reopen_is_timestamped_with_who(world):
    agent = world.org.service
    t = open_ticket(world)
    for action, state in (("acknowledge", "acknowledged"), ("start", "in_progress"), ("resolve", "resolved")):
        t = step(t, action, agent)
        assert t.state == state
    assert t.acknowledged_at and t.started_at and t.resolved_at
    t = step(t, "reopen", agent, "客户认为仍有问题")
    assert t.state == "in_progress" and t.reopen_count == 1 and t.resolved_at is None
    t = step(t, "resolve", agent)
    t = step(t, "close", agent)
    assert t.state == "closed" and t.closed_at
    events = list(TicketEvent.objects.filter(ticket=t, type="transition"))
    assert [(e.from_state, e.to_state) for e in events] == [
        ("new", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert all(e.actor == agent and e.at for e in events)


@pytest.mark.parametrize(
    "path,action",
    [
        ([], "start"),
        ([], "resolve"),
        ([], "close"),
        ([], "reopen"),
        (["acknowledge"], "acknowledge"),
        (["acknowledge"], "resolve"),
        (["acknowledge", "start"], "close"),
        (["acknowledge", "start"], "reopen"),
    ],
)
def test_refused_transitions_say_what_is_possible(world, path, action):
    t = open_ticket(world)
    for a in path:
        t = step(t, a, world.org.service)
    with pytest.raises(ValidationFailed) as e:
        step(t, action, world.org.service)
    assert "action" in e.value.errors
    assert "Possible now" in e.value.errors["action"][0]
    t.refresh_from_db()
    assert t.state == (["new", "acknowledged", "in_progress"][len(path)])


def test_a_plan_and_a_resolution_must_be_written(world):
    t = step(open_ticket(world), "acknowledge", world.org.service)
    with pytest.raises(ValidationFailed) as e:
        step(t, "start", world.org.service, note="")
    assert "note" in e.value.errors


def test_a_stale_version_is_a_conflict(world):
    t = open_ticket(world)
    services.transition(actor=world.org.service, ticket_id=t.pk, action="acknowledge", version=t.version)
    with pytest.raises(Conflict):
        services.transition(
            actor=world.org.service, ticket_id=t.pk, action="start", version=t.version, note="p"
        )


def test_who_may_work_a_ticket(world):
    o = world.org
    t = open_ticket(world)
    for user in (o.auditor, o.rep1a, o.manager1):  # auditor reads only; A is rep1a's, Sales 1's
        if user == o.auditor:
            with pytest.raises(Forbidden):
                step(t, "acknowledge", user)
    for user in (o.rep2a, o.manager2, o.analyst):
        with pytest.raises(Exception) as e:
            step(t, "acknowledge", user)
        assert type(e.value).__name__ == "NotFound"
    assert step(t, "acknowledge", o.rep1a).state == "acknowledged"


def test_transfers_between_departments_are_recorded(world):
    o = world.org
    product = Department.objects.create(name="产品部", kind="product")
    engineer = make_user("engineer", Role.ACCOUNT_MANAGER, department=product)
    t = open_ticket(world)
    with pytest.raises(ValidationFailed) as e:  # the assignee must be in the department
        services.transfer(
            actor=o.service,
            ticket_id=t.pk,
            version=t.version,
            department_id=product.pk,
            assignee_id=o.rep1a.pk,
        )
    assert "assignee" in e.value.errors
    t = services.transfer(
        actor=o.service,
        ticket_id=t.pk,
        version=t.version,
        department_id=product.pk,
        assignee_id=engineer.pk,
        note="质量问题转产品部",
    )
    assert t.department == product and t.assignee == engineer
    ev = TicketEvent.objects.get(ticket=t, type="transfer")
    assert ev.from_department == o.service_dept and ev.to_department == product and ev.actor == o.service
    # the engineer now sees and works the ticket, though not the customer
    assert selectors.get_ticket(engineer, t.pk)
    assert step(t, "acknowledge", engineer).state == "acknowledged"


# --- breaches, escalation and Today -------------------------------------------------------------------


def _breach(t: Ticket, hours: int = 30) -> Ticket:
    past = timezone.now() - datetime.timedelta(hours=hours)
    Ticket.objects.filter(pk=t.pk).update(created_at=past, response_due=past + datetime.timedelta(hours=24))
    t.refresh_from_db()
    return t


def test_breaches_are_flagged_listed_and_escalated_to_the_assignees_manager(world):
    o = world.org
    sales_rep = o.rep1b
    t = _breach(open_ticket(world, assignee_id=None))
    Ticket.objects.filter(pk=t.pk).update(department=o.sales1, assignee=sales_rep)
    t.refresh_from_db()
    assert t.breaches() == ["response"]
    assert selectors.ticket_list(o.service, filters={"breached": "1"}).count == 1
    assert services.managers_for(t) == [o.manager1]
    assert services.escalate_breaches() == 1
    assert services.escalate_breaches() == 0  # once
    ev = TicketEvent.objects.get(ticket=t, type="escalation")
    assert "经理一" in ev.note
    # on Today: the assignee's and the manager's
    from guanxi.today.registry import sections_for

    for user in (sales_rep, o.manager1):
        keys = {s.key: s for s in sections_for(user)}
        assert "service_tickets" in keys and keys["service_tickets"].items[0].pk == t.pk
    assert "service_tickets" not in {s.key for s in sections_for(o.rep2a)}


def test_a_ticket_near_its_deadline_shows_on_today(world):
    t = open_ticket(world, assignee_id=world.org.service.pk)
    soon = timezone.now() + datetime.timedelta(hours=1)
    Ticket.objects.filter(pk=t.pk).update(response_due=soon)
    items, count = selectors.today_tickets(world.org.service)
    assert [i.pk for i in items] == [t.pk] and not items[0].breached


def test_acknowledged_late_stays_breached(world):
    t = _breach(open_ticket(world))
    t = step(t, "acknowledge", world.org.service)
    assert "response" in t.breaches()
    assert selectors.ticket_list(world.org.service, filters={"breached": "1"}).count == 1


# --- complaint card, files, suggestions ---------------------------------------------------------------


def test_complaint_card_and_files_on_the_customer_card(world):
    o = world.org
    t = open_ticket(world)
    t = services.update_card(
        actor=o.service,
        ticket_id=t.pk,
        version=t.version,
        data={
            "course_of_events": "三月到货后发现超差",
            "customer_position": "要求赔偿返工费用",
            "dispute": "返工费用分摊",
            "dispute_outcome": "我方全额承担",
        },
    )
    att = services.attach_file(
        actor=o.service,
        ticket_id=t.pk,
        upload=SimpleUploadedFile("录音.mp3", b"ID3 audio", content_type="audio/mpeg"),
    )
    c = client_for(o.rep1a)
    page = c.get(reverse("service:customer_tickets", args=[world.A.pk])).content.decode()
    for text in (
        "三月到货后发现超差",
        "要求赔偿返工费用",
        "返工费用分摊",
        "我方全额承担",
        "录音.mp3",
        "Out of tolerance".lower(),
    ):
        assert text.lower() in page.lower(), text
    resp = c.get(reverse("service:attachment", args=[att.pk]))
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == b"ID3 audio"
    # outside scope: the card section and the file answer 404
    other = client_for(o.rep2a)
    assert other.get(reverse("service:customer_tickets", args=[world.A.pk])).status_code == 404
    assert other.get(reverse("service:attachment", args=[att.pk])).status_code == 404
    assert client_for(o.analyst).get(reverse("service:attachment", args=[att.pk])).status_code == 404
    # never under a public media URL
    assert Client().get("/media/" + att.file.name).status_code == 404


def test_a_suggestion_adopted_becomes_an_improvement_action_and_the_outcome_is_recorded(world):
    o = world.org
    t = open_ticket(world, kind="suggestion", cause="", expectation="")
    with pytest.raises(ValidationFailed) as e:
        services.evaluate_suggestion(
            actor=o.service,
            ticket_id=t.pk,
            version=t.version,
            data={"evaluation": "adopted", "evaluation_reason": "可行"},
        )
    assert set(e.value.errors) == {"action_title", "action_owner", "action_deadline"}
    with pytest.raises(ValidationFailed):
        services.record_outcome(actor=o.service, ticket_id=t.pk, version=t.version, message="x")
    t = services.evaluate_suggestion(
        actor=o.service,
        ticket_id=t.pk,
        version=t.version,
        data={
            "evaluation": "adopted",
            "evaluation_reason": "可行",
            "action_title": "随货提供电子质检报告",
            "action_owner": o.manager1.pk,
            "action_deadline": "2026-12-31",
        },
    )
    assert t.improvement.owner == o.manager1 and t.improvement.deadline == datetime.date(2026, 12, 31)
    t = services.record_outcome(actor=o.service, ticket_id=t.pk, version=t.version, message="已电话告知客户")
    assert t.outcome_sent_at and t.outcome_sent_by == o.service
    assert TicketEvent.objects.filter(ticket=t, type="outcome").exists()
    declined = open_ticket(world, kind="suggestion", cause="", expectation="")
    declined = services.evaluate_suggestion(
        actor=o.service,
        ticket_id=declined.pk,
        version=declined.version,
        data={"evaluation": "declined", "evaluation_reason": "成本过高"},
    )
    assert declined.evaluation == "declined" and not hasattr(declined, "improvement_cache")


# --- public form and the customer's link --------------------------------------------------------------


def test_the_public_form_makes_a_ticket_and_the_customer_confirms_through_the_link(world):
    link = services.public_link(actor=world.org.service, customer_id=world.A.pk)
    c = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("service:public_form", args=[link.token])
    page = c.get(url)
    assert page.status_code == 200 and world.A.name in page.content.decode()
    token = page.cookies["csrftoken"].value
    data = {
        "kind": "complaint",
        "subject": "送货延误",
        "description": "订单晚到三天",
        "reporter_name": "李建国",
        "reporter_phone": "13800138000",
        "csrfmiddlewaretoken": token,
    }
    assert (
        Client(enforce_csrf_checks=True)
        .post(url, {k: v for k, v in data.items() if k != "csrfmiddlewaretoken"})
        .status_code
        == 403
    )
    resp = c.post(url, data)
    assert resp.status_code == 200
    t = Ticket.objects.get(subject="送货延誤".replace("誤", "误"))
    assert t.customer == world.A and t.channel == "web_form" and t.reporter_name == "李建国"
    assert t.public_token in resp.content.decode()
    assert TicketEvent.objects.get(ticket=t).by_customer
    # staff work it to resolved; the customer confirms through the personal link
    for a in ("acknowledge", "start", "resolve"):
        t = step(t, a, world.org.service)
    personal = reverse("service:public_ticket", args=[t.public_token])
    page = c.get(personal)
    assert "Yes, I confirm" in page.content.decode()
    resp = c.post(personal, {"answer": "reopen", "note": "", "csrfmiddlewaretoken": token})
    assert resp.status_code == 422
    c.post(personal, {"answer": "reopen", "note": "还没有收到补发的货", "csrfmiddlewaretoken": token})
    t.refresh_from_db()
    assert t.state == "in_progress" and t.reopen_count == 1
    t = step(t, "resolve", world.org.service)
    c.post(personal, {"answer": "confirm", "csrfmiddlewaretoken": token})
    t.refresh_from_db()
    assert t.state == "closed"
    last = TicketEvent.objects.filter(ticket=t).last()
    assert last.by_customer and last.to_state == "closed"
    # a closed ticket cannot be confirmed again
    assert c.post(personal, {"answer": "confirm", "csrfmiddlewaretoken": token}).status_code == 422


def test_the_public_form_is_spam_limited(world):
    link = services.public_link(actor=world.org.service, customer_id=world.A.pk)
    url = reverse("service:public_form", args=[link.token])
    c = Client()
    data = {
        "kind": "inquiry",
        "subject": "s",
        "description": "d",
        "reporter_name": "n",
        "reporter_email": "a@b.cn",
    }
    # the honeypot: answered like a success, nothing stored
    resp = c.post(url, {**data, "website": "http://spam.example"})
    assert resp.status_code == 200 and Ticket.objects.count() == 0
    for _ in range(4):
        assert c.post(url, data).status_code == 200
    assert Ticket.objects.count() == 4
    resp = c.post(url, data)
    assert resp.status_code == 429 and Ticket.objects.count() == 4


def test_bad_links_are_404(world):
    c = Client()
    assert c.get(reverse("service:public_form", args=["nope"])).status_code == 404
    assert c.get(reverse("service:public_ticket", args=["nope"])).status_code == 404


def test_a_renewed_link_replaces_the_old_one(world):
    old = services.public_link(actor=world.org.service, customer_id=world.A.pk).token
    new = services.public_link(actor=world.org.service, customer_id=world.A.pk, renew=True).token
    assert old != new
    assert Client().get(reverse("service:public_form", args=[old])).status_code == 404
    with pytest.raises(Forbidden):
        services.public_link(actor=world.org.auditor, customer_id=world.A.pk)


# --- pages ---------------------------------------------------------------------------------------------


def test_pages_render_and_a_refused_transition_is_explained(world):
    o = world.org
    c = client_for(o.service)
    resp = c.post(
        reverse("service:create"),
        {
            k: v
            for k, v in {
                **ticket_data(world),
                "customer": world.A.pk,
                "contact": world.A1.pk,
                "department": o.service_dept.pk,
            }.items()
            if k not in ("customer_id", "contact_id")
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    t = Ticket.objects.get()
    page = c.get(resp["Location"]).content.decode()
    assert t.subject in page and "Acknowledge" in page
    resp = c.post(reverse("service:transition", args=[t.pk]), {"action": "resolve", "version": t.version})
    assert resp.status_code == 422 and "Possible now" in resp.content.decode()
    resp = c.post(reverse("service:transition", args=[t.pk]), {"action": "acknowledge", "version": t.version})
    assert resp.status_code == 302
    resp = c.post(
        reverse("service:transition", args=[t.pk]), {"action": "start", "version": t.version, "note": "p"}
    )
    assert resp.status_code == 409
    listing = c.get(reverse("service:list"), {"kind": "complaint", "state": "acknowledged"}).content.decode()
    assert t.subject in listing
    assert t.subject not in c.get(reverse("service:list"), {"kind": "inquiry"}).content.decode()


def test_admin_pages_set_policies_working_day_and_holidays(world):
    o = world.org
    c = client_for(o.admin)
    assert c.get(reverse("service:settings")).status_code == 200
    resp = c.post(
        reverse("service:settings"),
        {
            "p-kind": "inquiry",
            "p-severity": "low",
            "p-response_amount": "8",
            "p-response_unit": "working_hours",
            "p-plan_amount": "5",
            "p-plan_unit": "working_days",
        },
    )
    assert resp.status_code == 302
    assert SlaPolicy.objects.get(kind="inquiry", severity="low").response_amount == 8
    resp = c.post(reverse("service:settings"), {"w-workday_start": "18:00", "w-workday_end": "09:00"})
    assert resp.status_code == 200 and "must end after" in resp.content.decode()
    assert (
        c.post(
            reverse("service:settings"), {"w-workday_start": "08:30", "w-workday_end": "17:30"}
        ).status_code
        == 302
    )
    resp = c.post(reverse("service:calendar"), {"date": "2099-01-01", "is_workday": "0", "note": "元旦"})
    assert resp.status_code == 302
    c.post(reverse("service:calendar"), {"year": "2099", "complete": "1"})
    assert ManualYear.objects.get(year=2099).complete
    assert "元旦" in c.get(reverse("service:calendar")).content.decode()
    cal = sla.work_calendar()
    assert not cal.is_workday(datetime.date(2099, 1, 1)) and cal.unknown_years == set()
    for user in (o.service, o.manager1, o.auditor):
        assert client_for(user).get(reverse("service:settings")).status_code == 403
        assert client_for(user).get(reverse("service:calendar")).status_code == 403


# --- the API ---------------------------------------------------------------------------------------------


def test_api_create_list_transition_with_422_404_409(world, api_as):
    o = world.org
    api = api_as(o.service)
    body = {**ticket_data(world), "occurred_at": "2025-03-01T10:00:00+08:00"}
    resp = api.post("tickets", body)
    assert resp.status_code == 201, resp.content
    t = resp.json()
    assert t["state"] == "new" and t["version"] == 1 and t["events"][0]["type"] == "created"
    listing = api.get("tickets", {"kind": "complaint"}).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == t["id"]
    resp = api.post(f"tickets/{t['id']}/transition", {"action": "close", "version": 1})
    assert resp.status_code == 422 and "action" in resp.json()["errors"]
    resp = api.post(f"tickets/{t['id']}/transition", {"action": "acknowledge", "version": 1})
    assert resp.status_code == 200 and resp.json()["state"] == "acknowledged"
    assert (
        api.post(f"tickets/{t['id']}/transition", {"action": "start", "version": 1, "note": "p"}).status_code
        == 409
    )
    assert api_as(o.rep2a).get(f"tickets/{t['id']}").status_code == 404
    assert api.post("tickets", {**body, "kind": "nonsense"}).status_code == 422
