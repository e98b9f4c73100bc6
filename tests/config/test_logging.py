"""The logging filter applies redaction to every record."""

import logging

from config.logging import RedactSecretsFilter


def test_the_filter_rewrites_records():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "token %s", ("hmat_abc",), None)
    RedactSecretsFilter().filter(record)
    assert "hmat_abc" not in record.getMessage()
