"""The webhook parser: every fixture's kind, odd shapes, and a fuzz that it never raises."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instagram.events import (
    ChangeEvent,
    MessageEditEvent,
    MessageEvent,
    OptinEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    ReferralEvent,
    UnknownEvent,
    account_ids_of,
    epoch_ms,
    parse_webhook,
    synthetic_mid,
)
from tests.webhooks import (
    BASE_MS,
    CUSTOMER,
    ECHO_MID,
    IG_ID,
    OTHER_IG_ID,
    TEXT_MID,
    webhook_fixture,
)


def only(name):
    events = parse_webhook(webhook_fixture(name)).events
    assert len(events) == 1
    return events[0]


def test_it_parses_a_text_message():
    event = only("message_text")
    assert isinstance(event, MessageEvent)
    assert event.account_id == IG_ID
    assert event.sender_id == CUSTOMER
    assert event.customer_id == CUSTOMER
    assert event.mid == TEXT_MID
    assert event.text == "Hi! Is the blue jacket still available?"
    assert event.timestamp == datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC)
    assert not event.outbound


def test_it_keeps_every_attachment_type_and_several_per_message():
    events = parse_webhook(webhook_fixture("message_attachments")).events
    first = events[0]
    assert [a.type for a in first.attachments] == ["image", "image", "video"]
    types = [e.attachments[0].type for e in events[1:]]
    assert types == [
        "audio",
        "file",
        "share",
        "story_mention",
        "ig_reel",
        "reel",
        "ig_post",
        "ig_story",
        "ephemeral",
        "hologram",
    ]
    reel = events[5].attachments[0].as_dict()
    assert reel["title"] == "Spring collection"
    assert reel["reel_video_id"] == "18000000000000007"
    assert reel["url"].startswith("https://lookaside.fbsbx.com/")
    assert events[-1].attachments[0].as_dict()["depth"] == 3


def test_it_parses_replies_story_replies_quick_replies_and_referrals():
    assert only("message_reply").reply_to_mid == TEXT_MID
    story = only("message_story_reply")
    assert story.reply_to_story_id == "18000000000000021"
    assert story.reply_to_story_url.startswith("https://")
    assert only("message_quick_reply").quick_reply_payload == "TRACK_ORDER"
    referral = only("message_referral").referral
    assert referral["ref"] == "summer_sale"
    assert referral["ads_context_data"]["ad_title"] == "Summer sale"


def test_it_parses_flags():
    assert only("message_unsupported").is_unsupported
    assert only("message_deleted").is_deleted
    echo = only("message_echo")
    assert echo.is_echo
    assert echo.outbound
    assert echo.mid == ECHO_MID
    assert echo.customer_id == CUSTOMER


def test_it_parses_an_edit_without_sender_or_recipient():
    event = only("message_edit")
    assert isinstance(event, MessageEditEvent)
    assert event.account_id == IG_ID
    assert event.sender_id == ""
    assert (event.mid, event.num_edit) == (TEXT_MID, 1)


def test_it_parses_reactions_reads_postbacks_referrals_and_optins():
    react = only("reaction_react")
    assert isinstance(react, ReactionEvent)
    assert (react.action, react.reaction, react.emoji) == ("react", "love", "❤️")
    assert only("reaction_unreact").action == "unreact"
    read = only("read")
    assert isinstance(read, ReadEvent)
    assert read.mid == ECHO_MID
    postback = only("postback")
    assert isinstance(postback, PostbackEvent)
    assert (postback.title, postback.payload) == ("Talk to a human", "HUMAN_AGENT")
    referral = only("referral")
    assert isinstance(referral, ReferralEvent)
    assert referral.details["source"] == "IGME"
    optin = only("optin")
    assert isinstance(optin, OptinEvent)
    assert optin.details["payload"] == "weekly_deals"


def test_it_unwraps_the_dashboard_test_shape():
    event = only("changes_test")
    assert isinstance(event, MessageEvent)
    assert (event.account_id, event.source, event.mid) == ("0", "changes", "random_mid")
    # "1527459824" is in seconds.
    assert event.timestamp == datetime(2018, 5, 27, 22, 23, 44, tzinfo=UTC)


def test_it_handles_every_entry_and_every_list():
    batch = parse_webhook(webhook_fixture("batch_multi_account"))
    assert batch.account_ids == (IG_ID, OTHER_IG_ID)
    sources = [(e.account_id, e.source, type(e).__name__) for e in batch.events]
    assert sources == [
        (IG_ID, "messaging", "MessageEvent"),
        (IG_ID, "messaging", "ReactionEvent"),
        (IG_ID, "standby", "MessageEvent"),
        (OTHER_IG_ID, "messaging", "MessageEvent"),
        (OTHER_IG_ID, "changes", "ChangeEvent"),
        (OTHER_IG_ID, "changes", "MessageEvent"),
    ]
    comment = batch.events[4]
    assert isinstance(comment, ChangeEvent)
    assert comment.field_name == "comments"
    assert only("standby").source == "standby"


def test_unknown_shapes_become_unknown_events():
    events = parse_webhook(webhook_fixture("unknown_kind")).events
    assert all(isinstance(e, UnknownEvent) for e in events)
    reasons = [e.reason for e in events]
    assert "game_play" in reasons[0]
    assert "delivery" in reasons[1]
    assert reasons[2] == "entry without messaging/standby/changes"


@pytest.mark.parametrize(
    "payload",
    [None, [], "text", 3, {}, {"entry": {}}, {"entry": [1, None]}, {"entry": [{"id": True}]}],
)
def test_odd_bodies_become_unknown_events(payload):
    batch = parse_webhook(payload)
    assert batch.events
    assert all(isinstance(e, UnknownEvent) for e in batch.events)


def test_ids_are_strings_and_text_is_cleaned():
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": 17841400000000001234567,  # beyond 64 bits: stays exact as a string
                "messaging": [
                    {
                        "sender": {"id": 6543210987654321},
                        "recipient": {"id": 17841400000000001234567},
                        "timestamp": "1760000000000",
                        "message": {"mid": "m1", "text": "nul\x00 and lone \ud800 surrogate"},
                    }
                ],
            }
        ],
    }
    event = parse_webhook(payload).events[0]
    assert event.account_id == "17841400000000001234567"
    assert event.sender_id == "6543210987654321"
    assert event.text == "nul and lone ? surrogate"
    assert event.timestamp_ms == 1760000000000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1760000000000, 1760000000000),
        (1760000000, 1760000000000),
        ("1760000000", 1760000000000),
        (1760000000.5, 1760000000500),
        (0, None),
        (-5, None),
        (True, None),
        (float("nan"), None),
        ("soon", None),
        (10**30, None),
        ([1], None),
    ],
)
def test_epoch_values_become_milliseconds(value, expected):
    assert epoch_ms(value) == expected


def test_a_missing_item_timestamp_falls_back_to_the_entry_time():
    payload = webhook_fixture("message_text")
    del payload["entry"][0]["messaging"][0]["timestamp"]
    assert parse_webhook(payload).events[0].timestamp_ms == BASE_MS + 900


def test_synthetic_mids_are_stable_and_distinct():
    postback = only("postback")
    assert synthetic_mid("postback", postback, {"a": 1}) == synthetic_mid(
        "postback", postback, {"a": 1}
    )
    assert synthetic_mid("postback", postback, {"a": 1}) != synthetic_mid(
        "postback", postback, {"a": 2}
    )
    assert synthetic_mid("optin", postback, {}).startswith("optin:")


def test_account_ids_of_reads_only_entry_ids():
    assert account_ids_of(webhook_fixture("batch_multi_account")) == [IG_ID, OTHER_IG_ID]
    assert account_ids_of([1, 2]) == []
    assert account_ids_of({"entry": [{"id": 5}, {"id": 5}, "x"]}) == ["5"]


# --- fuzz ------------------------------------------------------------------------------
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)


def maybe(strategy):
    """Mostly the right shape, sometimes any JSON value at all."""
    return st.one_of(strategy, strategy, strategy, json_values)


def obj(required=(), **fields):
    return st.fixed_dictionaries(
        {k: maybe(v) for k, v in fields.items() if k in required},
        optional={k: maybe(v) for k, v in fields.items() if k not in required},
    )


ids = st.text(max_size=20) | st.integers()
party = obj(id=ids)
attachment = obj(type=st.text(max_size=10), payload=st.dictionaries(st.text(max_size=8), scalars))
kinds = {
    "message": obj(
        ("mid",),
        mid=ids,
        text=st.text(),
        attachments=st.lists(attachment, max_size=3),
        reply_to=obj(mid=ids, story=obj(url=st.text(), id=ids)),
        quick_reply=obj(payload=st.text()),
        referral=st.dictionaries(st.text(max_size=8), scalars),
        is_echo=st.booleans(),
        is_deleted=st.booleans(),
        is_unsupported=st.booleans(),
    ),
    "message_edit": obj(
        ("mid",), mid=ids, text=st.text(), num_edit=st.integers() | st.text(max_size=4)
    ),
    "reaction": obj(
        ("mid",), mid=ids, action=st.sampled_from(["react", "unreact", "x"]), emoji=st.text()
    ),
    "read": obj(mid=ids, watermark=st.integers()),
    "postback": obj(mid=ids, title=st.text(), payload=st.text(), referral=json_values),
    "optin": json_values,
    "referral": json_values,
    "game_play": json_values,
}
item = st.sampled_from(sorted(kinds)).flatmap(
    lambda kind: st.fixed_dictionaries(
        {kind: maybe(kinds[kind])},
        optional={
            "sender": maybe(party),
            "recipient": maybe(party),
            "timestamp": st.integers() | st.floats() | st.text(max_size=15),
        },
    )
)
change = obj(field=st.text(max_size=10), value=item)
entry = st.fixed_dictionaries(
    {"id": ids},
    optional={
        "time": maybe(st.integers()),
        "messaging": maybe(st.lists(item, max_size=3)),
        "standby": maybe(st.lists(item, max_size=2)),
        "changes": maybe(st.lists(change, max_size=2)),
    },
)
# The top level is fuzzed by the test above; here it is right so the fuzz reaches the items.
bodies = st.fixed_dictionaries(
    {"object": st.just("instagram"), "entry": st.lists(entry, min_size=1, max_size=3)}
)


def _check(batch):
    for event in batch.events:
        assert isinstance(event.account_id, str)
        assert event.timestamp_ms is None or event.timestamp is not None
        text = getattr(event, "text", "")
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate left
        for attachment in getattr(event, "attachments", ()):
            json.dumps(attachment.as_dict(), allow_nan=False)
        for name in ("referral", "details", "value", "raw"):
            json.dumps(getattr(event, name, None), allow_nan=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_it_never_raises_on_any_json(value):
    _check(parse_webhook(value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies)
def test_it_never_raises_on_meta_like_shapes(body):
    _check(parse_webhook(body))
    account_ids_of(body)
