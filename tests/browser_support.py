"""Browser-test support: headless Debian Chromium driven by Playwright against pytest-django's
live server. The fixtures ``browser`` (one per session) and ``browser_page`` are registered in
conftest.py, so every browser test module shares the one Chromium (two Playwright instances
cannot run on one thread).

Without /usr/bin/chromium the browser tests are skipped with a message saying how to install it;
under ``CI`` they fail instead, so CI always runs them. Nothing is ever downloaded (never
``playwright install``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


def log_in(page, username: str, password: str | None = None) -> None:
    """Sign in through the login form (with the test users' password by default)."""
    if password is None:
        from conftest import PASSWORD as password
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
