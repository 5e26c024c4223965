"""Browser test of the revisit workflow: plan a visit, record it with a next date, and see the next
plan on Today. Skips without /usr/bin/chromium, fails under CI (tests/browser_support.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

import factories
from browser_support import log_in
from guanxi.engagement.models import Visit, VisitPlan


@pytest.mark.browser
def test_plan_record_with_next_date_and_see_the_next_plan_on_today(browser_page, org):
    from playwright.sync_api import expect

    page = browser_page
    customer = factories.make_customer(org.rep1a, name="苏州回访测试有限公司")
    factories.make_contact(org.rep1a, customer, name="赵立新", title="采购经理")
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    log_in(page, "rep1a")

    # the card's visits panel (loaded by htmx) offers to plan a visit
    page.goto(f"/customers/{customer.pk}/")
    page.locator("#visits-panel").get_by_role("link", name="Plan a visit").click()
    page.wait_for_url("**/engagement/plans/new/**")
    page.get_by_label("Date and time").fill(f"{today.isoformat()}T09:30")
    page.get_by_label("Method").select_option("in_person")
    page.get_by_label("Place").fill("客户会议室")
    page.get_by_label("赵立新 采购经理").check()
    page.get_by_label("Purpose").fill("了解产品使用情况")
    page.get_by_role("button", name="Save plan").click()
    page.wait_for_url("**/engagement/plans/*/")
    expect(page.get_by_text("Planned (已计划)").first).to_be_visible()

    # record it, with the next visit tomorrow
    page.get_by_role("link", name="Record the visit").click()
    page.wait_for_url("**/engagement/visits/new/**")
    page.get_by_label("Actual arrival").fill(f"{today.isoformat()}T09:40")
    page.get_by_label("Content of the talks").fill("回顾季度供货，客户满意")
    page.get_by_label("Satisfaction with our service").select_option("4")
    page.get_by_label("Follow-ups (what we promised)").fill("明天带样品再访")
    page.get_by_label("Next visit date").fill(tomorrow.isoformat())
    page.get_by_role("button", name="Save the record").click()
    page.wait_for_url("**/engagement/visits/*/")
    expect(page.get_by_text("10 min late")).to_be_visible()

    visit = Visit.objects.get(customer=customer)
    nxt = VisitPlan.objects.get(follows=visit)
    assert timezone.localtime(nxt.scheduled_at).date() == tomorrow and visit.plan.state == "done"

    # the next plan is on Today
    page.goto("/today/")
    section = page.locator("#today-visits_due")
    expect(section).to_contain_text("苏州回访测试有限公司")
    expect(section).to_contain_text("Tomorrow")
