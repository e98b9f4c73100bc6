"""Every page readable in both themes and usable on a 375 px phone: nothing wider than the
screen, and the top bar's links in a menu there."""

import pytest
from django.utils import timezone

from sandbox.account import sandbox_account_sync
from sandbox.models import SimulatedMessage
from tests.factories import UserFactory

from .conftest import log_in
from .test_sandbox import customer_says
from .themes import EVERY_MODE, contrast, fits_the_screen, themed_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

every_theme = themed_fixture(EVERY_MODE)
READABLE = 4.5  # WCAG AA for body text


@pytest.fixture
def sandbox(live_server, settings):
    settings.SANDBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    return sandbox_account_sync()


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_the_customer_simulator_is_readable_and_fits(every_theme, sandbox, root):
    page = every_theme
    log_in(page, "root")
    page.goto("/sandbox/")
    page.click("text=Add a customer")
    customer_says(page, "Hello, is the dress in stock?")
    # The shop's reply, as the fake Meta records a send.
    customer = SimulatedMessage.objects.get().customer
    SimulatedMessage.objects.create(
        customer=customer,
        mid="m_reply_1",
        direction=SimulatedMessage.Direction.FROM_BUSINESS,
        text="Yes, it is",
    )
    page.locator(".bubble.theirs", has_text="Yes, it is").wait_for()
    assert contrast(page, ".bubble.mine") >= READABLE
    assert contrast(page, ".bubble.theirs") >= READABLE
    assert contrast(page, ".sim ul a[aria-current]") >= READABLE
    assert contrast(page, ".sim button.secondary") >= 3  # large, bold button text
    assert fits_the_screen(page)


# What an agent reads, the small print in the theme's faint colour too (times, ages, hints,
# the byte counter, the customer's id).
TEXT = (
    "h1, h2, label, .row-name, .row-preview, .bubble .text, .hint, .notice, .account-handle,"
    " .row-age, .msg-meta, .composer-hint, .counter, .panel-id"
)
PAGES = ["/", "/c/{pk}/", "/accounts/", "/accounts/{account}/members/", "/sandbox/", "/admin/"]


def test_every_page_fits_the_screen_and_reads_in_both_themes(
    every_theme, sandbox, root, conversation
):
    page = every_theme
    log_in(page, "root")
    for path in PAGES:
        page.goto(path.format(pk=conversation.pk, account=sandbox.pk))
        assert fits_the_screen(page), f"{path} is wider than the screen"
        assert contrast(page, TEXT) >= READABLE, path


def test_on_a_phone_the_top_bar_links_are_in_a_menu(every_theme, sandbox, root):
    page = every_theme
    log_in(page, "root")
    links = ("Customer simulator", "Accounts", "Admin")
    if page.viewport_size["width"] > 400:
        for name in links:
            assert page.locator(".topnav > a", has_text=name).is_visible()
        assert not page.locator(".topmenu").is_visible()
        return
    assert fits_the_screen(page)
    for name in links:
        assert not page.locator(".topnav > a", has_text=name).is_visible()
    page.click(".topmenu summary")
    for name in links:
        assert page.locator(".topmenu-links a", has_text=name).is_visible()
    page.click(".topmenu-links a:has-text('Accounts')")
    page.wait_for_url("**/accounts/")
    assert fits_the_screen(page)
    page.click(".topmenu summary")
    page.click(".topmenu-links button:has-text('Log out')")
    page.wait_for_url("**/login/**")
    assert timezone.now()  # logged out: the login form again
