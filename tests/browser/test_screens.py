"""Screenshots of the list and the thread at laptop and phone widths, every message kind.

They land in test-artifacts/ for a human to judge the design; the assertions check what
must be visible at each width.
"""

import pytest

from .conftest import LAPTOP, PHONE, log_in, save
from .demo import build_inbox, serve_fake_cdn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_renders_the_inbox_on_a_laptop_and_a_phone(page, agent, account):
    thread = build_inbox(account, agent)
    serve_fake_cdn(page)
    page.goto("/")
    save(page, "inbox-laptop-login")
    log_in(page)
    page.goto(f"/c/{thread.pk}/")
    page.wait_for_selector("#messages .msg")
    page.click(".media-image")
    assert page.locator("dialog.viewer img").is_visible()  # click to enlarge
    page.keyboard.press("Escape")
    assert not page.locator("dialog.viewer").is_visible()
    assert page.locator(".msg-failed .msg-error button", has_text="Retry").count() == 1
    assert "<script>" in page.inner_text("#messages")  # shown as text, never run
    assert page.locator("#panel").is_visible()
    save(page, "inbox-laptop-thread")
    # An account alert above the inbox must not push the reply box off the screen.
    page.evaluate(
        "document.querySelector('.topbar').insertAdjacentHTML('afterend',"
        " '<section style=\"height:60px\">Account alert</section>')"
    )
    box = page.locator("#composer").bounding_box()
    assert box["y"] + box["height"] <= LAPTOP["height"] + 1
    page.evaluate("document.getElementById('thread-scroll').scrollTop = 0")
    save(page, "inbox-laptop-thread-top")
    page.goto("/")
    save(page, "inbox-laptop-list")

    page.set_viewport_size(PHONE)
    page.goto(f"/c/{thread.pk}/")
    assert not page.locator(".pane-list").is_visible()
    assert page.locator(".back").is_visible()
    save(page, "inbox-phone-thread")
    page.click(".panel-toggle")
    page.wait_for_timeout(300)
    save(page, "inbox-phone-panel")
    page.goto("/")
    assert page.locator(".pane-list").is_visible()
    assert not page.locator(".pane-thread").is_visible()
    save(page, "inbox-phone-list")


def test_it_has_a_dark_theme(page, agent, account):
    thread = build_inbox(account, agent)
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size(LAPTOP)
    log_in(page)
    page.goto(f"/c/{thread.pk}/")
    page.wait_for_selector("#messages .msg")
    save(page, "inbox-laptop-thread-dark")
