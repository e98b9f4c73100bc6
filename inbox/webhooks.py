"""Meta's webhook endpoint: verify, record durably, answer. Processing happens in a worker.

GET is the subscription handshake. POST checks `X-Hub-Signature-256` against the raw body
with every configured secret (Meta's docs disagree on which secret signs), stores the body in
the ledger and answers 200 once the row is committed; a byte-identical redelivery answers 200
without a second row. A database outage answers 503 so that Meta delivers again later.
"""

from __future__ import annotations

import hmac
import logging
import re

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import Error as DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from instagram.signature import PREFIX, signature_is_valid

from .intake.record import NotJSONError, webhook_event_record

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Read from META directly: `request.headers` would first parse every header of the request.
_SIGNATURE_META = "HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def webhook_secrets() -> list[str]:
    return [s for s in (settings.INSTAGRAM_CLIENT_SECRET, settings.META_APP_SECRET) if s]


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def instagram_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    return _receive(request)  # a POST's answer is not cached anyway: no headers to say so


@never_cache
def _handshake(request: HttpRequest) -> HttpResponse:
    expected = settings.INSTAGRAM_WEBHOOK_VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return _plain(request.GET.get("hub.challenge", ""))
    logger.warning("webhook handshake refused (mode %r)", request.GET.get("hub.mode", "")[:20])
    return _plain("Forbidden\n", status=403)


def _receive(request: HttpRequest) -> HttpResponse:
    body = request.body
    if not _authentic(body, request.META.get(_SIGNATURE_META)):
        return _plain("Forbidden\n", status=403)
    try:
        webhook_event_record(body=body)
    except NotJSONError:
        logger.warning("webhook refused: authentic body is not JSON (%d bytes)", len(body))
        return _plain("Bad Request: the body is not JSON\n", status=400)
    except DatabaseError as e:
        logger.error("webhook not stored, database unavailable: %s", type(e).__name__)
        return _plain("Service Unavailable\n", status=503)
    return _plain("EVENT_RECEIVED\n")


def _authentic(body: bytes, header: str | None) -> bool:
    """Signed by one of the configured secrets; says why not in the log."""
    secrets = webhook_secrets()
    if not secrets:
        logger.error("webhook refused: no app secret configured to check signatures")
        return False
    if not signature_is_valid(body, header, secrets):
        logger.warning(
            "webhook refused: %s signature (%d bytes)", _signature_problem(header), len(body)
        )
        return False
    return True


def _signature_problem(header: str | None) -> str:
    if not header:
        return "missing"
    if not header.startswith(PREFIX) or not _HEX_SHA256.fullmatch(header[len(PREFIX) :].strip()):
        return "malformed"
    return "wrong"
