"""The tiny override the test suite runs with: production-like settings, test secrets."""

import os

_TEST_ENV = {
    "DEBUG": "false",
    "TESTING": "true",
    "SECRET_KEY": "test-secret-key",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "TOKEN_ENCRYPTION_KEYS": "dGVzdC1rZXktbm90LWZvci1wcm9kdWN0aW9uLXVzZSE=",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "INSTAGRAM_CLIENT_ID": "test-client-id",
    "INSTAGRAM_CLIENT_SECRET": "test-app-secret",
    "INSTAGRAM_WEBHOOK_VERIFY_TOKEN": "test-verify-token",
    "SITE_URL": "http://testserver",
}
for _name, _value in _TEST_ENV.items():
    os.environ.setdefault(_name, _value)
# An account configured by the developer's own environment must not leak into the suite.
for _name in (
    "INSTAGRAM_ACCESS_TOKEN",
    "INSTAGRAM_USER_ID",
    "INSTAGRAM_API_URL",
    "INSTAGRAM_ACCOUNT_ID",
    "META_APP_SECRET",
    "SANDBOX",
):
    os.environ.pop(_name, None)

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
INTAKE_GATHER_SECONDS = 0.0  # tasks run inline: nothing arrives while a test's drain waits
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # serve from the finders: tests do not run collectstatic
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # A test that waits on a lock for a minute is stuck (a session left open across its
    # teardown, say): fail it with an error rather than hang the suite.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c lock_timeout=60s"  # noqa: F405
# The login gate keeps locks in the shared cache, which outlives a test's rolled-back
# database: the throttle tests turn it on with a cache of their own.
LOGIN_LOCK_GATE = False
# Each test runs in a transaction that never commits: the live polls' change stamps are
# bumped at once rather than after the commit (inbox/services/live.py).
INBOX_LIVE_BUMP_AT_ONCE = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not SQLite's shared in-memory database: with the latter every thread of the
    # live server (the browser tests' page polls, two at once) shares the test thread's one
    # connection, and its transaction state, which two threads at once can wedge.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"inbox-tests-{os.getpid()}.sqlite3")
    }
