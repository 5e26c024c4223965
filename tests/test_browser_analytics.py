"""Browser test of the churn warning: a manager opens the churn list, creates a win-back task with
one click (htmx), and the account manager finds it among their plans. Also checks that the Pareto
chart is drawn. Skips without /usr/bin/chromium, fails under CI (tests/browser_support.py)."""

from __future__ import annotations

import pytest

from browser_support import log_in
from guanxi.engagement.models import Trigger, VisitPlan
from test_analytics_ui import make_scores


@pytest.mark.browser
def test_manager_creates_a_winback_task_and_the_rep_sees_it(browser_page, world):
    from playwright.sync_api import expect

    page = browser_page
    make_scores(world)
    log_in(page, "manager1")

    # the ABC page draws its Pareto chart (ECharts renders into a canvas)
    page.goto("/analytics/abc/")
    expect(page.locator("[data-chart=pareto] canvas").first).to_be_visible()

    page.goto("/analytics/churn/")
    row = page.locator(f"#churn-{world.I.pk}")
    expect(row).to_contain_text(world.I.name)
    expect(row).to_contain_text("Open complaints")
    row.get_by_role("button", name="Create win-back task").click()
    expect(page.locator(f"#churn-{world.I.pk}")).to_contain_text("Task created")
    assert page.url.endswith("/analytics/churn/")  # the row changed in place
    plan = VisitPlan.objects.get(customer=world.I, trigger=Trigger.WIN_BACK)
    assert plan.assignee == world.org.rep1a

    # reloading shows the open task instead of the button: no second task
    page.reload()
    row = page.locator(f"#churn-{world.I.pk}")
    expect(row).to_contain_text("Task open")
    expect(row.get_by_role("button", name="Create win-back task")).to_have_count(0)

    # the account manager finds it among their plans
    page.context.clear_cookies()
    log_in(page, "rep1a")
    page.goto("/engagement/plans/")
    expect(page.locator("main")).to_contain_text(world.I.name)
    page.goto(f"/engagement/plans/{plan.pk}/")
    expect(page.locator("main")).to_contain_text("Win-back")
    expect(page.locator("main")).to_contain_text("Open complaints")
