"""A logging filter that keeps tokens and secrets out of every log line."""

from __future__ import annotations

import logging

from common.redact import redact


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
