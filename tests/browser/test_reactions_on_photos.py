"""A reaction on a photo sits on the photo's corner, as on a text bubble, not beside it."""

import struct
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Reaction
from tests.factories import MessageFactory, UserFactory

from .conftest import log_in
from .themes import themed_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

themed = themed_fixture()


def png(width: int, height: int) -> bytes:
    """A plain RGB picture, drawn by hand (no imaging library needed)."""
    row = b"\x00" + bytes([90, 120, 200]) * width
    data = zlib.compress(row * height)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture
def photo_url(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "outbound").mkdir()
    (tmp_path / "outbound" / "photo.png").write_bytes(png(240, 180))
    return f"{live_server.url}/media/outbound/photo.png"


def reacted(message, emoji="❤️"):
    Reaction.objects.create(message=message, actor="customer", reaction="love", emoji=emoji)
    Reaction.objects.create(message=message, actor="business", reaction="love", emoji=emoji)
    return message


def on_the_corner(page, message_pk: int, content: str) -> None:
    """The reaction overlaps the bottom edge of the bubble's content, within its width."""
    shown = page.locator(f"#m-{message_pk} {content}").bounding_box()
    badge = page.locator(f"#m-{message_pk} .reactions").bounding_box()
    assert shown
    assert badge
    middle = badge["x"] + badge["width"] / 2
    assert shown["x"] <= middle <= shown["x"] + shown["width"], (shown, badge)
    bottom = shown["y"] + shown["height"]
    assert badge["y"] < bottom < badge["y"] + badge["height"], (shown, badge)


def test_a_reaction_sits_on_the_photo_as_on_a_text(themed, photo_url, account, conversation):
    page = themed
    agent = UserFactory(username="alice")
    account.members.add(agent)
    at = timezone.now() - timedelta(minutes=5)
    text = reacted(MessageFactory(conversation=conversation, text="Look at this", timestamp=at))
    photo = reacted(
        MessageFactory(
            conversation=conversation,
            kind="attachment",
            text="",
            attachments=[{"type": "image", "url": photo_url}],
            timestamp=at + timedelta(seconds=1),
        )
    )
    log_in(page)
    page.goto(f"/c/{conversation.pk}/")
    # A function, not an expression: polling an expression needs eval, which the CSP refuses.
    page.wait_for_function(f"() => document.querySelector('#m-{photo.pk} img').naturalWidth > 0")
    on_the_corner(page, text.pk, ".bubble")
    on_the_corner(page, photo.pk, ".media-image img")
