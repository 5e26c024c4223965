"""Browser test of the service desk's main flow: a service agent opens a complaint from the
customer's card, works it to resolved, and the customer confirms it on a phone through the
personal link (headless Debian Chromium; skipped without it, failing under CI)."""

from __future__ import annotations

import pytest

import factories
from browser_support import TIMEOUT_MS, log_in
from guanxi.service.models import Ticket


@pytest.mark.browser
def test_agent_works_a_complaint_and_the_customer_confirms_it(browser_page, browser, live_server, org):
    from playwright.sync_api import expect

    page = browser_page
    customer = factories.make_customer(org.rep1a, name="苏州恒通精密机械有限公司", city="苏州")
    log_in(page, "service")

    # the customer's card shows its service section (loaded by htmx) with a "New ticket" link
    page.goto(f"/customers/{customer.pk}/")
    section = page.locator("#service")
    expect(section).to_contain_text("No service tickets yet.")
    section.get_by_role("link", name="New ticket").click()
    page.wait_for_url("**/service/new/**")

    page.locator("#id_kind").select_option("complaint")
    page.locator("#id_channel").select_option("hotline")
    page.locator("#id_severity").select_option("high")
    page.locator("#id_subject").fill("到货轴承尺寸超差")
    page.locator("#id_description").fill("三月到货的一批轴承内径超差 0.02mm。")
    page.locator("#id_cause").select_option("product_tolerance")
    page.locator("#id_expectation").fill("三天内补发合格品")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url("**/service/*/")
    ticket = Ticket.objects.get(subject="到货轴承尺寸超差")
    assert ticket.customer == customer and ticket.state == "new"
    expect(page.locator("#ticket-state")).to_contain_text("New")

    # new → acknowledged → in progress (with a plan) → resolved (with the resolution)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#ticket-state")).to_contain_text("Acknowledged")
    page.locator("#note-start").fill("安排质检复核并补发合格品")
    page.get_by_role("button", name="Start work with a plan").click()
    expect(page.locator("#ticket-state")).to_contain_text("In progress")
    page.locator("#note-resolve").fill("已补发 400 件合格品，客户签收")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#ticket-state")).to_contain_text("Resolved")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("安排质检复核并补发合格品")
    expect(timeline).to_contain_text(str(org.service))
    link = page.locator("#customer-link input").input_value()
    assert ticket.public_token in link

    # the customer, on a phone, without an account, confirms through the personal link
    phone = browser.new_context(
        locale="zh-CN", base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        mobile = phone.new_page()
        mobile.goto(link)
        expect(mobile.locator("#public-state")).to_contain_text("已解决")
        mobile.get_by_role("button", name="是的，我确认问题已解决").click()
        expect(mobile.locator("#public-state")).to_contain_text("已关闭")
    finally:
        phone.close()
    ticket.refresh_from_db()
    assert ticket.state == "closed" and ticket.closed_at is not None
    last = ticket.events.last()
    assert last.by_customer and last.to_state == "closed"

    # the agent sees it closed, confirmed by the customer
    page.reload()
    expect(page.locator("#ticket-state")).to_contain_text("Closed")
    expect(page.locator("#timeline")).to_contain_text("the customer")


@pytest.mark.browser
def test_a_customer_answers_a_survey_on_a_phone_and_a_detractor_opens_a_ticket(browser, live_server, org):
    from playwright.sync_api import expect

    from guanxi.customers.models import Customer
    from guanxi.service import surveys
    from guanxi.service.models import SurveyInvitation

    customer = factories.make_customer(org.rep1a, name="无锡宏达电子有限公司")
    factories.make_contact(org.rep1a, customer, name="赵立新", mobile="13900139000")
    Customer.objects.filter(pk=customer.pk).update(is_key_account=True)
    assert org.service_dept.kind == "service"
    campaign = surveys.create_campaign(actor=org.admin, name="2026 Q4 大客户满意度", segment="key_accounts")
    inv = SurveyInvitation.objects.get(campaign=campaign)

    phone = browser.new_context(
        locale="en-US", base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        page = phone.new_page()
        page.goto(f"/service/s/{inv.token}/")
        expect(page.get_by_role("heading", name="Satisfaction survey")).to_be_visible()
        page.locator("label[for='id_nps_3']").click()  # 3 out of 10: a detractor
        page.locator("#id_overall").fill("45")
        for name in ("product_quality", "service_response", "value_for_money", "cooperation"):
            page.locator(f"label[for='id_{name}_1']").click()  # the second choice: 2 of 5
        page.locator("#id_comment").fill("售后响应太慢")
        page.get_by_role("button", name="Send").click()
        expect(page.locator("#survey-thanks")).to_be_visible()
        # the link is single use
        page.goto(f"/service/s/{inv.token}/")
        expect(page.locator("#survey-closed")).to_contain_text("already been answered")
    finally:
        phone.close()
    inv.refresh_from_db()
    assert (inv.nps, inv.overall, inv.product_quality) == (3, 45, 2)
    ticket = inv.follow_up
    assert ticket is not None and ticket.customer == customer and "售后响应太慢" in ticket.description
