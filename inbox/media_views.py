"""The one public file route: uploads agents attach to replies, which Meta fetches by URL.

No login (Meta's fetcher has none). Only the `outbound/` folder of the media storage is
served, where every file was sniffed as media Meta accepts and named at random (see
`inbox/outbound/attachments.py`); `..` cannot climb out of it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.static import serve

from inbox.outbound.attachments import UPLOAD_FOLDER


@login_not_required
@require_safe
def outbound_media(request: HttpRequest, path: str) -> FileResponse | HttpResponseBase:
    return serve(request, path, document_root=str(Path(settings.MEDIA_ROOT) / UPLOAD_FOLDER))
