"""The thread page: access, rendering of every kind, escaping, read state, live updates."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import ConversationReadState, Message, Reaction
from inbox.services.live import live_touch_message
from tests.factories import (
    AccountFactory,
    ConversationFactory,
    MessageFactory,
    OutboundMessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(account):
    return ConversationFactory(
        account=account, customer_name="Jane Doe", customer_username="jane.doe"
    )


def thread(client, conversation, **params):
    response = client.get(f"/c/{conversation.pk}/", params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/c/{pk}/", "/c/{pk}/updates/"],
)
def test_another_accounts_conversation_answers_404(logged_in, path):
    other = ConversationFactory(account=AccountFactory())
    assert logged_in.get(path.format(pk=other.pk)).status_code == 404


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/c/{pk}/", {"text": "hello"}),
        ("/c/{pk}/assign/", {"assignee": ""}),
        ("/c/{pk}/status/", {"status": "closed"}),
        ("/c/{pk}/unread/", {}),
    ],
)
def test_actions_on_another_accounts_conversation_answer_404(logged_in, path, data):
    other = ConversationFactory(account=AccountFactory())
    assert logged_in.post(path.format(pk=other.pk), data).status_code == 404
    other.refresh_from_db()
    assert other.status == "open"
    assert not other.messages.exists()


@pytest.mark.parametrize("path", ["/m/{pk}/react/", "/m/{pk}/retry/"])
def test_message_actions_on_another_account_answer_404(logged_in, path):
    message = MessageFactory(conversation=ConversationFactory(account=AccountFactory()))
    assert logged_in.post(path.format(pk=message.pk)).status_code == 404


def test_a_missing_conversation_answers_404(logged_in):
    assert logged_in.get("/c/999999/").status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, conversation):
    response = client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_admin_opens_any_conversation(client, admin_user, conversation):
    client.force_login(admin_user)
    assert client.get(f"/c/{conversation.pk}/").status_code == 200


def test_the_page_holds_the_messages_in_meta_time_order_with_day_separators(
    logged_in, conversation
):
    now = timezone.now()
    MessageFactory(conversation=conversation, text="second today", timestamp=now)
    MessageFactory(
        conversation=conversation, text="first yesterday", timestamp=now - timedelta(days=1)
    )
    MessageFactory(
        conversation=conversation, text="first today", timestamp=now - timedelta(minutes=1)
    )
    html = thread(logged_in, conversation)
    assert html.index("first yesterday") < html.index("first today") < html.index("second today")
    assert html.index("Yesterday") < html.index("first yesterday") < html.index("Today")


def test_the_reply_form_is_a_plain_post_form_with_csrf(logged_in, conversation):
    html = thread(logged_in, conversation)
    form = re.search(r'<form class="composer[^>]*>.*?</form>', html, re.S).group(0)
    assert 'method="post"' in form
    assert "<textarea" in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert " action=" not in form.split(">")[0]  # posts back to the conversation's URL


def test_every_form_on_the_page_carries_a_csrf_token(logged_in, conversation):
    MessageFactory(conversation=conversation)
    OutboundMessageFactory(conversation=conversation, status=Message.Status.FAILED)
    html = thread(logged_in, conversation)
    forms = re.findall(r'<form[^>]*method="post"[^>]*>.*?</form>', html, re.S)
    assert len(forms) >= 6
    assert all("csrfmiddlewaretoken" in form for form in forms)


def test_posts_without_a_csrf_token_are_refused(agent, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    for path in ("/c/{pk}/status/", "/c/{pk}/assign/", "/c/{pk}/"):
        assert client.post(path.format(pk=conversation.pk), {"status": "closed"}).status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_a_customers_script_is_shown_as_text(logged_in, conversation):
    MessageFactory(conversation=conversation, text="<script>alert('pwned')</script> hi")
    html = thread(logged_in, conversation)
    assert "<script>alert('pwned')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; hi" in html


def test_links_in_text_are_escaped_then_linkified(logged_in, conversation):
    MessageFactory(
        conversation=conversation,
        text='see https://example.com/a?b=1&c=2 and <b onclick="x">bold</b>',
    )
    html = thread(logged_in, conversation)
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="nofollow noopener noreferrer">https://example.com/a?b=1&amp;c=2</a>'
    ) in html
    assert '<b onclick="x">' not in html
    assert "&lt;b onclick=&quot;x&quot;&gt;" in html


def test_attachment_urls_other_than_http_are_never_linked(logged_in, conversation):
    MessageFactory(
        conversation=conversation,
        kind=Message.Kind.ATTACHMENT,
        text="",
        attachments=[
            {"type": "share", "url": "javascript:alert(1)"},
            {"type": "image", "payload": {"url": "javascript:x"}},
        ],
        reply_to_story_url="",
    )
    html = thread(logged_in, conversation)
    assert "javascript:" not in html


def test_it_renders_every_kind(logged_in, conversation, agent):
    def msg(**kwargs):
        return MessageFactory(conversation=conversation, **kwargs)

    msg(
        kind="attachment",
        text="",
        attachments=[{"type": "image", "url": "https://cdn.example.com/p.jpg"}],
    )
    msg(
        kind="attachment",
        text="",
        attachments=[{"type": "video", "payload": {"url": "https://cdn.example.com/v.mp4"}}],
    )
    msg(
        kind="attachment",
        text="",
        attachments=[{"type": "audio", "url": "https://cdn.example.com/a.m4a"}],
    )
    msg(
        kind="attachment",
        text="",
        attachments=[{"type": "file", "url": "https://cdn.example.com/f.pdf"}],
    )
    msg(
        kind="attachment",
        text="",
        attachments=[
            {"type": "ig_reel", "url": "https://www.instagram.com/reel/1/", "title": "My reel"}
        ],
    )
    msg(
        kind="attachment",
        text="",
        attachments=[{"type": "share", "url": "https://www.instagram.com/p/2/"}],
    )
    msg(
        kind="attachment",
        text="",
        attachments=[{"type": "story_mention", "url": "https://cdn.example.com/story"}],
    )
    msg(text="nice story", reply_to_story_url="https://www.instagram.com/stories/shop/9/")
    original = msg(text="the original question")
    msg(text="a reply to it", reply_to_mid=original.mid)
    reacted = msg(text="react to me")
    Reaction.objects.create(message=reacted, actor="customer", reaction="love", emoji="😍")
    msg(text="corrected", edit_count=2)
    msg(text="gone", is_deleted=True)
    msg(kind="unsupported", text="")
    msg(kind="postback", text="", details={"title": "Get started", "payload": "START"})
    msg(kind="referral", text="", details={"source": "ADS", "ad_id": "777", "ref": "promo"})
    OutboundMessageFactory(
        conversation=conversation,
        origin="business_app",
        text="from the phone",
        status="sent",
        mid="echo-mid-1",
    )
    OutboundMessageFactory(
        conversation=conversation, text="queued one", status="queued", author=agent
    )
    OutboundMessageFactory(
        conversation=conversation, text="sent one", status="sent", author=agent, tag="HUMAN_AGENT"
    )
    OutboundMessageFactory(conversation=conversation, text="seen one", status="seen", author=agent)
    OutboundMessageFactory(
        conversation=conversation,
        text="failed one",
        status="failed",
        error_code="10",
        error_reason="The window is closed.",
    )
    OutboundMessageFactory(
        conversation=conversation,
        kind="sticker",
        text="",
        attachments=[{"type": "like_heart"}],
        status="sent",
    )
    html = thread(logged_in, conversation)
    assert 'data-enlarge><img src="https://cdn.example.com/p.jpg"' in html
    assert '<video class="media media-video" src="https://cdn.example.com/v.mp4" controls' in html
    assert '<audio class="media media-audio" src="https://cdn.example.com/a.m4a" controls' in html
    assert 'href="https://cdn.example.com/f.pdf"' in html
    assert "Open file" in html
    assert "My reel" in html
    assert 'href="https://www.instagram.com/reel/1/"' in html
    assert 'href="https://www.instagram.com/p/2/"' in html
    assert "Open on Instagram" in html
    assert "Mentioned you in their story" in html
    assert "Replied to your story" in html
    assert 'href="https://www.instagram.com/stories/shop/9/"' in html
    assert '<p class="msg-quote">the original question</p>' in html
    assert "😍" in html
    assert "Edited" in html
    assert "The customer unsent this message" in html
    assert ">gone<" not in html
    assert "can't be shown here" in html
    assert "Tapped: Get started" in html
    assert "Came from an ad" in html
    assert "Ad ID <code>777</code>" in html
    assert "ref “promo”" in html
    assert "Sent from the Instagram app" in html
    assert "◷ Queued" in html
    assert "✓ Sent" in html
    assert "✓✓ Seen" in html
    assert "Not delivered" in html
    assert "The window is closed." in html
    assert "Retry" in html
    assert "Human agent" in html
    assert 'aria-label="Heart"' in html


def test_inbound_messages_offer_a_heart_reaction(logged_in, conversation):
    message = MessageFactory(conversation=conversation)
    html = thread(logged_in, conversation)
    assert f'action="/m/{message.pk}/react/"' in html


def test_opening_a_conversation_marks_it_read(logged_in, agent, conversation):
    before = timezone.now()
    thread(logged_in, conversation)
    state = ConversationReadState.objects.get(conversation=conversation, user=agent)
    assert state.read_at >= before
    thread(logged_in, conversation)
    assert ConversationReadState.objects.filter(conversation=conversation, user=agent).count() == 1


def test_mark_unread_brings_it_back(logged_in, agent, conversation):
    thread(logged_in, conversation)
    response = logged_in.post(f"/c/{conversation.pk}/unread/", {"list_query": "box=mine"})
    assert response.status_code == 302
    assert response["Location"] == "/?box=mine"
    assert not ConversationReadState.objects.filter(conversation=conversation, user=agent).exists()


def test_the_customer_panel_shows_the_profile(logged_in, conversation):
    conversation.customer_follower_count = 4321
    conversation.customer_follows_business = True
    conversation.business_follows_customer = False
    conversation.save()
    html = thread(logged_in, conversation)
    assert "4321" in html
    assert re.search(r"Follows you</dt><dd>Yes", html)
    assert re.search(r"You follow them</dt><dd>No", html)
    assert "First contact" in html
    assert 'href="https://www.instagram.com/jane.doe/"' in html
    assert 'href="https://ig.me/m/jane.doe"' in html


def _panel(html):
    return html[html.index('data-part="panel"') :]


def test_the_customer_panel_shows_the_newest_ad_however_far_back(logged_in, conversation):
    from inbox.selectors import THREAD_PAGE_SIZE

    start = timezone.now() - timedelta(days=2)
    ad = {"ad_id": "77", "ads_context_data": {"ad_title": "Spring sale"}}
    MessageFactory(
        conversation=conversation, details={"referral": ad}, timestamp=start, text="from spring"
    )
    MessageFactory(
        conversation=conversation,
        kind=Message.Kind.REFERRAL,
        details={"source": "ADS", "ad_id": "88", "ads_context_data": {"ad_title": "Summer"}},
        timestamp=start + timedelta(seconds=1),
    )
    # Newer, yet no ad: an ig.me link, and a referral on our side of the thread.
    MessageFactory(
        conversation=conversation,
        details={"referral": {"source": "IGME", "ref": "bio"}},
        timestamp=start + timedelta(seconds=2),
    )
    OutboundMessageFactory(
        conversation=conversation, details={"referral": ad}, timestamp=start + timedelta(seconds=3)
    )
    for i in range(THREAD_PAGE_SIZE + 1):
        MessageFactory(conversation=conversation, timestamp=start + timedelta(minutes=1 + i))
    html = thread(logged_in, conversation)
    assert "from spring" not in html  # far older than the page shown
    panel = _panel(html)
    assert 'data-ad="88"' in panel
    assert "Summer" in panel
    assert "Spring sale" not in panel


def test_the_customer_panel_shows_no_ad_when_none_brought_the_customer(logged_in, conversation):
    MessageFactory(conversation=conversation, details={"referral": {"source": "IGME"}})
    assert "Came from an ad" not in _panel(thread(logged_in, conversation))


def test_the_window_state_sits_above_the_reply_box(logged_in, conversation):
    conversation.last_customer_message_at = timezone.now() - timedelta(days=3)
    conversation.save()
    html = thread(logged_in, conversation)
    assert "Sent with the human agent tag" in html
    assert "3 d left" in html


def test_a_closed_window_disables_the_box_with_the_reason(logged_in, conversation):
    conversation.last_customer_message_at = timezone.now() - timedelta(days=8)
    conversation.save()
    html = thread(logged_in, conversation)
    assert "No reply can be sent now." in html
    assert "More than 7 days" in html
    assert re.search(r"<textarea[^>]*disabled", html)


def numbered_messages(conversation, count, at):
    """`count` messages "number 0000", "number 0001", ..., the i-th at `at(i)`."""
    for i in range(count):
        MessageFactory(conversation=conversation, text=f"number {i:04d}", timestamp=at(i))


def test_long_threads_show_the_newest_and_link_to_earlier(logged_in, conversation):
    from inbox.selectors import THREAD_PAGE_SIZE

    start = timezone.now() - timedelta(days=1)
    numbered_messages(conversation, THREAD_PAGE_SIZE + 3, lambda i: start + timedelta(seconds=i))
    html = thread(logged_in, conversation)
    assert "number 0002" not in html
    assert f"number {THREAD_PAGE_SIZE + 2:04d}" in html
    earlier = re.search(r'href="\?before=(\d+)"', html).group(1)
    older = thread(logged_in, conversation, before=earlier)
    assert "number 0000" in older
    assert "number 0002" in older
    assert f"number {THREAD_PAGE_SIZE + 2:04d}" not in older


def test_earlier_pages_split_messages_of_the_same_second_by_id(logged_in, conversation):
    from inbox.selectors import THREAD_PAGE_SIZE

    moment = timezone.now() - timedelta(hours=1)
    # The page boundary falls among messages stored with the same Meta timestamp.
    numbered_messages(
        conversation,
        THREAD_PAGE_SIZE + 10,
        lambda i: moment if i < 20 else moment + timedelta(seconds=i),
    )
    pages, url_params = [], {}
    while True:
        html = thread(logged_in, conversation, **url_params)
        pages.append(re.findall(r"number (\d{4})", html))
        earlier = re.search(r'href="\?before=(\d+)"', html)
        if not earlier:
            break
        url_params = {"before": earlier.group(1)}
    assert [len(page) for page in pages] == [THREAD_PAGE_SIZE, 10]
    shown = [number for page in reversed(pages) for number in page]
    assert shown == [f"{i:04d}" for i in range(THREAD_PAGE_SIZE + 10)]


def _thread_queries(client, conversation):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/c/{conversation.pk}/").status_code == 200
    return len(queries)


def test_the_thread_costs_a_fixed_number_of_queries(logged_in, agent, conversation):
    colleague = UserFactory(username="bob")
    conversation.account.members.add(colleague)
    MessageFactory(conversation=conversation)
    _thread_queries(logged_in, conversation)  # the agent's first read creates their stamp
    few = _thread_queries(logged_in, conversation)
    for i in range(25):
        inbound = MessageFactory(conversation=conversation)
        Reaction.objects.create(message=inbound, actor="customer", reaction="love")
        OutboundMessageFactory(
            conversation=conversation,
            author=colleague if i % 2 else agent,
            reply_to_mid=inbound.mid,
        )
    ConversationFactory.create_batch(10, account=conversation.account)
    assert _thread_queries(logged_in, conversation) == few
    # 14, plus labels (the list's label filter, its rows' labels and the conversation's)
    # and the page's notes, its activity lines, the saved replies, the agent's mentions
    # marked read and their unread count (team work, see tests/team).
    assert few <= 20


def test_a_thread_pages_long_costs_what_a_short_one_does(logged_in, conversation):
    """Nothing on the page reads the whole thread: not the page, the link to earlier
    messages, the reactions, nor the customer panel's ad."""
    from inbox.selectors import THREAD_PAGE_SIZE

    start = timezone.now() - timedelta(days=1)
    MessageFactory(conversation=conversation, timestamp=start)
    _thread_queries(logged_in, conversation)  # the agent's first read creates their stamp
    short = _thread_queries(logged_in, conversation)
    for i in range(3 * THREAD_PAGE_SIZE):
        message = MessageFactory(conversation=conversation, timestamp=start + timedelta(seconds=i))
        Reaction.objects.create(message=message, actor="customer", reaction="love")
    with CaptureQueriesContext(connection) as queries:
        html = thread(logged_in, conversation)
    assert len(queries) == short
    assert html.count('class="msg msg-in') == THREAD_PAGE_SIZE
    assert 'href="?before=' in html
    # The reactions of the messages shown, not of the one read to know earlier ones exist.
    (reactions,) = [q["sql"] for q in queries.captured_queries if "inbox_reaction" in q["sql"]]
    read_for = set(re.search(r"IN \(([\d, ]+)\)", reactions).group(1).split(", "))
    assert read_for == set(re.findall(r'<article class="msg[^"]*" id="m-(\d+)"', html))
    earlier = re.search(r'href="\?before=(\d+)"', html).group(1)
    with CaptureQueriesContext(connection) as queries:
        thread(logged_in, conversation, before=earlier)
    assert len(queries) == short


