"""Satisfaction surveys (C9) and service quality figures: campaigns, personal links (single use,
expiry, tampered token), NPS on a known set, the detractor's follow-up ticket, results per
customer / segment / owner / period, and the quality figures with their definitions."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.core.errors import Forbidden, NotFound, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.service import services, surveys
from guanxi.service.models import SurveyCampaign, SurveyInvitation, Ticket

GOOD = {
    "nps": 9,
    "overall": 90,
    "product_quality": 5,
    "service_response": 4,
    "value_for_money": 4,
    "cooperation": 5,
    "comment": "很好",
}


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


def test_nps_on_a_known_set():
    assert surveys.nps([]) is None
    assert surveys.nps([10, 9, 8, 7, 6, 0]) == 0
    assert surveys.nps([10, 10, 9, 3]) == 50
    assert surveys.nps([0, 1, 2, 6]) == -100
    assert surveys.nps([7, 8]) == 0
    assert surveys.nps([9, 10, 10]) == 100


@pytest.fixture
def campaign(world):
    Customer.objects.filter(pk__in=[world.A.pk, world.B.pk]).update(is_key_account=True)
    return surveys.create_campaign(
        actor=world.org.admin, name="2026 Q4 大客户", segment="key_accounts", days=30
    )


def test_a_campaign_sends_a_link_per_contact_of_the_chosen_customers(world, campaign):
    invs = SurveyInvitation.objects.filter(campaign=campaign)
    assert {(i.customer_id, i.contact_id) for i in invs} == {
        (world.A.pk, world.A1.pk),
        (world.B.pk, world.B1.pk),
    }
    assert len({i.token for i in invs}) == 2
    for user in (world.org.rep1a, world.org.analyst, world.org.auditor, world.org.service):
        with pytest.raises(Forbidden):
            surveys.create_campaign(actor=user, name="x", segment="all")
    with pytest.raises(ValidationFailed) as e:
        surveys.create_campaign(actor=world.org.admin, name="", segment="nope", days=0)
    assert set(e.value.errors) == {"name", "segment", "days"}
    # a manager's campaign covers the customers in their scope
    mine = surveys.create_campaign(actor=world.org.manager2, name="二部", segment="all")
    assert {i.customer_id for i in mine.invitations.all()} == {world.B.pk}


def test_a_link_is_answered_once(world, campaign):
    inv = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    surveys.answer(token=inv.token, data=GOOD)
    with pytest.raises(ValidationFailed) as e:
        surveys.answer(token=inv.token, data={**GOOD, "nps": 0})
    assert "already been answered" in e.value.errors["__all__"][0]
    inv.refresh_from_db()
    assert inv.nps == 9 and inv.follow_up is None


def test_an_expired_or_tampered_link_is_refused(world, campaign):
    inv = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    with pytest.raises(NotFound):
        surveys.answer(token=inv.token[:-1] + ("A" if inv.token[-1] != "A" else "B"), data=GOOD)
    SurveyCampaign.objects.filter(pk=campaign.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    with pytest.raises(ValidationFailed) as e:
        surveys.answer(token=inv.token, data=GOOD)
    assert "expired" in e.value.errors["__all__"][0]
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "expired" in c.get(reverse("service:survey_answer", args=[inv.token])).content.decode()
    assert c.post(reverse("service:survey_answer", args=[inv.token]), GOOD).status_code == 410
    assert c.get(reverse("service:survey_answer", args=["tampered"])).status_code == 404


def test_scores_are_validated(world, campaign):
    inv = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    with pytest.raises(ValidationFailed) as e:
        surveys.answer(
            token=inv.token, data={**GOOD, "nps": 11, "overall": -1, "cooperation": 6, "value_for_money": ""}
        )
    assert set(e.value.errors) == {"nps", "overall", "cooperation", "value_for_money"}
    assert SurveyInvitation.objects.get(pk=inv.pk).answered_at is None


def test_a_detractor_opens_a_follow_up_ticket(world, campaign):
    inv = SurveyInvitation.objects.get(campaign=campaign, customer=world.B)
    inv = surveys.answer(token=inv.token, data={**GOOD, "nps": 3, "overall": 40, "comment": "售后太慢"})
    t = inv.follow_up
    assert t is not None and t.customer == world.B and t.kind == "complaint" and t.state == "new"
    assert "售后太慢" in t.description and t.contact == world.B1
    assert t.events.get().by_customer


def test_results_per_customer_segment_owner_and_period(world, campaign):
    a = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    b = SurveyInvitation.objects.get(campaign=campaign, customer=world.B)
    surveys.answer(token=a.token, data={**GOOD, "nps": 10, "overall": 95})
    surveys.answer(token=b.token, data={**GOOD, "nps": 5, "overall": 50, "product_quality": 2})
    r = surveys.results(world.org.admin)
    assert r["total"].answers == 2 and r["total"].nps == 0 and r["total"].overall == 72.5
    assert r["total"].dims["product_quality"] == 3.5
    assert {f.label: f.nps for f in r["customer"]} == {world.A.name: 100, world.B.name: -100}
    assert {f.label for f in r["owner"]} == {str(world.org.rep1a), str(world.org.rep2a)}
    assert [f.label for f in r["period"]] == [campaign.period]
    # a rep sees their customers' rows only; an analyst the aggregates
    assert [f.label for f in surveys.results(world.org.rep1a)["customer"]] == [world.A.name]
    assert surveys.results(world.org.rep1a)["total"].answers == 1
    assert surveys.results(world.org.analyst)["total"].answers == 2


def test_pages(world, campaign):
    inv = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(world.org.admin)
    assert "2026 Q4 大客户" in c.get(reverse("service:surveys")).content.decode()
    page = c.get(reverse("service:survey_detail", args=[campaign.pk])).content.decode()
    assert inv.token in page
    resp = c.post(reverse("service:surveys"), {"name": "全部客户", "segment": "all", "days": "14"})
    assert resp.status_code == 302
    anon = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("service:survey_answer", args=[inv.token])
    assert anon.get(url).status_code == 200
    assert anon.post(url, {**GOOD, "nps": ""}).status_code == 422
    resp = anon.post(url, GOOD)
    assert resp.status_code == 200 and "Thank you" in resp.content.decode()
    assert "already been answered" in anon.get(url).content.decode()
    q = c.get(reverse("service:quality")).content.decode()
    assert "Resolution rate" in q and "divided by" in q


def test_quality_figures_with_known_tickets(world):
    o = world.org
    data = {
        "kind": "complaint",
        "channel": "hotline",
        "customer_id": world.A.pk,
        "subject": "s",
        "description": "d",
        "cause": "billing",
        "expectation": "e",
        "assignee_id": o.service.pk,
    }
    t1 = services.create_ticket(actor=o.service, data=data)
    t2 = services.create_ticket(actor=o.service, data=data)
    services.transition(actor=o.service, ticket_id=t1.pk, action="acknowledge", version=1)
    services.transition(actor=o.service, ticket_id=t1.pk, action="start", version=2, note="p")
    services.transition(actor=o.service, ticket_id=t1.pk, action="resolve", version=3, note="r")
    # t2 missed its first-response deadline
    Ticket.objects.filter(pk=t2.pk).update(response_due=timezone.now() - datetime.timedelta(hours=1))
    sugg = services.create_ticket(actor=o.service, data={**data, "kind": "suggestion"})
    services.evaluate_suggestion(
        actor=o.service,
        ticket_id=sugg.pk,
        version=1,
        data={"evaluation": "declined", "evaluation_reason": "x"},
    )
    q = surveys.quality(o.service, surveys.current_period())
    total = q["total"][0]
    assert total.tickets == 3 and total.resolution == 33 and total.response_on_time == 50
    assert total.plan_on_time == 100 and total.adoption == 0
    assert [a.label for a in q["agent"]] == [str(o.service)]
    assert [d.label for d in q["department"]] == [str(o.service_dept)]
    assert surveys.quality(o.rep2a, surveys.current_period())["total"][0].tickets == 0


def test_api_lists_surveys_and_their_results(world, campaign, api_as):
    a = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    surveys.answer(token=a.token, data=GOOD)
    api = api_as(world.org.admin)
    listing = api.get("surveys").json()
    assert listing["count"] == 1 and listing["items"][0]["name"] == "2026 Q4 大客户"
    detail = api.get(f"surveys/{campaign.pk}").json()
    assert detail["total"]["nps"] == 100 and detail["per_customer"][0]["label"] == world.A.name
    assert api.get("surveys/999999").status_code == 404
    assert api_as(world.org.rep2a).get(f"surveys/{campaign.pk}").json()["per_customer"] == []


def test_read_only_roles_never_see_the_unanswered_personal_links(world, campaign):
    """A link lets its holder answer as the customer: an auditor (read-only) sees the campaign and
    its results but not the links; the people who send them do."""
    inv = SurveyInvitation.objects.get(campaign=campaign, customer=world.A)
    url = reverse("service:survey_detail", args=[campaign.pk])
    for user, shown in ((world.org.auditor, False), (world.org.service, True), (world.org.manager1, True)):
        c = Client(HTTP_ACCEPT_LANGUAGE="en")
        c.force_login(user)
        resp = c.get(url)
        assert resp.status_code == 200
        page = resp.content.decode()
        assert (inv.token in page) is shown, user.role
        if not shown:
            assert world.A.name in page  # the row is there, only the link is not
