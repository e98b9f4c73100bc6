"""The one public file route: uploads agents attach to replies, which Meta fetches by URL.

No login (Meta's fetcher has none). Only the `outbound/` folder of the media storage is
served, where every file was sniffed as media Meta accepts and named at random (see
`inbox/outbound/attachments.py`); `..` cannot climb out of it.

Served from our own origin, a file must never act as one of our pages: every answer carries
`Content-Security-Policy: sandbox` (no script, no same-origin rights even if a browser renders
it), and anything but an image, audio or video is a download, not shown inline.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.static import serve

from inbox.outbound.attachments import UPLOAD_FOLDER

INLINE_KINDS = frozenset({"image", "audio", "video"})


@login_not_required
@require_safe
def outbound_media(request: HttpRequest, path: str) -> FileResponse | HttpResponseBase:
    response = serve(request, path, document_root=str(Path(settings.MEDIA_ROOT) / UPLOAD_FOLDER))
    response.headers["Content-Security-Policy"] = "sandbox"
    if response.status_code == 200 and not _shown_inline(response.headers.get("Content-Type")):
        # FileResponse said `inline; filename=...`: keep the name, change the verb.
        _, _, name = response.headers.get("Content-Disposition", "").partition(";")
        response.headers["Content-Disposition"] = "attachment" + (f";{name}" if name else "")
    return response


def _shown_inline(content_type: str | None) -> bool:
    return (content_type or "").split("/", 1)[0] in INLINE_KINDS
