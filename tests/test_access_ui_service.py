"""The access matrix of the service desk's pages, for every role.

Tickets follow their customer (account team, managers of the department, deputies), service agents
see and work every ticket, auditors read every ticket, analysts see none; a ticket outside a user's
scope answers 404 and never shows up in a list or on a customer card; a visible ticket the user may
not change answers 403 to every write."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from guanxi.service import services
from guanxi.service.models import Ticket

COVERED_PAGES = {
    "service:surveys",
    "service:survey_detail",
    "service:survey_answer",
    "service:quality",
    "service:list",
    "service:create",
    "service:detail",
    "service:transition",
    "service:transfer",
    "service:note",
    "service:card",
    "service:attach",
    "service:evaluate",
    "service:outcome",
    "service:action_done",
    "service:attachment",
    "service:customer_tickets",
    "service:customer_link",
    "service:settings",
    "service:calendar",
    "service:public_form",
    "service:public_ticket",
}

# role → (tickets of these customers it sees, … it may work)
TICKETS = {
    "admin": ("AICB", "AICB"),
    "service": ("AICB", "AICB"),
    "auditor": ("AICB", ""),
    "analyst": ("", ""),
    "manager1": ("AIC", "AIC"),
    "manager2": ("B", "B"),
    "rep1a": ("AI", "AI"),
    "rep1b": ("CAI", "CAI"),  # deputises for rep1a
    "rep2a": ("B", "B"),
    "rep2b": ("A", "A"),  # on A's account team
}
CUSTOMERS = {
    "admin": "AICB",
    "service": "AICB",
    "auditor": "AICB",
    "analyst": "ACB",
    "manager1": "AIC",
    "manager2": "B",
    "rep1a": "AI",
    "rep1b": "CAI",
    "rep2a": "B",
    "rep2b": "A",
}
OPENERS = {"admin", "service", "manager1", "manager2", "rep1a", "rep1b", "rep2a", "rep2b"}
POSTS = {
    "transition": {"action": "acknowledge", "version": "1"},
    "transfer": {"version": "1", "department": "", "note": "x"},
    "note": {"note": "回访记录"},
    "card": {"version": "1", "course_of_events": "经过"},
    "attach": {},
    "evaluate": {"version": "1", "evaluation": "declined", "evaluation_reason": "不可行"},
    "outcome": {"version": "1", "outcome_message": "已告知"},
    "action_done": {},
}


@pytest.fixture(autouse=True)
def _restore_language():
    """Requests activate the language they ask for; restore the previous one afterwards so that
    later test modules do not inherit it."""
    from django.utils.translation import trans_real

    before = getattr(trans_real._active, "value", None)
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
    cache.clear()


@pytest.fixture
def desk(world):
    o = world.org
    t = {}
    for key, cust in world.customers.items():
        kind = "suggestion" if key == "B" else "complaint"
        t[key] = services.create_ticket(
            actor=o.admin,
            data={
                "kind": kind,
                "channel": "hotline",
                "customer_id": cust.pk,
                "subject": f"工单-{key}-主题",
                "description": "说明",
                "cause": "billing",
                "expectation": "更正",
            },
        )
    files = {
        key: services.attach_file(
            actor=o.admin, ticket_id=t[key].pk, upload=SimpleUploadedFile(f"f{key}.txt", b"data")
        )
        for key in t
    }
    return t, files


def users(world):
    o = world.org
    return {
        "admin": o.admin,
        "auditor": o.auditor,
        "service": o.service,
        "analyst": o.analyst,
        "manager1": o.manager1,
        "manager2": o.manager2,
        "rep1a": o.rep1a,
        "rep1b": o.rep1b,
        "rep2a": o.rep2a,
        "rep2b": o.rep2b,
    }


def client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


@pytest.mark.parametrize("role", list(TICKETS))
def test_reads(world, desk, role):
    tickets, files = desk
    c = client(users(world)[role])
    sees, _works = TICKETS[role]
    listing = c.get(reverse("service:list")).content.decode()
    for key, t in tickets.items():
        assert (t.subject in listing) == (key in sees), f"{role} list {key}"
        resp = c.get(reverse("service:detail", args=[t.pk]))
        assert resp.status_code == (200 if key in sees else 404), f"{role} detail {key}"
        if key not in sees:
            assert t.subject not in resp.content.decode()
        resp = c.get(reverse("service:attachment", args=[files[key].pk]))
        assert resp.status_code == (200 if key in sees else 404), f"{role} file {key}"
        cust = world.customers[key]
        resp = c.get(reverse("service:customer_tickets", args=[cust.pk]))
        assert resp.status_code == (200 if key in CUSTOMERS[role] else 404), f"{role} card {key}"
        assert (t.subject in resp.content.decode()) == (key in sees), f"{role} card shows {key}"
    assert c.get(reverse("service:create")).status_code == (200 if role in OPENERS else 403)
    for name in ("settings", "calendar"):
        assert c.get(reverse(f"service:{name}")).status_code == (200 if role == "admin" else 403)


@pytest.mark.parametrize("role", list(TICKETS))
def test_writes(world, desk, role):
    tickets, _files = desk
    user = users(world)[role]
    sees, works = TICKETS[role]
    for key, t in tickets.items():
        for name, body in POSTS.items():
            c = client(user)
            data = dict(body)
            if name == "transfer":
                data["department"] = str(world.org.service_dept.pk)
                data["assignee"] = str(world.org.service.pk)
            if name == "attach":
                data["file"] = SimpleUploadedFile("x.txt", b"x")
            Ticket.objects.filter(pk=t.pk).update(version=1)
            resp = c.post(reverse(f"service:{name}", args=[t.pk]), data)
            expected = (302, 422) if key in works else (403,) if key in sees else (404,)
            assert resp.status_code in expected, f"{role} {name} {key}: {resp.status_code}"
            if key not in sees:
                assert t.subject not in resp.content.decode()
        # reset what the writes changed
        Ticket.objects.filter(pk=t.pk).update(
            state="new", acknowledged_at=None, department=world.org.service_dept, assignee=None
        )
    for key, cust in world.customers.items():
        resp = client(user).post(reverse("service:customer_link", args=[cust.pk]))
        linkers = works if role not in ("admin", "service") else "AICB"
        if key in linkers:
            assert resp.status_code == 302, f"{role} link {key}"
        else:
            assert resp.status_code == (403 if key in CUSTOMERS[role] else 404), f"{role} link {key}"
    for name in ("settings", "calendar"):
        resp = client(user).post(reverse(f"service:{name}"), {"year": "2099", "complete": "1"})
        assert resp.status_code in ((200, 302) if role == "admin" else (403,))


def test_public_pages_need_the_right_token(world, desk):
    tickets, _files = desk
    link = services.public_link(actor=world.org.admin, customer_id=world.A.pk)
    anon = Client()
    assert anon.get(reverse("service:public_form", args=[link.token])).status_code == 200
    assert anon.get(reverse("service:public_form", args=[link.token + "x"])).status_code == 404
    t = tickets["A"]
    assert anon.get(reverse("service:public_ticket", args=[t.public_token])).status_code == 200
    assert anon.get(reverse("service:public_ticket", args=[t.public_token[:-1]])).status_code == 404
    # staff pages are not public
    for name, args in (("list", []), ("detail", [t.pk]), ("customer_tickets", [world.A.pk])):
        resp = anon.get(reverse(f"service:{name}", args=args))
        assert resp.status_code == 302 and "/login/" in resp["Location"]


CAMPAIGNERS = {"admin", "manager1", "manager2"}


@pytest.mark.parametrize("role", list(TICKETS))
def test_surveys_and_quality(world, role):
    from guanxi.service import surveys
    from guanxi.service.models import SurveyInvitation

    campaign = surveys.create_campaign(actor=world.org.admin, name="全体客户调查", segment="all")
    user = users(world)[role]
    c = client(user)
    assert c.get(reverse("service:surveys")).status_code == 200
    assert c.get(reverse("service:quality")).status_code == 200
    page = c.get(reverse("service:survey_detail", args=[campaign.pk])).content.decode()
    # the personal links of the customers in the user's scope only; a link lets its holder answer
    # as the customer, so the read-only roles (auditor, analyst) see none
    links = (
        "AICB" if role in ("admin", "service") else "" if role in ("analyst", "auditor") else CUSTOMERS[role]
    )
    for inv in SurveyInvitation.objects.filter(campaign=campaign):
        key = next(k for k, cu in world.customers.items() if cu.pk == inv.customer_id)
        assert (inv.token in page) == (key in links), f"{role} link {key}"
    assert c.get(reverse("service:survey_detail", args=[campaign.pk + 1000])).status_code == 404
    resp = c.post(reverse("service:surveys"), {"name": "x", "segment": "all", "days": "10"})
    assert resp.status_code == (302 if role in CAMPAIGNERS else 403)
    inv = SurveyInvitation.objects.filter(campaign=campaign).first()
    anon = Client()
    assert anon.get(reverse("service:survey_answer", args=[inv.token])).status_code == 200
    assert anon.get(reverse("service:survey_answer", args=[inv.token + "x"])).status_code == 404
