"""The one settings module. Every value comes from the environment (django-environ).

With DEBUG off, secrets have no default: a missing one stops start-up with a message that
names the variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)
TESTING: bool = env.bool("TESTING", default=False)

DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
# A fixed Fernet key for local development only; production must set TOKEN_ENCRYPTION_KEYS.
DEV_TOKEN_KEY = "ZGV2LW9ubHktdG9rZW4ta2V5LW5vdC1mb3ItcHJvZCE="


def _required_in_production(name: str, dev_default: str) -> str:
    value: str = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"{name} must be set when DEBUG is off. For development, set DEBUG=true: `make run`"
        " writes a .env with it on first use, and `python scripts/dev_env.py` writes one now."
    )


SECRET_KEY = _required_in_production("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Token encryption: comma-separated Fernet keys, newest first (MultiFernet rotation).
TOKEN_ENCRYPTION_KEYS: list[str] = [
    key.strip()
    for key in _required_in_production("TOKEN_ENCRYPTION_KEYS", DEV_TOKEN_KEY).split(",")
    if key.strip()
]

SITE_URL: str = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")

# --- Meta / Instagram -------------------------------------------------------------------
INSTAGRAM_CLIENT_ID: str = env.str("INSTAGRAM_CLIENT_ID", default="")
INSTAGRAM_CLIENT_SECRET: str = env.str("INSTAGRAM_CLIENT_SECRET", default="")
META_APP_SECRET: str = env.str("META_APP_SECRET", default="")
INSTAGRAM_REDIRECT_URI: str = env.str(
    "INSTAGRAM_REDIRECT_URI", default=f"{SITE_URL}/accounts/instagram/callback/"
)
INSTAGRAM_WEBHOOK_VERIFY_TOKEN: str = env.str("INSTAGRAM_WEBHOOK_VERIFY_TOKEN", default="")
INSTAGRAM_GRAPH_API_URL: str = env.str(
    "INSTAGRAM_GRAPH_API_URL", default="https://graph.instagram.com/v24.0"
).rstrip("/")
INSTAGRAM_OAUTH_AUTHORIZE_URL: str = env.str(
    "INSTAGRAM_OAUTH_AUTHORIZE_URL", default="https://www.instagram.com/oauth/authorize"
)
INSTAGRAM_OAUTH_TOKEN_URL: str = env.str(
    "INSTAGRAM_OAUTH_TOKEN_URL", default="https://api.instagram.com/oauth/access_token"
)
INSTAGRAM_OAUTH_SCOPES = "instagram_business_basic,instagram_business_manage_messages"
# An account configured by environment: the sandbox pair takes precedence, as in the seeds.
INSTAGRAM_ACCESS_TOKEN: str = env.str("INSTAGRAM_ACCESS_TOKEN", default="")
INSTAGRAM_USER_ID: str = env.str("INSTAGRAM_USER_ID", default="")
INSTAGRAM_API_URL: str = env.str("INSTAGRAM_API_URL", default="").rstrip("/")
INSTAGRAM_ACCOUNT_ID: str = env.str("INSTAGRAM_ACCOUNT_ID", default="")
# Seconds before a Graph call gives up: (connect, read).
INSTAGRAM_HTTP_TIMEOUT: tuple[float, float] = (
    env.float("INSTAGRAM_HTTP_CONNECT_TIMEOUT", default=3.05),
    env.float("INSTAGRAM_HTTP_READ_TIMEOUT", default=15.0),
)

# --- Sandbox: a fake Meta and a customer simulator, to try the product without Meta -----
# On by default only in development with no Meta app configured; never in production unless
# SANDBOX=true. Its fake Graph API lives under /sandbox/graph/ in this same app.
_META_CONFIGURED = any([INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET, INSTAGRAM_ACCESS_TOKEN])
SANDBOX_ENABLED: bool = env.bool("SANDBOX", default=DEBUG and not _META_CONFIGURED)
SANDBOX_ACCOUNT_ID = "17841400000000042"
SANDBOX_ACCESS_TOKEN = "sandbox-token"
if SANDBOX_ENABLED:
    # The simulator signs its webhooks like Meta; a secret must exist for the intake to accept.
    INSTAGRAM_CLIENT_SECRET = INSTAGRAM_CLIENT_SECRET or "sandbox-app-secret"
    INSTAGRAM_WEBHOOK_VERIFY_TOKEN = INSTAGRAM_WEBHOOK_VERIFY_TOKEN or "sandbox-verify-token"

# --- Accounts: token refresh, alerts to admins, email (the accounts issue) -------------
# OAuth tokens expiring within this many days are refreshed by the daily job: a failing
# refresh then has weeks of daily retries before the token dies (Meta's last 60 days).
ACCOUNTS_TOKEN_REFRESH_HORIZON_DAYS: int = env.int(
    "ACCOUNTS_TOKEN_REFRESH_HORIZON_DAYS", default=30
)
# Admins see a banner (and get an email) for a token this close to expiry.
ACCOUNTS_TOKEN_WARNING_DAYS: int = env.int("ACCOUNTS_TOKEN_WARNING_DAYS", default=3)
# Admins see a banner (and the daily check mails them) when an active account has received
# no webhook for this many days: Meta may have stopped delivering.
ACCOUNTS_WEBHOOK_SILENCE_DAYS: int = env.int("ACCOUNTS_WEBHOOK_SILENCE_DAYS", default=3)
if ACCOUNTS_WEBHOOK_SILENCE_DAYS < 1:
    raise ImproperlyConfigured(
        "ACCOUNTS_WEBHOOK_SILENCE_DAYS must be a whole number of days, 1 or more."
    )
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587. Unset: no email is sent
# (alerts still show as a banner), and Django's own mail goes to the console.
EMAIL_URL: str = env.str("EMAIL_URL", default="")
_EMAIL: dict[str, object] = env.email_url_config(EMAIL_URL) if EMAIL_URL else {}
EMAIL_BACKEND = str(_EMAIL.get("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = str(_EMAIL.get("EMAIL_HOST") or "localhost")
EMAIL_PORT = int(str(_EMAIL.get("EMAIL_PORT") or 25))
EMAIL_HOST_USER = str(_EMAIL.get("EMAIL_HOST_USER") or "")
EMAIL_HOST_PASSWORD = str(_EMAIL.get("EMAIL_HOST_PASSWORD") or "")
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL"))
if _EMAIL.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = "/" + str(_EMAIL["EMAIL_FILE_PATH"]).lstrip("/")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="inbox@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ACCOUNTS_ALERT_EMAILS: bool = bool(EMAIL_URL)

# --- Outbound sends (issue 4): Meta's per-account caps and the retry budget -------------
# Calls per second per account: text, links, reactions and stickers; audio and video.
INSTAGRAM_RATE_LIMIT_TEXT: float = env.float("INSTAGRAM_RATE_LIMIT_TEXT", default=100.0)
INSTAGRAM_RATE_LIMIT_MEDIA: float = env.float("INSTAGRAM_RATE_LIMIT_MEDIA", default=10.0)
# Calls to Meta for one reply before a transient failure becomes a visible "failed".
INSTAGRAM_SEND_MAX_ATTEMPTS: int = env.int("INSTAGRAM_SEND_MAX_ATTEMPTS", default=6)
if (
    min(INSTAGRAM_RATE_LIMIT_TEXT, INSTAGRAM_RATE_LIMIT_MEDIA) <= 0
    or INSTAGRAM_SEND_MAX_ATTEMPTS < 1
):
    raise ImproperlyConfigured(
        "INSTAGRAM_RATE_LIMIT_TEXT and INSTAGRAM_RATE_LIMIT_MEDIA must be above 0, "
        "INSTAGRAM_SEND_MAX_ATTEMPTS at least 1."
    )
# History sync (Meta's Conversations API): Meta allows 2 calls a second per account; the
# reconciliation re-reads conversations updated since the last sync, this often.
HISTORY_SYNC_CALLS_PER_SECOND: float = env.float("HISTORY_SYNC_CALLS_PER_SECOND", default=2.0)
HISTORY_SYNC_EVERY_HOURS: float = env.float("HISTORY_SYNC_EVERY_HOURS", default=6.0)
if not 0 < HISTORY_SYNC_CALLS_PER_SECOND <= 2 or HISTORY_SYNC_EVERY_HOURS <= 0:
    raise ImproperlyConfigured(
        "HISTORY_SYNC_CALLS_PER_SECOND must be above 0 and at most 2 (Meta's limit), "
        "HISTORY_SYNC_EVERY_HOURS above 0."
    )

# --- Django -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "accounts",
    "inbox",
    "team",
    "reports",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Meta's webhook goes straight to its view from here: the rest serves browsers.
    "inbox.middleware.WebhookFirstMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.csp.ContentSecurityPolicyMiddleware",
    # A login post for a locked username or address is refused here, from one cache read.
    "accounts.throttle.LoginLockMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's, but a view that needs no login loads no session or user (common/login.py).
    "common.login.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a refused login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # Admins' banner: accounts that need reconnecting or whose token expires soon.
                "accounts.context_processors.account_alerts",
                "sandbox.context_processors.sandbox",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL, immediate transactions and a busy timeout
    # keep them from answering "database is locked" under load.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "common.cache.KeptClientRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for a username, or from an
# address, further tries from it or for it are refused until AXES_COOLOFF_TIME has passed since
# the last failure. Its backend goes first and refuses before Django's hashes a password.
# Admins see and delete lock-outs in admin ("Access attempts").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Checks passwords and loads the logged-in agent on each request (accounts/backends.py).
    "accounts.backends.AgentBackend",
    # Only loads the agents of sessions it signed in before AgentBackend was added.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT: int = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES: int = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
if AXES_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_LOCKOUT_MINUTES must be 1 or more.")
# Either one locks: a username guessed from many addresses, an address trying many usernames.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A refused try records nothing (no write, no hash) and does not push the end further away,
# so the page can say when to come back.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Not reset by a success: an agent's own login must not wipe the count of guesses made from
# their address at someone else's username.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = True  # no row per login and logout, only failures are counted
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
# Repeat axes' refusals from the cache, ahead of the session and CSRF middleware, so a guesser
# costs one cache read (accounts/throttle.py). Only with a cache every web process shares: with
# the per-process default, a lock-out an admin cleared would linger in the other processes.
LOGIN_LOCK_GATE: bool = env.bool("LOGIN_LOCK_GATE", default=bool(REDIS_URL))
AXES_VERBOSE = False  # no banner at every start of every command
# How many reverse proxies in front of web append the client's address to X-Forwarded-For.
# 0: the header is ignored (anyone can write it). Behind a proxy, leave it at 0 and every
# client shares the proxy's address: one guesser locks everyone out of logging in.
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:conversation_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE: str = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "common.staticfiles.ForgivingManifestStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # Meta batches up to 1000 updates.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- HTTPS hardening (on unless DEBUG; each can be turned off) --------------------------
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE: bool = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE: bool = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# In the database, read with one plain statement (common/sessions.py): the live polls read
# the session on every request, a few every second per open page.
SESSION_ENGINE = "common.sessions"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (common/csp.py): scripts only from our static files (htmx,
# inbox.js), no inline script or style, never framed. Customers' photos, videos and profile
# pictures come from Meta's CDN, whose hosts vary: any https host; our own uploads are linked
# by SITE_URL, which in development may be another origin than the page's.
_SITE = urlsplit(SITE_URL)
_SITE_ORIGIN = f"{_SITE.scheme}://{_SITE.netloc}"
CONTENT_SECURITY_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "https:", "data:", _SITE_ORIGIN],
    "media-src": ["'self'", "https:", _SITE_ORIGIN],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SILENCED_SYSTEM_CHECKS: list[str] = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# --- Celery -----------------------------------------------------------------------------
BROKER_DIR = Path(env.str("BROKER_DIR", default=str(BASE_DIR / "var" / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # The embedded broker: kombu's filesystem transport works across processes on one host.
    # Its host is named (it is ignored) or kombu warns at every start that none was given.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a web request when the broker is down: the ledger sweep re-queues.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "webhook-events-sweep": {
        "task": "inbox.tasks.webhook_events_sweep_task",
        "schedule": timedelta(seconds=15),
    },
    "outbound-sweep": {
        "task": "inbox.tasks.messages_sweep_task",
        "schedule": timedelta(seconds=30),
    },
    "snoozed-conversations-wake": {
        "task": "inbox.tasks.conversations_wake_task",
        "schedule": timedelta(seconds=30),
    },
    "refresh-tokens-daily": {
        "task": "accounts.tasks.tokens_refresh_task",
        "schedule": crontab(hour=3, minute=17),
    },
    "history-reconcile": {
        "task": "inbox.tasks.history_reconcile_task",
        "schedule": timedelta(hours=HISTORY_SYNC_EVERY_HOURS),
    },
    "webhook-health-daily": {
        "task": "accounts.tasks.webhook_health_check_task",
        "schedule": crontab(hour=3, minute=47),
    },
    # Reports: catch the summary up with the inbox, so a page's own catch-up stays small.
    "reports-catch-up": {
        "task": "reports.tasks.summaries_catch_up_task",
        "schedule": timedelta(minutes=1),
    },
}

# --- Webhook intake ---------------------------------------------------------------------
# A webhook request publishes its processing task after commit. With the broker down that
# publish must fail at once (the ledger sweep re-queues the event), not retry for
# CELERY_BROKER_CONNECTION_TIMEOUT seconds: one connection attempt with a short connect
# timeout. Workers are unaffected: they reconnect under broker_connection_max_retries.
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"max_retries": 0, "socket_connect_timeout": 1})
# A new event publishes no task while an earlier processing task is still queued or draining:
# that task takes every fresh event it finds. Needs a cache every process shares (Redis); with
# the per-process default cache each event publishes its own task.
INTAKE_COALESCE_PUBLISHES: bool = bool(REDIS_URL)
# How long intake lets webhooks gather before it works them as a group (with coalesced
# publishes): a drain that found less than a full group waits this long before it looks
# again. A fifth of a second at 250 events/s is 50 events stored in a few statements,
# instead of an event or two at a time. A processing task itself starts at once, so a lone
# message is not held back.
INTAKE_GATHER_SECONDS: float = 0.2

# --- Logging: never a token, a secret or a whole message body ---------------------------
LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # urllib3 logs request lines, query strings (tokens) included, at DEBUG: never let it.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