def test_updates_answer_204_until_something_changes(logged_in, conversation):
    message = MessageFactory(conversation=conversation, text="first")
    version = re.search(
        r'data-v="([0-9a-f]+)" data-conversation', thread(logged_in, conversation)
    ).group(1)
    url = f"/c/{conversation.pk}/updates/"
    assert logged_in.get(url, {"v": version}).status_code == 204
    MessageFactory(conversation=conversation, text="a new one")
    response = logged_in.get(url, {"v": version})
    assert response.status_code == 200
    assert "a new one" in response.content.decode()
    new_version = re.search(
        r'class="thread-update" data-v="([0-9a-f]+)"', response.content.decode()
    ).group(1)
    assert logged_in.get(url, {"v": new_version}).status_code == 204
    # A change made by a conditional UPDATE (no updated_at, no signal) still shows: the
    # code writing it touches the live stamps, as every write path does.
    Message.objects.filter(pk=message.pk).update(edit_count=1)
    live_touch_message(message=message)
    assert logged_in.get(url, {"v": new_version}).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda m: Message.objects.filter(pk=m.pk).update(status=Message.Status.SENT),
        lambda m: Reaction.objects.create(message=m, actor="customer", reaction="love"),
        lambda m: Message.objects.filter(pk=m.pk).update(is_deleted=True),
    ],
)
def test_updates_notice_status_reactions_and_unsends(logged_in, conversation, change):
    message = OutboundMessageFactory(conversation=conversation, status=Message.Status.SENDING)
    version = re.search(
        r'data-v="([0-9a-f]+)" data-conversation', thread(logged_in, conversation)
    ).group(1)
    change(message)
    live_touch_message(message=message)  # as every write path does (tests/inbox/test_live.py)
    assert logged_in.get(f"/c/{conversation.pk}/updates/", {"v": version}).status_code == 200


