"""Labels: added by name and removed on the conversation page, shown on list rows,
filtered with ?label=NAME (several at once), refused when odd, 404 for other accounts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inbox.models import Conversation, ConversationLabel, Label
from inbox.presenters import reply_state_present, thread_version
from inbox.services.labels import conversation_label_add, label_for_name
from tests.factories import AccountFactory, ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(account):
    return ConversationFactory(account=account, customer_name="Jane Label")


def _labels(conversation):
    return sorted(conversation.labels.values_list("name", flat=True))


def test_it_adds_a_label_by_name_and_shows_it_on_the_page_and_the_row(logged_in, conversation):
    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()
    assert 'name="label"' in page
    response = logged_in.post(f"/c/{conversation.pk}/labels/", {"label": "  VIP   customer "})
    assert response.status_code == 302
    assert _labels(conversation) == ["VIP customer"]
    label = Label.objects.get()
    assert label.color in Label.Color.values
    page = logged_in.get(response["Location"]).content.decode()
    assert "Label “VIP customer” added." in page
    assert f'class="label label-{label.color}"><bdi>VIP customer</bdi>' in page
    rows = logged_in.get("/").content.decode()
    assert "<bdi>VIP customer</bdi>" in rows


def test_the_same_name_in_another_case_is_the_same_label(logged_in, conversation):
    other = ConversationFactory(account=conversation.account)
    logged_in.post(f"/c/{conversation.pk}/labels/", {"label": "Refund"})
    logged_in.post(f"/c/{other.pk}/labels/", {"label": "refund"})
    logged_in.post(f"/c/{other.pk}/labels/", {"label": "REFUND"}, headers=HTMX)
    assert Label.objects.count() == 1
    assert ConversationLabel.objects.count() == 2


def test_a_label_posted_to_the_conversation_page_itself_is_added(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/", {"label": "vip"})
    assert response.status_code == 302
    assert _labels(conversation) == ["vip"]


def test_it_removes_a_label(logged_in, conversation, agent):
    label = label_for_name(name="vip")
    conversation_label_add(conversation=conversation, label=label, actor=agent)
    response = logged_in.post(f"/c/{conversation.pk}/labels/", {"remove": label.pk}, headers=HTMX)
    assert response.status_code == 204
    assert _labels(conversation) == []
    assert Label.objects.filter(pk=label.pk).exists()  # the label stays for others


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "Type a label name."),
        ("   ", "Type a label name."),
        ("x" * 41, "at most 40 characters (this one has 41)"),
        ("<b>vip</b>", "letters, digits, spaces"),
        ("-vip", "starts with a letter or digit"),
        ("vip\u202e", "letters, digits, spaces"),
    ],
)
def test_it_refuses_an_odd_label_name_and_saves_nothing(logged_in, conversation, name, error):
    response = logged_in.post(f"/c/{conversation.pk}/labels/", {"label": name}, headers=HTMX)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Label.objects.exists()
    assert not ConversationLabel.objects.exists()


def test_a_plain_form_gets_the_refusal_on_the_page(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/labels/", {"label": "a" * 80}, follow=True)
    assert "at most 40 characters" in response.content.decode()


def test_removing_a_label_that_is_gone_is_a_clear_refusal(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/labels/", {"remove": 999}, headers=HTMX)
    assert response.status_code == 422
    assert "no longer exists" in response.content.decode()


def test_another_accounts_conversation_is_404(logged_in):
    theirs = ConversationFactory(account=AccountFactory())
    label = label_for_name(name="vip")
    assert logged_in.post(f"/c/{theirs.pk}/labels/", {"label": "vip"}).status_code == 404
    assert logged_in.post(f"/c/{theirs.pk}/labels/", {"remove": label.pk}).status_code == 404
    assert logged_in.post(f"/c/{theirs.pk}/", {"label": "vip"}).status_code == 404
    assert not ConversationLabel.objects.exists()


def test_the_label_form_needs_csrf(agent, conversation):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(f"/c/{conversation.pk}/labels/", {"label": "vip"}).status_code == 403
    assert not Label.objects.exists()


def test_labels_need_post(logged_in, conversation):
    assert logged_in.get(f"/c/{conversation.pk}/labels/").status_code == 405


def test_the_list_filters_by_one_label_or_several(logged_in, account, agent):
    both = ConversationFactory(account=account, customer_name="Both Labels")
    vip_only = ConversationFactory(account=account, customer_name="Only Vip")
    none = ConversationFactory(account=account, customer_name="No Label")
    vip, refund = label_for_name(name="VIP"), label_for_name(name="refund")
    for conversation, labels in ((both, [vip, refund]), (vip_only, [vip])):
        for label in labels:
            conversation_label_add(conversation=conversation, label=label, actor=agent)
    page = logged_in.get("/?label=vip").content.decode()
    assert "Both Labels" in page
    assert "Only Vip" in page
    assert none.customer_name not in page
    page = logged_in.get("/?label=VIP&label=refund").content.decode()
    assert "Both Labels" in page
    assert "Only Vip" not in page
    page = logged_in.get("/?label=unknown").content.decode()
    assert "No conversations carry unknown here." in page
    # The filter's own links keep the labels chosen.
    assert 'value="refund" checked' in logged_in.get("/?label=refund").content.decode()


def test_the_label_filter_never_shows_another_accounts_conversations(logged_in, agent):
    theirs = ConversationFactory(account=AccountFactory(), customer_name="Their Customer")
    conversation_label_add(conversation=theirs, label=label_for_name(name="vip"), actor=agent)
    assert "Their Customer" not in logged_in.get("/?label=vip").content.decode()


def test_a_label_change_moves_the_thread_version(conversation, agent):
    def version():
        fresh = Conversation.objects.select_related("account").get(pk=conversation.pk)
        return thread_version(
            conversation=fresh, reply_state=reply_state_present(conversation=fresh)
        )

    before = version()
    conversation_label_add(conversation=conversation, label=label_for_name(name="vip"), actor=agent)
    assert version() != before


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_with_labels_costs_a_fixed_number_of_queries(logged_in, account, agent):
    labels = [label_for_name(name=f"label {n}") for n in range(4)]
    first = ConversationFactory.create_batch(2, account=account)
    for conversation in first:
        conversation_label_add(conversation=conversation, label=labels[0], actor=agent)
    few = _count(logged_in, "/")
    filtered = _count(logged_in, "/?label=label 0")
    for conversation in ConversationFactory.create_batch(20, account=account):
        for label in labels:
            conversation_label_add(conversation=conversation, label=label, actor=agent)
    assert _count(logged_in, "/") == few
    assert _count(logged_in, "/?label=label 0") == filtered
    conversation = first[0]
    _count(logged_in, f"/c/{conversation.pk}/")  # the agent's first read: its stamp's row made
    thread = _count(logged_in, f"/c/{conversation.pk}/")
    for label in labels[1:]:
        conversation_label_add(conversation=conversation, label=label, actor=agent)
    assert _count(logged_in, f"/c/{conversation.pk}/") == thread


def test_managers_see_and_filter_labels_in_admin(client, manager, agent, account):
    conversation = ConversationFactory(account=account, customer_name="Admin Labelled")
    conversation_label_add(conversation=conversation, label=label_for_name(name="vip"), actor=agent)
    client.force_login(manager)
    assert "vip" in client.get("/admin/inbox/label/").content.decode()
    page = client.get(f"/admin/inbox/conversation/?labels__id__exact={Label.objects.get().pk}")
    assert page.status_code == 200
    assert "Admin Labelled" in page.content.decode()
    # Managers look; they do not change labels.
    assert client.post("/admin/inbox/label/add/", {"name": "x", "color": "red"}).status_code == 403


def test_admins_manage_labels_and_odd_names_are_refused(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/inbox/label/add/", {"name": "<odd>", "color": "red"})
    assert "letters, digits, spaces" in response.content.decode()
    response = client.post("/admin/inbox/label/add/", {"name": "Urgent", "color": "red"})
    assert response.status_code == 302
    assert Label.objects.get().color == "red"


def test_an_agent_cannot_reach_label_admin(logged_in):
    UserFactory(username="someone")
    assert logged_in.get("/admin/inbox/label/").status_code == 302
