"""Screenshots of the list and the thread at laptop and phone widths, every message kind."""

import pytest

from .conftest import LAPTOP, PHONE, log_in, save
from .demo import build_inbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_renders_the_inbox_on_a_laptop_and_a_phone(page, agent, account):
    thread = build_inbox(account, agent)
    log_in(page)
    page.goto(f"/c/{thread.pk}/")
    page.wait_for_selector("#messages .msg")
    assert page.locator(".msg-failed .msg-error button", has_text="Retry").count() == 1
    assert "<script>" in page.inner_text("#messages")  # shown as text, never run
    save(page, "inbox-laptop-thread")
    page.goto("/")
    save(page, "inbox-laptop-list")
    page.set_viewport_size(PHONE)
    page.goto(f"/c/{thread.pk}/")
    assert not page.locator(".pane-list").is_visible()
    save(page, "inbox-phone-thread")
    page.goto("/")
    assert page.locator(".pane-list").is_visible()
    save(page, "inbox-phone-list")
    page.set_viewport_size(LAPTOP)
