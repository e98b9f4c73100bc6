"""EMAIL_URL configures alert emails; without it no alert is mailed."""

import json
import os

from tests.processes import python_run

PRINT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.ACCOUNTS_ALERT_EMAILS, s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
    "s.EMAIL_HOST_USER, s.EMAIL_USE_TLS]))"
)


def settings_with(**env):
    environ = {k: v for k, v in os.environ.items() if k != "EMAIL_URL"}
    environ.update(DJANGO_SETTINGS_MODULE="config.test_settings", **env)
    out = python_run(PRINT, environ)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_it_sends_no_alert_email_by_default():
    enabled, backend, *_ = settings_with()
    assert enabled is False
    assert backend == "django.core.mail.backends.console.EmailBackend"


def test_it_reads_an_smtp_url():
    assert settings_with(EMAIL_URL="smtp+tls://bot:pw@mail.example.com:587") == [
        True,
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.com",
        587,
        "bot",
        True,
    ]
