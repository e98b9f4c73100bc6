"""An open thread catches up from polls that carry only what changed: a new message, a
reaction, an edit and a status change all show without a reload, and the messages that did
not change keep their DOM nodes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Message, Reaction
from inbox.services import work
from tests.factories import ConversationFactory, MessageFactory, conversations_listed

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 3000  # the promise: live changes show within 3 seconds


def mark(page, selector: str) -> None:
    page.evaluate(f"document.querySelector({selector!r}).__kept = true")


def kept(page, selector: str) -> bool:
    return page.evaluate(f"document.querySelector({selector!r}).__kept === true")


def test_a_thread_catches_up_from_partial_polls_keeping_what_did_not_change(
    page, agent, conversation
):
    first = conversation.messages.get()
    now = timezone.now()
    second = MessageFactory(
        conversation=conversation, text="And in blue?", timestamp=now - timedelta(minutes=20)
    )
    third = MessageFactory(
        conversation=conversation, text="Size M please", timestamp=now - timedelta(minutes=10)
    )
    updates = []
    page.on(
        "response",
        lambda r: updates.append(r.text()) if "/updates/" in r.url and r.status == 200 else None,
    )
    log_in(page)
    page.click(f'.row[data-id="{conversation.pk}"]')
    page.wait_for_selector(f"#m-{third.pk}")
    page.evaluate("window.__notReloaded = true")
    for message in (first, second, third):
        mark(page, f"#m-{message.pk}")
    mark(page, "[data-part=header]")

    # A new message: it arrives below the others, which stay as they were.
    new = MessageFactory(conversation=conversation, text="Do you ship to Sweden?")
    page.locator(f"#messages > #m-{new.pk}", has_text="Sweden").wait_for(timeout=LIVE_MS)
    assert all(kept(page, f"#m-{m.pk}") for m in (first, second, third))
    assert kept(page, "[data-part=header]")
    ids = page.eval_on_selector_all("#messages > [id^=m-]", "els => els.map(e => e.id)")
    assert ids == [f"m-{m.pk}" for m in (first, second, third, new)]
    # The poll sent the new message and only placeholders for the rest.
    assert "Sweden" in updates[-1]
    assert "Size M please" not in updates[-1]
    assert f'<i id="m-{third.pk}" data-keep hidden></i>' in updates[-1]
    mark(page, f"#m-{new.pk}")

    # A reaction on an older message: that message is redrawn, the others are not.
    Reaction.objects.create(message=second, actor="customer", reaction="love", emoji="❤️")
    page.locator(f"#m-{second.pk} .reactions").wait_for(timeout=LIVE_MS)
    assert not kept(page, f"#m-{second.pk}")
    assert all(kept(page, f"#m-{m.pk}") for m in (first, third, new))

    # An edit of another one.
    edited = Message.objects.get(pk=third.pk)
    edited.earlier_texts = [{"text": edited.text, "at": now.isoformat()}]
    edited.text = "Size L please"
    edited.edit_count = 1
    edited.save()
    page.locator(f"#m-{third.pk}", has_text="Size L please").wait_for(timeout=LIVE_MS)
    assert all(kept(page, f"#m-{m.pk}") for m in (first, new))

    # A status change: the header shows it, the messages stay.
    work.conversation_close(conversation=conversation, actor=agent)
    page.locator("[data-part=header] button", has_text="Reopen").wait_for(timeout=LIVE_MS)
    assert not kept(page, "[data-part=header]")
    assert all(kept(page, f"#m-{m.pk}") for m in (first, new))
    page.locator(".activity-line", has_text="resolved this").wait_for(timeout=LIVE_MS)
    assert page.evaluate("window.__notReloaded") is True


def test_a_page_missing_a_kept_message_asks_for_everything(page, agent, conversation):
    """Should the page lack an item the server believes it holds, the thread still shows
    everything: the poll's placeholders are not merged, the whole thread comes at once."""
    first = conversation.messages.get()
    log_in(page)
    page.click(f'.row[data-id="{conversation.pk}"]')
    page.wait_for_selector(f"#m-{first.pk}")
    page.evaluate(f"document.querySelector('#m-{first.pk}').remove()")
    page.evaluate("window.__notReloaded = true")
    new = MessageFactory(conversation=conversation, text="Still there?")
    page.locator(f"#m-{new.pk}", has_text="Still there?").wait_for(timeout=LIVE_MS)
    page.locator(f"#m-{first.pk}", has_text="linen dress").wait_for(timeout=LIVE_MS)
    assert page.evaluate("window.__notReloaded") is True


def test_the_list_catches_up_keeping_the_rows_that_did_not_change(page, agent, account):
    ann, ben, cat = conversations_listed(account)
    log_in(page)
    page.evaluate("window.__notReloaded = true")
    for c in (ann, ben, cat):
        mark(page, f'.row[data-id="{c.pk}"]')
    # A change in place: only that row is redrawn.
    ben.last_message_preview = "Ben has a question"
    ben.save()
    page.locator(f'.row[data-id="{ben.pk}"]', has_text="Ben has a question").wait_for(
        timeout=LIVE_MS + 1000
    )
    assert kept(page, f'.row[data-id="{ann.pk}"]')
    assert kept(page, f'.row[data-id="{cat.pk}"]')
    # A row moving to the top: the others keep their nodes in their new places.
    cat.last_message_at = timezone.now()
    cat.last_message_preview = "Cat again"
    cat.save()
    page.locator(".rows > li:first-child .row", has_text="Cat again").wait_for(
        timeout=LIVE_MS + 1000
    )
    order = page.eval_on_selector_all(".row", "els => els.map(e => e.dataset.id)")
    assert order == [str(c.pk) for c in (cat, ann, ben)]
    assert kept(page, f'.row[data-id="{ann.pk}"]')
    assert page.evaluate("window.__notReloaded") is True


def test_a_list_missing_a_kept_row_asks_for_them_all(page, agent, account):
    now = timezone.now()
    ann, ben = (
        ConversationFactory(
            account=account,
            customer_name=name,
            last_message_at=now - timedelta(minutes=i + 1),
            last_message_preview=f"{name} wrote",
        )
        for i, name in enumerate(["Ann", "Ben"])
    )
    log_in(page)
    page.evaluate(f"document.querySelector('.row[data-id=\"{ann.pk}\"]').closest('li').remove()")
    ben.last_message_preview = "Ben has a question"
    ben.save()
    page.locator(".row", has_text="Ben has a question").wait_for(timeout=LIVE_MS + 1000)
    page.locator(f'.row[data-id="{ann.pk}"]', has_text="Ann wrote").wait_for(timeout=LIVE_MS)
