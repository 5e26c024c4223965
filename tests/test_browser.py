"""Browser tests: headless Debian Chromium driven by Playwright against pytest-django's live server.

``browser_page`` gives a fresh page (English UI) in a shared browser. Without /usr/bin/chromium the
browser tests are skipped with a message saying how to install it; under ``CI`` they fail instead,
so CI always runs them. Nothing is ever downloaded (never ``playwright install``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import factories
from conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install Debian's chromium (apt-get install chromium) to run the browser tests"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
TIMEOUT_MS = 15_000


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        _unavailable(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        _unavailable("pip install playwright (the Python package only; Chromium comes from Debian)")
    # Playwright's sync API runs an event loop in this thread; the live server and the test's own
    # ORM calls are synchronous code on other threads or outside that loop.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    except Exception as e:  # noqa: BLE001 - reported as skip/fail with the reason
        pw.stop()
        _unavailable(f"Chromium did not start ({e}); {INSTALL_HINT}")
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def browser_page(browser, live_server):
    """A fresh page in its own context (cookies), English UI, pointed at the live server."""
    context = browser.new_context(
        locale="en-US", base_url=live_server.url, viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


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
