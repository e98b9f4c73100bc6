"""Meta's answers read into typed values: what is absent or oddly typed never raises."""

from datetime import UTC, datetime, timedelta

import pytest

from instagram.answers import MAX_FOLLOWERS, Me, Profile, SentMessage, TokenGrant

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_send_answer_without_a_message_id_reads_as_empty():
    assert SentMessage.read({"recipient_id": 900}) == SentMessage("", "900")
    assert SentMessage.read({"message_id": True}).message_id == ""


@pytest.mark.parametrize(
    ("followers", "expected"),
    [(12, 12), ("12", 12), ("-3", None), (-3, None), (True, None), ("many", None), (None, None)],
)
def test_a_profile_reads_follower_counts_from_numbers_and_digits_only(followers, expected):
    assert Profile.read({"follower_count": followers}).follower_count == expected


def test_a_profile_caps_followers_drops_nul_and_keeps_unknown_flags_unknown():
    profile = Profile.read(
        {
            "name": "Ann\x00 Lee",
            "username": 7,
            "follower_count": 10**12,
            "is_verified_user": "yes",
            "is_user_follow_business": False,
        }
    )
    assert profile.name == "Ann Lee"
    assert profile.username == ""
    assert profile.follower_count == MAX_FOLLOWERS
    assert profile.is_verified is None
    assert profile.follows_business is False


def test_me_takes_a_numeric_user_id_as_its_key():
    assert Me.read({"user_id": 17841400000000001}).user_id == "17841400000000001"
    assert Me.read({}) == Me("", "", "", "")


@pytest.mark.parametrize(
    ("expires_in", "expires_at"),
    [
        (5184000, NOW + timedelta(days=60)),
        ("3600", NOW + timedelta(hours=1)),
        (0, None),
        ("soon", None),
        (None, None),
    ],
)
def test_a_token_grant_knows_its_expiry_only_when_meta_gives_one(expires_in, expires_at):
    grant = TokenGrant.read({"access_token": "T", "expires_in": expires_in})
    assert grant.access_token == "T"
    assert grant.expires_at(now=NOW) == expires_at


def test_message_attachments_read_images_videos_audio_and_files_in_order():
    from instagram.answers import MessageAttachments
    from tests.fixtures import meta_fixture

    answer = MessageAttachments.read(meta_fixture("graph", "message_attachments"))
    assert answer.mid.endswith("000000000001")
    assert [a["type"] for a in answer.attachments] == ["image", "image", "video"]
    assert answer.attachments[0]["url"].endswith("signature=FrEsH1")
    assert answer.attachments[0]["name"] == "image-18000000000001.jpg"
    voice = {"mime_type": "audio/mpeg", "video_data": {"url": "https://cdn/a.mp4"}}
    pdf = {"mime_type": "application/pdf", "file_url": "https://cdn/f.pdf", "name": 7}
    read = MessageAttachments.read({"attachments": {"data": [voice, pdf]}})
    assert read.attachments == (
        {"type": "audio", "url": "https://cdn/a.mp4"},
        {"type": "file", "url": "https://cdn/f.pdf"},
    )


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"attachments": None},
        {"attachments": {"data": "nope"}},
        {"attachments": {"data": [None, 3, {"image_data": {"url": 5}}, {"video_data": []}]}},
        {"attachments": [{"file_url": ""}]},
    ],
)
def test_message_attachments_without_usable_links_read_as_none(answer):
    from instagram.answers import MessageAttachments

    assert MessageAttachments.read(answer).attachments == ()
