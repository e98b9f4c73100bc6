"""The conversation list: access, filters, order, unread, pagination, search, query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Conversation, ConversationReadState
from inbox.selectors import LIST_PAGE_SIZE
from tests.factories import (
    AccountFactory,
    ConversationFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def page(client, url="/", **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_lists_newest_activity_first(logged_in, account):
    now = timezone.now()
    ConversationFactory(
        account=account, customer_name="Older Olga", last_message_at=now - timedelta(hours=2)
    )
    ConversationFactory(account=account, customer_name="Newer Nina", last_message_at=now)
    html = page(logged_in)
    assert html.index("Newer Nina") < html.index("Older Olga")


def test_a_row_shows_picture_name_username_preview_and_window(logged_in, account):
    ConversationFactory(
        account=account,
        customer_name="Jane Doe",
        customer_username="jane.doe",
        customer_picture_url="https://cdn.example.com/jane.jpg",
        last_message_preview="Where is my parcel?",
        last_customer_message_at=timezone.now() - timedelta(hours=22, minutes=5),
    )
    html = page(logged_in)
    assert "Jane Doe" in html
    assert "@jane.doe" in html
    assert "Where is my parcel?" in html
    assert 'src="https://cdn.example.com/jane.jpg"' in html
    assert "1 h left" in html


@pytest.mark.parametrize(
    ("age", "label"),
    [
        (timedelta(hours=2), "21 h left"),
        (timedelta(days=2), "human agent: 4 d left"),
        (timedelta(days=8), "reply window ended"),
    ],
)
def test_it_shows_the_reply_window_state(logged_in, account, age, label):
    ConversationFactory(account=account, last_customer_message_at=timezone.now() - age)
    assert label in page(logged_in)


def test_without_the_human_agent_switch_the_window_closes_at_24_hours(logged_in, account):
    account.human_agent_enabled = False
    account.save()
    ConversationFactory(
        account=account, last_customer_message_at=timezone.now() - timedelta(days=2)
    )
    assert "reply window ended" in page(logged_in)


def test_it_marks_unread_conversations_until_the_agent_reads_them(logged_in, agent, account):
    unread = ConversationFactory(account=account, customer_name="Unread Ursula")
    read = ConversationFactory(account=account, customer_name="Read Rita")
    ConversationReadState.objects.create(conversation=read, user=agent, read_at=timezone.now())
    html = page(logged_in)
    row = html[html.index("Unread Ursula") - 600 : html.index("Unread Ursula")]
    assert "is-unread" in row
    assert "1 unread" in html
    logged_in.get(f"/c/{unread.pk}/")
    assert "is-unread" not in page(logged_in)


def test_a_newer_customer_message_makes_it_unread_again(logged_in, agent, account):
    conversation = ConversationFactory(account=account)
    ConversationReadState.objects.create(
        conversation=conversation, user=agent, read_at=timezone.now() - timedelta(minutes=5)
    )
    assert "is-unread" in page(logged_in)


def test_unread_is_per_agent(client, agent, account):
    conversation = ConversationFactory(account=account)
    colleague = UserFactory(username="bob")
    account.members.add(colleague)
    client.force_login(colleague)
    client.get(f"/c/{conversation.pk}/")
    client.force_login(agent)
    assert "is-unread" in page(client)


def test_it_filters_open_and_closed(logged_in, account):
    ConversationFactory(account=account, customer_name="Open Olive")
    ConversationFactory(
        account=account, customer_name="Closed Clara", status=Conversation.Status.CLOSED
    )
    open_page = page(logged_in)
    assert "Open Olive" in open_page
    assert "Closed Clara" not in open_page
    closed_page = page(logged_in, status="closed")
    assert "Closed Clara" in closed_page
    assert "Open Olive" not in closed_page


def test_it_filters_mine_and_unassigned(logged_in, agent, account):
    colleague = UserFactory(username="bob")
    ConversationFactory(account=account, customer_name="Mine Mona", assignee=agent)
    ConversationFactory(account=account, customer_name="Bobs Berta", assignee=colleague)
    ConversationFactory(account=account, customer_name="Nobodys Nora")
    mine = page(logged_in, box="mine")
    assert "Mine Mona" in mine
    assert "Bobs Berta" not in mine
    assert "Nobodys Nora" not in mine
    unassigned = page(logged_in, box="unassigned")
    assert "Nobodys Nora" in unassigned
    assert "Mine Mona" not in unassigned
    everyone = page(logged_in, box="all")
    assert all(name in everyone for name in ("Mine Mona", "Bobs Berta", "Nobodys Nora"))


def test_it_offers_an_account_filter_when_the_agent_has_several(logged_in, agent, account):
    second = AccountFactory(username="second_shop")
    second.members.add(agent)
    ConversationFactory(account=account, customer_name="First Fiona")
    ConversationFactory(account=second, customer_name="Second Sara")
    html = page(logged_in)
    assert 'name="account"' in html
    assert "@second_shop" in html
    filtered = page(logged_in, account=second.pk)
    assert "Second Sara" in filtered
    assert "First Fiona" not in filtered


def test_a_single_account_agent_gets_no_account_filter(logged_in, account):
    assert 'name="account"' not in page(logged_in)


def test_filtering_on_another_accounts_id_shows_nothing_of_it(logged_in):
    other = ConversationFactory(customer_name="Secret Sam")
    assert "Secret Sam" not in page(logged_in, account=other.account_id)


def test_bad_filter_values_fall_back_to_the_default_view(logged_in, account):
    ConversationFactory(account=account, customer_name="Visible Vera")
    html = page(logged_in, status="bogus", box="nope", account="x", older="garbage~")
    assert "Visible Vera" in html


@pytest.mark.parametrize("query", ["Jane", "jane.doe", "@jane.doe", "parcel"])
def test_it_searches_names_usernames_and_message_text(logged_in, account, query):
    jane = ConversationFactory(
        account=account, customer_name="Jane Doe", customer_username="jane.doe"
    )
    MessageFactory(conversation=jane, text="Where is my PARCEL please")
    ConversationFactory(account=account, customer_name="Other Person", customer_username="other")
    html = page(logged_in, q=query)
    assert "Jane Doe" in html
    assert "Other Person" not in html


def test_search_looks_in_the_tab_the_agent_is_on(logged_in, account):
    ConversationFactory(
        account=account, customer_name="Resolved Carla", status=Conversation.Status.CLOSED
    )
    ConversationFactory(account=account, customer_name="Open Carla")
    in_open = page(logged_in, q="carla")
    assert "Open Carla" in in_open
    assert "Resolved Carla" not in in_open
    assert "Search open:" in in_open  # said in the box, before Enter
    in_resolved = page(logged_in, q="carla", status="closed")
    assert "Resolved Carla" in in_resolved
    assert "Open Carla" not in in_resolved
    assert "Search resolved:" in in_resolved


def test_a_hit_shows_the_line_that_matched_highlighted(logged_in, account):
    jane = ConversationFactory(
        account=account, customer_name="Jane", last_message_preview="Message unsent"
    )
    MessageFactory(conversation=jane, text="Hello\nmy parcel <b>42</b> is late\nthanks")
    MessageFactory(conversation=jane, text="parcel gone", is_deleted=True)
    html = page(logged_in, q="PARCEL")
    assert "my <mark>parcel</mark> &lt;b&gt;42&lt;/b&gt; is late" in html
    assert "Message unsent" not in html


def test_search_never_reaches_another_accounts_conversations(logged_in):
    other = ConversationFactory(customer_name="Hidden Hanna")
    MessageFactory(conversation=other, text="hidden words")
    html = page(logged_in, q="hidden")
    assert "Hidden Hanna" not in html


def test_search_treats_like_wildcards_literally(logged_in, account):
    ConversationFactory(account=account, customer_name="Percy")
    assert "Percy" not in page(logged_in, q="%")


def test_every_conversation_is_reachable_by_following_older_links(logged_in, account):
    now = timezone.now()
    total = LIST_PAGE_SIZE * 2 + 7
    for i in range(total):
        ConversationFactory(account=account, last_message_at=now - timedelta(minutes=i % 50))
    ConversationFactory(account=account, last_message_at=None)  # no message yet: still listed
    seen: set[int] = set()
    url, pages = "/", 0
    while url:
        response = logged_in.get(url)
        rows = [row for row in response.context["page"].conversations]
        assert not {c.pk for c in rows} & seen, "a conversation appeared on two pages"
        seen |= {c.pk for c in rows}
        older = response.context["page"].older_cursor
        url = f"/?older={older}" if older else ""
        assert ('href="?older=' in response.content.decode()) == bool(older)
        pages += 1
    assert len(seen) == total + 1
    assert pages == 3


def test_newer_links_walk_back_to_the_first_page(logged_in, account):
    now = timezone.now()
    for i in range(LIST_PAGE_SIZE + 5):
        ConversationFactory(account=account, last_message_at=now - timedelta(minutes=i))
    first = logged_in.get("/").context["page"]
    second = logged_in.get("/", {"older": first.older_cursor}).context["page"]
    back = logged_in.get("/", {"newer": second.newer_cursor}).context["page"]
    assert [c.pk for c in back.conversations] == [c.pk for c in first.conversations]
    assert back.is_first


def _count_list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_list_costs_a_fixed_number_of_queries(logged_in, agent, account):
    second = AccountFactory()
    second.members.add(agent)
    colleague = UserFactory(username="bob")
    ConversationFactory.create_batch(2, account=account, assignee=colleague)
    few = _count_list_queries(logged_in)
    ConversationFactory.create_batch(20, account=account, assignee=colleague)
    ConversationFactory.create_batch(20, account=second, assignee=agent)
    for conversation in Conversation.objects.all()[:10]:
        ConversationReadState.objects.create(conversation=conversation, user=agent)
    assert _count_list_queries(logged_in) == few
    assert few <= 9  # 8, and the unread mentions (team work)


def test_it_escapes_customer_names_and_previews(logged_in, account):
    ConversationFactory(
        account=account,
        customer_name="<script>alert('name')</script>",
        last_message_preview="<img src=x onerror=alert(1)>",
    )
    html = page(logged_in)
    assert "<script>alert('name')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html


def test_the_rows_fragment_answers_204_when_nothing_changed(logged_in, account):
    ConversationFactory(account=account, customer_name="Polly Poll")
    first = logged_in.get("/", {"fragment": "rows"})
    assert first.status_code == 200
    assert "Polly Poll" in first.content.decode()
    version = first["X-Inbox-Version"]
    assert logged_in.get("/", {"fragment": "rows", "v": version}).status_code == 204
    ConversationFactory(account=account, customer_name="Newcomer Nell")
    changed = logged_in.get("/", {"fragment": "rows", "v": version})
    assert changed.status_code == 200
    assert "Newcomer Nell" in changed.content.decode()
    assert changed["X-Inbox-Unread"] == "2"


def test_htmx_search_gets_only_the_rows(logged_in, account):
    ConversationFactory(account=account, customer_name="Jane Doe")
    response = logged_in.get("/", {"q": "jane"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Jane Doe" in html
    assert "<html" not in html


def test_the_list_page_title_counts_unread(logged_in, account):
    ConversationFactory.create_batch(3, account=account)
    assert "<title>(3) Inbox" in page(logged_in)


def _walk(client, params):
    """Every conversation a search reaches by following its Older links, in order."""
    found, url_params = [], dict(params)
    for _ in range(50):
        response = client.get("/", url_params)
        found += [c.pk for c in response.context["page"].conversations]
        older = response.context["page"].older_cursor
        if not older:
            return found
        url_params = {**params, "older": older}
    raise AssertionError("pagination did not end")


def test_a_common_term_is_searched_window_by_window_and_reaches_every_match(
    logged_in, account, monkeypatch
):
    from inbox import selectors_search

    monkeypatch.setattr(selectors_search, "SEARCH_PROBE", 3)
    monkeypatch.setattr(selectors_search, "SEARCH_WINDOW", 4)
    now = timezone.now()
    expected = []
    for i in range(15):
        conversation = ConversationFactory(
            account=account, last_message_at=now - timedelta(minutes=i)
        )
        if i % 3 != 1:
            MessageFactory(conversation=conversation, text=f"I want a refund {i}")
            expected.append(conversation.pk)
    named = ConversationFactory(
        account=account, customer_name="Refund Rita", last_message_at=now - timedelta(hours=5)
    )
    expected.append(named.pk)
    assert _walk(logged_in, {"q": "refund"}) == expected


def test_a_short_query_searches_names_only(logged_in, account):
    ConversationFactory(account=account, customer_name="Al Green")
    other = ConversationFactory(account=account, customer_name="Bea")
    MessageFactory(conversation=other, text="al")
    html = page(logged_in, q="al")
    assert "Al Green" in html
    assert "Bea" not in html


def test_ticking_ages_alone_do_not_count_as_a_change(logged_in, account):
    import time_machine

    with time_machine.travel(timezone.now(), tick=False) as clock:
        ConversationFactory(
            account=account,
            last_message_at=timezone.now(),
            last_customer_message_at=timezone.now() - timedelta(hours=2, minutes=30),
        )
        version = logged_in.get("/", {"fragment": "rows"})["X-Inbox-Version"]
        clock.shift(timedelta(minutes=5))
        assert logged_in.get("/", {"fragment": "rows", "v": version}).status_code == 204


def test_the_thread_pages_list_poll_keeps_the_open_conversation_highlighted(logged_in, account):
    import re

    conversation = ConversationFactory(account=account)
    html = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    version = re.search(r'id="conv-list"[^>]*data-v="([0-9a-f]+)"', html).group(1)
    poll = logged_in.get("/", {"fragment": "rows", "current": conversation.pk, "v": version})
    assert poll.status_code == 204


def test_a_manager_is_linked_to_the_reports_and_to_admin(client, manager, account):
    ConversationFactory(account=account, customer_name="Jane Doe")
    client.force_login(manager)
    html = page(client)
    assert "You manage the team" in html
    guide = html[html.index("You manage the team") :]
    assert 'href="/reports/"' in guide
    assert 'href="/admin/inbox/conversation/"' in guide


def test_an_agent_sees_no_managers_guide(logged_in):
    assert "You manage the team" not in page(logged_in)
