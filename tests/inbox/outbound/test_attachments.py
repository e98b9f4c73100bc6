"""Attachments out: uploads and links of each type, checked against Meta's table."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from inbox.models import Message
from inbox.outbound.attachments import MB, sniff_format
from inbox.outbound.replies import ReplyRefused, reply_create

from .sendkit import T0, answer_ok, bodies

pytestmark = pytest.mark.django_db

HEADS = {
    "png": b"\x89PNG\r\n\x1a\n" + b"\0" * 24,
    "jpeg": b"\xff\xd8\xff\xe0\0\x10JFIF",
    "gif": b"GIF89a\x01\0\x01\0",
    "pdf": b"%PDF-1.7\n",
    "wav": b"RIFF\x24\0\0\0WAVEfmt ",
    "avi": b"RIFF\x24\0\0\0AVI LIST",
    "ogg": b"OggS\0\x02" + b"\0" * 10,
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",
    "mp4": b"\0\0\0\x20ftypisom\0\0\x02\0",
    "m4a": b"\0\0\0\x20ftypM4A \0\0\0\0",
    "mov": b"\0\0\0\x14ftypqt  \0\0\0\0",
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        yield tmp_path


def upload(fmt, name=None, size=None, content_type="application/octet-stream"):
    data = HEADS[fmt]
    if size is not None:
        data = data + b"\0" * (size - len(data))
    return SimpleUploadedFile(name or f"file.{fmt}", data + b"\0" * 64, content_type=content_type)


def send(convo, writer, capture, **kwargs):
    with capture(execute=True):
        return reply_create(conversation=convo, author=writer, **kwargs)


def refusal(convo, writer, **kwargs):
    with pytest.raises(ReplyRefused) as caught:
        reply_create(conversation=convo, author=writer, **kwargs)
    assert not Message.objects.filter(direction="out").exists()
    return caught.value.message


@pytest.mark.parametrize(
    ("fmt", "attachment_type", "content_type", "expected_type"),
    [
        ("png", "", "image/png", "image"),
        ("jpeg", "image", "image/jpeg", "image"),
        ("gif", "", "image/gif", "image"),
        ("pdf", "file", "application/pdf", "file"),
        ("wav", "", "audio/wav", "audio"),
        ("aac", "audio", "audio/aac", "audio"),
        ("m4a", "", "audio/mp4", "audio"),
        ("mp4", "", "audio/mp4", "audio"),  # the browser says it is a voice note
        ("mp4", "", "video/mp4", "video"),
        ("mov", "video", "video/quicktime", "video"),
        ("webm", "", "video/webm", "video"),
        ("ogg", "video", "video/ogg", "video"),
        ("avi", "", "video/x-msvideo", "video"),
    ],
)
def test_an_upload_is_stored_and_sent_as_a_public_url(
    meta, convo, writer, media, django_capture_on_commit_callbacks, fmt, attachment_type,
    content_type, expected_type,
):  # fmt: skip
    answer_ok(meta, convo.account)
    message = send(
        convo,
        writer,
        django_capture_on_commit_callbacks,
        upload=upload(fmt, content_type=content_type),
        attachment_type=attachment_type,
    )
    (attachment,) = message.attachments
    assert attachment["type"] == expected_type
    assert attachment["name"] == f"file.{fmt}"
    assert attachment["stored"].startswith("outbound/2026/11/")
    assert (media / attachment["stored"]).read_bytes().startswith(HEADS[fmt])
    assert attachment["url"] == f"http://testserver/media/{attachment['stored']}"
    assert bodies(meta)[0]["message"] == {
        "attachment": {"type": expected_type, "payload": {"url": attachment["url"]}}
    }


def test_stored_names_are_unguessable_and_never_the_agents_file_name(
    convo, writer, django_capture_on_commit_callbacks, meta
):
    answer_ok(meta, convo.account)
    message = send(
        convo,
        writer,
        django_capture_on_commit_callbacks,
        upload=upload("png", name="../../etc/passwd.html"),
    )
    stored = message.attachments[0]["stored"]
    assert "passwd" not in stored
    assert stored.endswith(".png")
    assert len(stored.rsplit("/", 1)[1]) == 36  # 32 hex characters + ".png"


@pytest.mark.parametrize(
    ("fmt", "attachment_type", "limit"),
    [("png", "image", 8), ("wav", "audio", 25), ("mp4", "video", 25), ("pdf", "file", 25)],
)
def test_an_upload_over_metas_size_limit_is_refused(convo, writer, fmt, attachment_type, limit):
    too_big = upload(fmt, size=limit * MB + 1)
    message = refusal(convo, writer, upload=too_big, attachment_type=attachment_type)
    assert f"up to {limit} MB" in message
    assert "This file is" in message


def test_an_upload_at_the_size_limit_is_accepted(convo, writer, meta, media):
    answer_ok(meta, convo.account)
    exactly = SimpleUploadedFile("big.png", HEADS["png"].ljust(8 * MB, b"\0"))
    message = reply_create(conversation=convo, author=writer, upload=exactly)
    assert message.attachments[0]["size"] == 8 * MB


@pytest.mark.parametrize(
    ("data", "name", "attachment_type", "says"),
    [
        (b"<html><script>alert(1)</script>", "cat.png", "", "none of those"),
        (b"<html><script>alert(1)</script>", "cat.png", "image", "must be PNG, JPEG or GIF"),
        (HEADS["pdf"], "doc.pdf", "image", "must be PNG, JPEG or GIF"),
        (HEADS["ogg"], "note.ogg", "audio", "must be AAC, M4A, WAV or MP4"),
        (HEADS["wav"], "a.wav", "video", "must be MP4, OGG, AVI, MOV or WEBM"),
        (b"ID3\x03\0\0\0" + b"\0" * 20, "song.mp3", "", "none of those"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "pic.webp", "image", "must be PNG, JPEG or GIF"),
        (HEADS["png"], "x.png", "sticker", "choose an image, video, audio or file"),
        (b"", "empty.png", "", "empty"),
    ],
)
def test_an_upload_meta_would_refuse_is_refused(convo, writer, data, name, attachment_type, says):
    file = SimpleUploadedFile(name, data)
    assert says in refusal(convo, writer, upload=file, attachment_type=attachment_type)


@pytest.mark.parametrize(
    ("url", "attachment_type", "expected_type"),
    [
        ("https://cdn.test/a/photo.JPG", "", "image"),
        ("https://cdn.test/a/anim.gif", "image", "image"),
        ("https://cdn.test/v/clip.mp4", "", "video"),
        ("https://cdn.test/v/clip.mp4", "audio", "audio"),
        ("https://cdn.test/s/voice.m4a", "", "audio"),
        ("https://cdn.test/d/invoice.pdf", "", "file"),
        ("https://cdn.test/media?id=123", "video", "video"),  # CDN links often have no name
    ],
)
def test_a_link_attachment_is_sent_for_meta_to_fetch(
    meta, convo, writer, django_capture_on_commit_callbacks, url, attachment_type, expected_type
):
    answer_ok(meta, convo.account)
    message = send(
        convo,
        writer,
        django_capture_on_commit_callbacks,
        attachment_url=url,
        attachment_type=attachment_type,
    )
    assert message.kind == Message.Kind.ATTACHMENT
    assert message.attachments == [{"type": expected_type, "url": url}]
    assert bodies(meta)[0]["message"]["attachment"] == {
        "type": expected_type,
        "payload": {"url": url},
    }


@pytest.mark.parametrize(
    ("url", "attachment_type", "says"),
    [
        ("not a url", "image", "isn't a valid http(s) URL"),
        ("ftp://cdn.test/a.png", "image", "isn't a valid http(s) URL"),
        ("javascript:alert(1)", "image", "isn't a valid http(s) URL"),
        ("https://cdn.test/media?id=1", "", "Say what the link points to"),
        ("https://cdn.test/a.webp", "image", "this link ends in .webp"),
        ("https://cdn.test/a.pdf", "image", "this link ends in .pdf"),
        ("https://cdn.test/song.mp3", "audio", "this link ends in .mp3"),
        ("https://cdn.test/a.png", "gif", "choose an image"),
        ("https://cdn.test/" + "a" * 2000 + ".png", "image", "too long"),
    ],
)
def test_a_link_meta_would_refuse_is_refused(convo, writer, url, attachment_type, says):
    assert says in refusal(convo, writer, attachment_url=url, attachment_type=attachment_type)


def test_a_link_and_an_upload_together_are_refused(convo, writer):
    message = refusal(convo, writer, attachment_url="https://cdn.test/a.png", upload=upload("png"))
    assert "not both" in message


def test_an_upload_after_a_closed_window_is_not_stored(convo, writer, media):
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        refusal(convo, writer, upload=upload("png"))
    assert not (media / "outbound").exists()


def test_sniffing_knows_every_format_meta_takes():
    for fmt, head in HEADS.items():
        assert sniff_format(head) == fmt
    assert sniff_format(b"\xff\xfb\x90\x00") is None  # MP3 frame, not AAC
    assert sniff_format(b"") is None


# --- the public media route -------------------------------------------------------------


def test_uploads_are_served_publicly_without_login(client, convo, writer, meta, media):
    answer_ok(meta, convo.account)
    message = reply_create(conversation=convo, author=writer, upload=upload("png"))
    stored = message.attachments[0]["stored"]
    response = client.get(f"/media/{stored}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(HEADS["png"])


def test_only_the_outbound_folder_is_served(client, media):
    (media / "private.txt").write_text("secret")
    (media / "outbound").mkdir()
    assert client.get("/media/private.txt").status_code in (302, 404)
    for escape in ("/media/outbound/../private.txt", "/media/outbound/%2e%2e/private.txt"):
        response = client.get(escape)
        assert response.status_code in (400, 404)  # SuspiciousFileOperation is a 400
        assert b"secret" not in response.content
    assert client.get("/media/outbound/").status_code in (302, 404)
    assert client.get("/media/outbound/missing.png").status_code == 404
