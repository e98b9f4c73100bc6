"""The webhook request's side of intake: check the body is JSON, store it, queue processing.

The request does as little as it can: one row in the ledger (in a statement it may share
with concurrent requests: `ledger`), and the processing task queued once the row is
committed (the ledger calls `publish`). Everything else happens in a worker (`tasks`,
`drain`, `process`).
"""

from __future__ import annotations

import hashlib
import json
import logging

from instagram.event_values import clean_text
from instagram.events import account_ids_of

from .ledger import ledger_insert
from .publish import webhook_event_publish_new

logger = logging.getLogger(__name__)


class NotJSONError(ValueError):
    """The body is not UTF-8 JSON."""


def webhook_event_record(*, body: bytes) -> int | None:
    """Store an authentic body in the ledger and queue its processing once committed.

    Returns the new row's id, or None for a byte-identical redelivery. Raises NotJSONError
    for a body that is not JSON, and django.db.Error when the database is down.
    """
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise NotJSONError(str(e)[:200]) from e
    # Meta's "instagram"; a database refuses NUL and lone surrogates, which JSON can carry.
    object_type = clean_text(payload.get("object") if isinstance(payload, dict) else None)
    body_sha256 = hashlib.sha256(body).hexdigest()
    event_id = ledger_insert(
        body=text,
        body_sha256=body_sha256,
        object_type=object_type[:32],
        account_ids=[account_id[:64] for account_id in account_ids_of(payload)[:100]],
        on_stored=webhook_event_publish_new,
    )
    if event_id is None:
        logger.info("webhook redelivery ignored (sha256 %s…)", body_sha256[:12])
    return event_id
