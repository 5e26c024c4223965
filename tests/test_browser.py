"""Browser tests: headless Debian Chromium driven by Playwright against pytest-django's live server.

``browser_page`` gives a fresh page (English UI) in a shared browser. Without /usr/bin/chromium the
browser tests are skipped with a message saying how to install it; under ``CI`` they fail instead,
so CI always runs them. Nothing is ever downloaded (never ``playwright install``).
"""

from __future__ import annotations

import pytest

import factories
from browser_support import log_in


@pytest.mark.browser
def test_rep_searches_opens_a_card_edits_and_sees_the_history(browser_page, org):
    from playwright.sync_api import expect

    page = browser_page
    customer = factories.make_customer(org.rep1a, name="北京张三丰科技有限公司", city="北京")
    factories.make_customer(org.rep2a, name="北京张三丰贸易有限公司")  # another department's: never shown
    log_in(page, "rep1a")

    # the global search box, by pinyin initials
    search = page.get_by_role("search").first.get_by_role("searchbox")
    search.fill("zsf")
    search.press("Enter")
    page.wait_for_url("**/customers/search/**")
    results = page.get_by_role("link", name="北京张三丰科技有限公司")
    expect(results).to_be_visible()
    expect(page.get_by_text("北京张三丰贸易有限公司")).to_have_count(0)

    # the card
    results.click()
    page.wait_for_url(f"**/customers/{customer.pk}/")
    expect(page.get_by_role("heading", name="北京张三丰科技有限公司").first).to_be_visible()

    # edit a field and save
    page.get_by_role("link", name="Edit").first.click()
    page.wait_for_url(f"**/customers/{customer.pk}/edit/")
    page.get_by_label("City", exact=True).fill("苏州")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/customers/{customer.pk}/")

    # the change is on the card's audit trail, with who made it, the old and the new value
    trail = page.locator("#history")
    expect(trail).to_contain_text("苏州")
    expect(trail).to_contain_text("北京")
    expect(trail).to_contain_text(str(org.rep1a))
    customer.refresh_from_db()
    assert (customer.city, customer.version) == ("苏州", 2)
