"""Search looks in the tab the agent is on, says so before Enter, and shows the line that
matched, highlighted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ConversationFactory, MessageFactory, UserFactory

from .conftest import log_in
from .themes import fits_the_screen, themed_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

themed = themed_fixture()


@pytest.fixture
def agent(account):
    user = UserFactory(username="alice")
    account.members.add(user)
    return user


def test_search_honours_the_tab_and_shows_the_matching_line(themed, agent, account, conversation):
    page = themed
    earlier = timezone.now() - timedelta(hours=2)
    MessageFactory(
        conversation=conversation, text="Order 1234: the parcel is late", timestamp=earlier
    )
    conversation.last_message_preview = "Message unsent"
    conversation.save()
    resolved = ConversationFactory(
        account=account, customer_name="Rita Resolved", status="closed", last_message_at=earlier
    )
    MessageFactory(conversation=resolved, text="my parcel arrived, thanks", timestamp=earlier)
    log_in(page)
    search = page.locator("#search")
    assert "Search open" in search.get_attribute("placeholder")  # said before Enter
    search.fill("parcel")
    hit = page.locator(f'.row[data-id="{conversation.pk}"] .row-hit')
    hit.wait_for()
    assert hit.locator("mark").inner_text() == "parcel"
    assert "Order 1234: the parcel is late" in hit.inner_text()
    assert "Message unsent" not in page.locator(f'.row[data-id="{conversation.pk}"]').inner_text()
    assert page.locator(".row", has_text="Rita Resolved").count() == 0
    assert fits_the_screen(page)

    page.goto("/?status=closed&q=parcel")
    assert "Search resolved" in page.locator("#search").get_attribute("placeholder")
    assert page.locator(".row", has_text="Rita Resolved").locator("mark").inner_text() == "parcel"
    assert page.locator(f'.row[data-id="{conversation.pk}"]').count() == 0
    assert "Resolved" in page.locator(".search-note").inner_text()
