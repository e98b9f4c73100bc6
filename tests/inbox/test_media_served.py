"""Uploads under /media/outbound/ come from our origin, so none may act as one of our pages:
a sandbox policy on every file, and anything but an image, audio or video downloads."""

import pytest

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.7\n" + b"\0" * 64


@pytest.fixture
def outbound(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    folder = tmp_path / "outbound" / "2025" / "10"
    folder.mkdir(parents=True)
    return folder


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200
    b"".join(response.streaming_content)
    return response


def test_it_serves_an_image_inline_inside_a_sandbox(client, outbound):
    (outbound / "photo.png").write_bytes(PNG)
    response = get(client, "/media/outbound/2025/10/photo.png")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize(("name", "kind"), [("voice.m4a", "audio/"), ("clip.mp4", "video/")])
def test_it_serves_audio_and_video_inline(client, outbound, name, kind):
    (outbound / name).write_bytes(b"\0" * 64)
    response = get(client, f"/media/outbound/2025/10/{name}")
    assert response["Content-Type"].startswith(kind)
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith("inline")


def test_it_serves_a_pdf_as_an_attachment_inside_a_sandbox(client, outbound):
    (outbound / "invoice.pdf").write_bytes(PDF)
    response = get(client, "/media/outbound/2025/10/invoice.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"] == 'attachment; filename="invoice.pdf"'


def test_a_file_of_unknown_kind_downloads(client, outbound):
    (outbound / "page.html").write_text("<script>alert(document.cookie)</script>")
    response = get(client, "/media/outbound/2025/10/page.html")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"].startswith("attachment")
