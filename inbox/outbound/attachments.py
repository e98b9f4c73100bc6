"""What an agent may attach to a reply, checked against Meta's table before anything is stored.

Meta fetches attachments by URL. An upload from the agent's computer is stored in the default
storage under `outbound/` with a random name and sent as a public URL under `SITE_URL` +
`MEDIA_URL` (the route in `config/urls.py` serves that folder without login). Uploads are
sniffed by their first bytes, not trusted by name or browser-declared type, so the public
folder only ever holds media Meta accepts, never HTML or scripts.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.utils import timezone

UPLOAD_FOLDER = "outbound"
MB = 1024 * 1024


class AttachmentRefused(ValueError):
    """The attachment breaks one of Meta's rules; the message says which, for an agent."""


@dataclass(frozen=True)
class Rule:
    noun: str  # "images", for sentences
    formats: frozenset[str]
    formats_label: str
    max_bytes: int


# Meta's table (Instagram API with Instagram Login, "Media types and specifications").
RULES: dict[str, Rule] = {
    "image": Rule("Images", frozenset({"png", "jpeg", "gif"}), "PNG, JPEG or GIF", 8 * MB),
    "audio": Rule(
        "Audio", frozenset({"aac", "m4a", "wav", "mp4"}), "AAC, M4A, WAV or MP4", 25 * MB
    ),
    "video": Rule(
        "Videos",
        frozenset({"mp4", "ogg", "avi", "mov", "webm"}),
        "MP4, OGG, AVI, MOV or WEBM",
        25 * MB,
    ),
    "file": Rule("Files", frozenset({"pdf"}), "PDF", 25 * MB),
}
ATTACHMENT_TYPES = tuple(RULES)

# File name extensions → format, for links and for guessing the type of an upload.
EXTENSIONS = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".gif": "gif",
    ".aac": "aac",
    ".m4a": "m4a",
    ".wav": "wav",
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".ogg": "ogg",
    ".ogv": "ogg",
    ".avi": "avi",
    ".mov": "mov",
    ".qt": "mov",
    ".webm": "webm",
    ".pdf": "pdf",
}
STORED_EXTENSION = {
    "png": ".png",
    "jpeg": ".jpg",
    "gif": ".gif",
    "aac": ".aac",
    "m4a": ".m4a",
    "wav": ".wav",
    "mp4": ".mp4",
    "ogg": ".ogg",
    "avi": ".avi",
    "mov": ".mov",
    "webm": ".webm",
    "pdf": ".pdf",
}
# The type an upload gets when the agent did not say: an MP4 is a video unless the browser
# called it audio.
DEFAULT_TYPE = {
    "png": "image",
    "jpeg": "image",
    "gif": "image",
    "pdf": "file",
    "aac": "audio",
    "m4a": "audio",
    "wav": "audio",
    "mp4": "video",
    "ogg": "video",
    "avi": "video",
    "mov": "video",
    "webm": "video",
}


def sniff_format(head: bytes) -> str | None:
    """The media format from a file's first bytes, or None when it is none Meta accepts."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "m4a"
        return "mov" if brand == b"qt  " else "mp4"
    # AAC in an ADTS stream: a 12-bit sync word and layer 00 (MP3 has layer 01..11).
    if (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0) or head[:4] == b"ADIF":
        return "aac"
    return None


def _size_label(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{max(size // 1024, 1)} KB"


def _normalise_type(attachment_type: str) -> str:
    kind = attachment_type.strip().lower()
    if kind and kind not in RULES:
        raise AttachmentRefused(
            f"Instagram can't send a “{attachment_type}” attachment; "
            "choose an image, video, audio or file."
        )
    return kind


def attachment_url_check(*, url: str, attachment_type: str) -> dict[str, str]:
    """A link to media Meta will fetch itself: the attachment's JSON, or AttachmentRefused."""
    url = url.strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError as e:
        raise AttachmentRefused("The attachment link isn't a valid http(s) URL.") from e
    if len(url) > 2000:
        raise AttachmentRefused("The attachment link is too long (at most 2,000 characters).")
    extension = posixpath.splitext(urlsplit(url).path)[1].lower()
    known_format = EXTENSIONS.get(extension)
    kind = _normalise_type(attachment_type) or (DEFAULT_TYPE.get(known_format or "") or "")
    if not kind:
        raise AttachmentRefused(
            "Say what the link points to (image, video, audio or file): its name doesn't tell."
        )
    rule = RULES[kind]
    # Links without a known extension (CDN URLs often have none) are left to Meta to judge.
    if extension and known_format is None and extension in _REFUSED_EXTENSIONS:
        raise AttachmentRefused(
            f"{rule.noun} must be {rule.formats_label}; this link ends in {extension}."
        )
    if known_format is not None and known_format not in rule.formats:
        raise AttachmentRefused(
            f"{rule.noun} must be {rule.formats_label}; this link ends in {extension}."
        )
    return {"type": kind, "url": url}


# Extensions that are certainly media or documents Meta refuses (a link ending like this is
# a mistake, not a CDN path).
_REFUSED_EXTENSIONS = frozenset(
    {".webp", ".heic", ".heif", ".bmp", ".tif", ".tiff", ".svg", ".mp3", ".flac", ".mkv",
     ".wmv", ".doc", ".docx", ".xls", ".xlsx", ".zip", ".txt", ".html", ".htm"}
)  # fmt: skip


def attachment_upload_check(*, upload: UploadedFile, attachment_type: str) -> tuple[str, str]:
    """(type, format) of an upload Meta accepts, or AttachmentRefused saying why not."""
    size = upload.size or 0
    if size <= 0:
        raise AttachmentRefused("The attached file is empty.")
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    found = sniff_format(head)
    kind = _normalise_type(attachment_type)
    if not kind:
        declared = (upload.content_type or "").split("/", 1)[0]
        kind = (
            "audio" if found == "mp4" and declared == "audio" else DEFAULT_TYPE.get(found or "", "")
        )
    if not kind:
        raise AttachmentRefused(
            "Instagram accepts images (PNG, JPEG, GIF), videos (MP4, OGG, AVI, MOV, WEBM), "
            "audio (AAC, M4A, WAV, MP4) and PDF files; this file is none of those."
        )
    rule = RULES[kind]
    if found not in rule.formats:
        raise AttachmentRefused(f"{rule.noun} must be {rule.formats_label}; this file isn't.")
    if size > rule.max_bytes:
        raise AttachmentRefused(
            f"This file is {_size_label(size)}; Instagram accepts "
            f"{rule.noun.lower()} up to {rule.max_bytes // MB} MB."
        )
    assert found is not None  # in rule.formats
    return kind, found


def attachment_upload_store(
    *, upload: UploadedFile, kind: str, found_format: str
) -> dict[str, object]:
    """Save a checked upload under an unguessable name; the attachment's JSON."""
    today = timezone.now()
    name = f"{UPLOAD_FOLDER}/{today:%Y/%m}/{uuid.uuid4().hex}{STORED_EXTENSION[found_format]}"
    stored = default_storage.save(name, upload)
    return {
        "type": kind,
        "url": public_media_url(stored),
        "name": (upload.name or "")[:255],
        "size": upload.size,
        "stored": stored,
    }


def public_media_url(name: str) -> str:
    """The address Meta fetches a stored upload from."""
    media_url = settings.MEDIA_URL
    if "://" in media_url:
        return f"{media_url.rstrip('/')}/{name}"
    return f"{settings.SITE_URL}/{media_url.strip('/')}/{name}"