def test_updates_mark_read_only_when_the_agent_is_looking(logged_in, agent, conversation):
    url = f"/c/{conversation.pk}/updates/"
    logged_in.get(url, {"visible": "0"})
    assert not ConversationReadState.objects.filter(user=agent).exists()
    logged_in.get(url, {"visible": "1"})
    assert ConversationReadState.objects.filter(user=agent).exists()


def test_a_picture_link_that_is_not_http_is_never_used(logged_in, conversation):
    conversation.customer_picture_url = "javascript:alert(1)"
    conversation.save()
    assert "javascript:" not in thread(logged_in, conversation)
    assert "javascript:" not in logged_in.get("/").content.decode()


@pytest.mark.parametrize("version", ["", "stale"])
def test_a_thread_poll_works_out_the_reply_window_once(
    logged_in, conversation, monkeypatch, version
):
    """The window decides the header, the composer, the reactions and the poll's version:
    one computation serves them all (a changed poll renders, an unchanged one answers 204)."""
    from inbox import presenters
    from inbox.outbound import replies

    calls = []
    real = presenters.conversation_reply_window

    def counted(**kwargs):
        calls.append(kwargs["conversation"].pk)
        return real(**kwargs)

    monkeypatch.setattr(presenters, "conversation_reply_window", counted)
    monkeypatch.setattr(replies, "conversation_reply_window", counted)
    MessageFactory(conversation=conversation, text="hi")
    response = logged_in.get(f"/c/{conversation.pk}/updates/", {"v": version})
    assert response.status_code == 200
    assert calls == [conversation.pk]
