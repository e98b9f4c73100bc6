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

from .ledger import UnstorableError, ledger_insert
from .publish import webhook_event_publish_new

logger = logging.getLogger(__name__)


# Meta's payloads nest about ten levels deep. Deeper is a forgery or a bug, and every later
# reader (the worker's parser, the admin's page) would have to survive it.
MAX_DEPTH = 64


class NotJSONError(ValueError):
    """The body is not UTF-8 JSON (or is JSON nested absurdly deep, or holds a value the
    database refuses even escaped)."""


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
    if _nests_deeper(body, payload, MAX_DEPTH):
        raise NotJSONError(f"nested deeper than {MAX_DEPTH} levels")
    # Meta's "instagram"; a database refuses NUL and lone surrogates, which JSON can carry.
    object_type = clean_text(payload.get("object") if isinstance(payload, dict) else None)
    body_sha256 = hashlib.sha256(body).hexdigest()
    try:
        event_id = ledger_insert(
            body=text,
            body_sha256=body_sha256,
            object_type=object_type[:32],
            account_ids=[account_id[:64] for account_id in account_ids_of(payload)[:100]],
            on_stored=webhook_event_publish_new,
        )
    except UnstorableError as e:
        raise NotJSONError(f"the database refuses it: {e}") from e
    if event_id is None:
        logger.info("webhook redelivery ignored (sha256 %s…)", body_sha256[:12])
    return event_id


def _nests_deeper(body: bytes, payload: object, limit: int) -> bool:
    """True when the JSON nests objects and arrays more than `limit` deep. A body with fewer
    brackets than that cannot (counting bytes is cheap; walking is only for the rare rest)."""
    if body.count(b"{") + body.count(b"[") <= limit:
        return False
    level: list[dict[str, object] | list[object]] = (
        [payload] if isinstance(payload, dict | list) else []
    )
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
