"""The reports page in real Chromium: its charts are drawn (the vendored Chart.js, from the
page's JSON data) with no Content-Security-Policy violation, at laptop and phone widths,
light and dark."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ConversationFactory, UserFactory
from tests.reports.kit import agent_replies, app_echo, close, customer_writes

from .conftest import PHONE, log_in, save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""
CHARTS = ("chart-window", "chart-response", "chart-volume")


def build(account, agent) -> None:
    """A few days of conversations: answered fast, slowly, from the app, never, closed."""
    start = timezone.now() - timedelta(days=5)
    for index in range(12):
        conversation = ConversationFactory(account=account, assignee=agent if index % 2 else None)
        wrote = start + timedelta(hours=7 * index)
        customer_writes(conversation, wrote)
        if index % 4 == 3:
            continue  # never answered
        delay = timedelta(minutes=3 + 40 * index)
        if index % 5 == 0:
            app_echo(conversation, wrote + delay)
        else:
            agent_replies(conversation, agent, written=wrote + delay, accepted=wrote + delay)
        if index % 3 == 0:
            close(conversation, agent, wrote + delay + timedelta(hours=1))


def test_it_draws_the_report_charts_with_their_tables(page, account, agent):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    build(account, agent)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, "boss")

    page.click("text=Reports")
    page.wait_for_url("**/reports/")
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-drawn=true]")
        box = page.locator(f"#{chart}").bounding_box()
        assert box["width"] > 100
        assert box["height"] > 100
    # Chart.js drew something: the canvas is no longer blank.
    painted = page.evaluate(
        """(id) => { const c = document.getElementById(id);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }""",
        "chart-response",
    )
    assert painted
    assert page.locator("#table-window tfoot td.num").inner_text() == "12"
    assert page.locator("#table-heat tbody tr").count() == 7
    assert page.locator("#table-agents tbody tr").count() == 2  # alice, the Instagram app
    assert page.evaluate("window.__violations") == []
    assert console == []
    save(page, "reports-laptop")

    page.select_option("select[name=account]", str(account.pk))
    page.click("form.report-filters button[type=submit]")
    page.wait_for_selector("#chart-volume[data-drawn=true]")
    assert f"account={account.pk}" in page.url

    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector("#chart-volume[data-drawn=true]")
    wide = page.evaluate(
        """(limit) => [...document.querySelectorAll('main *')]
        .filter((e) => e.getBoundingClientRect().right > limit + 1)
        .filter((e) => !e.closest('.table-scroll'))
        .map((e) => e.tagName + '.' + e.className)""",
        PHONE["width"],
    )
    assert wide == []  # nothing in the report pushes the page sideways
    save(page, "reports-phone")


def test_it_reads_well_in_dark_mode(browser, live_server, account, agent):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    build(account, agent)
    context = browser.new_context(
        color_scheme="dark", viewport={"width": 375, "height": 800}, base_url=live_server.url
    )
    page = context.new_page()
    try:
        log_in(page, "boss")
        page.goto("/reports/?range=30d")
        page.wait_for_selector("#chart-window[data-drawn=true]")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)"
        save(page, "reports-phone-dark")
    finally:
        context.close()
