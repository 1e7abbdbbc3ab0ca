"""Settings for Attack-a-Crack: what an operator sets is read from the environment with safe
local defaults; the engineering constants at the end are written here.

With no environment at all the project runs on SQLite under ``var/``, an embedded
filesystem broker and the console SMS backend. ``DATABASE_URL``, ``REDIS_URL`` and the
``OPENPHONE_*`` variables switch it to PostgreSQL, Redis and the real OpenPhone API.
"""

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from messaging.limits import MAX_TEXTS_PER_NUMBER_PER_DAY

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
        raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")
    return value in {"true", "1", "yes", "on"}


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default).strip()
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envtime(name: str, default: str) -> dt.time:
    value = os.getenv(name, default).strip()
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a time of day such as 09:00, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "True")

SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key-never-used-with-debug-off"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "attackacrack",
    "contacts",
    "campaigns",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "attackacrack.web.middleware.RefuseNulInQuery",
    "attackacrack.web.middleware.NoStoreByDefault",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "attackacrack.urls"

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
            ],
        },
    },
]

# Persistent connections with a health check: web workers and Celery workers reuse one
# connection instead of paying a new PostgreSQL backend per request or task.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'attackacrack.sqlite3'}",
        conn_max_age=envint("CONN_MAX_AGE", "600"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take SQLite's write lock when a transaction starts, so two processes that read a count
    # and then write (the daily limit) queue up instead of both acting on the same count.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the import's merges are estimated costly enough to be compiled, and
    # compiling took longer than running them (2.9 s of a 200,000-row import's 10 s of merges).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"-c jit=off {options.get('options', '')}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: a locked-out username or address is refused before its password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every business rule is evaluated in the shop's zone; storage stays UTC (USE_TZ, Django's default).
TIME_ZONE = "America/New_York"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Locally WhiteNoise serves from the app folders as they change; in production from STATIC_ROOT,
# filled by `collectstatic`. Set here, not left to WhiteNoise's default (the DEBUG of the moment),
# so that the test run, which turns DEBUG off, still serves the app folders.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

# --- HTTPS and browser protections ----------------------------------------------------------
# With DEBUG off every default is the secure one; each can be relaxed from the environment, e.g.
# for a first start before the certificate exists.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", str(not DEBUG))
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(not DEBUG))
# The load balancer's health check speaks plain HTTP to the web process.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600))
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", str(not DEBUG))
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "False")
if not SECURE_HSTS_PRELOAD:
    # Entering the domain into browsers' preload list binds every subdomain for months and is
    # the domain owner's decision, so it is offered (SECURE_HSTS_PRELOAD) rather than defaulted.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
BEHIND_HTTPS_PROXY = envbool("BEHIND_HTTPS_PROXY", "False")
if BEHIND_HTTPS_PROXY:
    # Only behind a proxy that sets this header itself (and drops a client's own).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The pages' own script is one static file and their styles one stylesheet: nothing inline runs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The API docs (Swagger UI) draw their icons as data: images.
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sign-in lockout (django-axes) ----------------------------------------------------------
# After this many wrong passwords for one username from one address, both login forms refuse
# that username from that address for the cool-off time, the right password included; from
# elsewhere it still signs in. An address that fails for LOGIN_ADDRESS_USERNAME_LIMIT different
# usernames is refused for every username (attackacrack/web/lockout.py says why it is counted there).
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
LOGIN_ADDRESS_USERNAME_LIMIT = envint("LOGIN_ADDRESS_USERNAME_LIMIT", "10")
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "attackacrack.web.lockout.SignInLockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "attackacrack.web.middleware.client_address"

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: an anonymous API call is answered 401 with a WWW-Authenticate header.
        "attackacrack.web.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "attackacrack.web.api.IdCursorPagination",
    "DEFAULT_PARSER_CLASSES": [
        "attackacrack.web.api_input.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["attackacrack.web.api_input.UserRateThrottle"],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "attackacrack.web.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Attack-a-Crack API",
    "DESCRIPTION": "SMS outreach CRM: contacts, campaigns and messages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page need the same staff sign-in or token as the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "attackacrack.web.api.document_unsupported_media_type",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "VariantEnum": "campaigns.models.Variant",
        "MessageStatusEnum": "messaging.models.Message.Status",
        "MessageKindEnum": "messaging.models.Message.Kind",
        "ConsentBasisEnum": "contacts.models.ConsentBasis",
        "DoNotCallLoadKindEnum": "contacts.models.DoNotCallLoad.Kind",
        "OutcomeKindEnum": "campaigns.models.Outcome.Kind",
        "ReasonEnum": "contacts.not_texted.Reason",
        "MemberStatusEnum": "campaigns.models.CampaignContact.Status",
    },
}

# The Celery broker, and the rate limits' counts shared by every process (messaging/ratelimit.py).
REDIS_URL = os.getenv("REDIS_URL", "")
# Every key the project keeps in Redis starts with this: the broker's queues, the API's request
# counts, OpenPhone's rate-limit window. Deployments sharing one Redis database each need their
# own, or their workers take each other's tasks; the test suite takes one per run.
REDIS_KEY_PREFIX = os.getenv("REDIS_KEY_PREFIX", "attackacrack")
if not re.fullmatch(r"[A-Za-z0-9_.-]+", REDIS_KEY_PREFIX):
    raise ImproperlyConfigured(f"REDIS_KEY_PREFIX must be letters, digits, _ . or -, not {REDIS_KEY_PREFIX!r}")

# --- Celery --------------------------------------------------------------------------------
# Redis when configured; otherwise kombu's filesystem transport under var/, so `make run`
# needs no external service and still runs a real worker and beat.
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # kombu's Redis transport puts this before every key it uses: queues, bindings, unacked.
        "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# A batch of texts takes seconds (the provider's rate limit): each worker process takes one at a
# time, so a second worker (or machine) shares the queue instead of one worker holding it.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", "False")
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Future sends wait in the database; beat only ticks the services that book and claim them.
CELERY_BEAT_SCHEDULE = {
    "run-campaigns": {"task": "campaigns.tasks.run_campaigns", "schedule": 60.0},
    "dispatch-outbox": {"task": "messaging.tasks.dispatch_outbox", "schedule": 5.0},
    # Webhook events stored but not processed in time (the broker lost their task) go to a worker again.
    "hand-over-webhook-events": {"task": "messaging.tasks.hand_over_webhook_events", "schedule": 15.0},
    "hand-over-imports": {"task": "contacts.tasks.hand_over_imports", "schedule": 60.0},
    # Hourly; the campaign clock also runs one before the first booking of each business day.
    "catch-up-messages": {"task": "messaging.tasks.catch_up_messages", "schedule": 3600.0},
}

# --- Contact imports ----------------------------------------------------------------------
# Uploads above this are refused (413); keep it at or below the proxy's own body limit.
IMPORT_MAX_UPLOAD_BYTES = envint("IMPORT_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024))
FILE_UPLOAD_TEMP_DIR = os.getenv("FILE_UPLOAD_TEMP_DIR") or None

# --- Business calendar and campaign pacing ---------------------------------------------------
# Campaign texts go out on these weekdays (0 = Monday) between these local times; holidays are
# kept in the database (admin: Campaigns › Holidays).
BUSINESS_TIME_ZONE = os.getenv("BUSINESS_TIME_ZONE", TIME_ZONE)
_days = envlist("BUSINESS_DAYS", "0,1,2,3,4")
if not _days or not all(day.isdigit() and int(day) <= 6 for day in _days):
    raise ImproperlyConfigured(f"BUSINESS_DAYS must list weekdays as numbers, 0 (Monday) to 6, not {_days!r}")
BUSINESS_DAYS = frozenset(int(day) for day in _days)
BUSINESS_OPENS = envtime("BUSINESS_OPENS", "09:00")
BUSINESS_CLOSES = envtime("BUSINESS_CLOSES", "18:00")
if not BUSINESS_OPENS < BUSINESS_CLOSES:
    raise ImproperlyConfigured("BUSINESS_OPENS must be earlier than BUSINESS_CLOSES")
# Cold texts per sending number per local business day, shared by every campaign on the number.
SMS_DAILY_LIMIT_PER_NUMBER = envint("SMS_DAILY_LIMIT_PER_NUMBER", "125")
if not 1 <= SMS_DAILY_LIMIT_PER_NUMBER <= MAX_TEXTS_PER_NUMBER_PER_DAY:
    raise ImproperlyConfigured(
        f"SMS_DAILY_LIMIT_PER_NUMBER must be between 1 and {MAX_TEXTS_PER_NUMBER_PER_DAY} (the provider's daily cap)"
    )
# Pacing: about CAMPAIGN_PACE_BATCH texts every CAMPAIGN_PACE_MINUTES, spread evenly, never a burst.
CAMPAIGN_PACE_BATCH = envint("CAMPAIGN_PACE_BATCH", "25")
CAMPAIGN_PACE_MINUTES = envint("CAMPAIGN_PACE_MINUTES", "30")
if CAMPAIGN_PACE_BATCH < 1 or CAMPAIGN_PACE_MINUTES < 1:
    raise ImproperlyConfigured("CAMPAIGN_PACE_BATCH and CAMPAIGN_PACE_MINUTES must be at least 1")
# The recipient's legal hours and caps by state; the default is campaigns/compliance/recipient_rules.json.
RECIPIENT_RULES_FILE = os.getenv("RECIPIENT_RULES_FILE", "")
SMS_OPT_OUT_FOOTER = os.getenv("SMS_OPT_OUT_FOOTER", "Reply STOP to unsubscribe")

# --- SMS / OpenPhone -----------------------------------------------------------------------
# What OpenPhone bills for each segment of a text, in dollars: the costs the pages show.
SMS_COST_PER_SEGMENT = Decimal(os.getenv("SMS_COST_PER_SEGMENT", "0.01"))
CONSOLE_SMS_BACKEND = "messaging.backends.console.SMSBackend"
SMS_BACKEND = os.getenv("SMS_BACKEND", CONSOLE_SMS_BACKEND)
OPENPHONE_API_KEY = os.getenv("OPENPHONE_API_KEY", "")
OPENPHONE_API_URL = os.getenv("OPENPHONE_API_URL", "https://api.openphone.com")
# The console backend texts nobody, so locally a fictional 555-01xx number stands in for the
# business number and every flow can be tried; a backend that really sends needs the real one.
OPENPHONE_FROM_NUMBER = os.getenv("OPENPHONE_FROM_NUMBER", "+16175550100" if SMS_BACKEND == CONSOLE_SMS_BACKEND else "")
if OPENPHONE_FROM_NUMBER and not re.fullmatch(r"\+[1-9][0-9]{7,14}", OPENPHONE_FROM_NUMBER):
    # OpenPhone also takes a PN... id, but the daily limit and every record count per number.
    raise ImproperlyConfigured(
        "OPENPHONE_FROM_NUMBER must be the sending number in E.164 (e.g. +16175550100), not an OpenPhone id"
    )
# Legacy `openphone-signature` scheme: base64 key shown in the OpenPhone dashboard.
OPENPHONE_WEBHOOK_SIGNING_KEY = os.getenv("OPENPHONE_WEBHOOK_SIGNING_KEY", "")
# Standard Webhooks scheme: `whsec_...` secret.
OPENPHONE_WEBHOOK_SECRET = os.getenv("OPENPHONE_WEBHOOK_SECRET", "")
# Locally (DEBUG, texts only printed) with no key configured, a fixed local-only key for each
# webhook system lets `manage.py simulate_inbound` sign test webhooks for `make run`. Never
# used otherwise.
LOCAL_WEBHOOK_KEY = "YXR0YWNrYWNyYWNrLWxvY2FsLW9ubHk="  # base64 of "attackacrack-local-only"
if DEBUG and SMS_BACKEND == CONSOLE_SMS_BACKEND and not (OPENPHONE_WEBHOOK_SECRET or OPENPHONE_WEBHOOK_SIGNING_KEY):
    OPENPHONE_WEBHOOK_SECRET = "whsec_" + LOCAL_WEBHOOK_KEY
    OPENPHONE_WEBHOOK_SIGNING_KEY = LOCAL_WEBHOOK_KEY
# The automatic texts name the business, and the HELP reply says how to reach it (a phone number or
# an e-mail): carriers expect both. By default it is the number the texts come from, as people write it.
BUSINESS_NAME = os.getenv("BUSINESS_NAME", "Attack-a-Crack Foundation Repair")
BUSINESS_CONTACT = os.getenv("BUSINESS_CONTACT", "") or re.sub(
    r"^\+1(\d{3})(\d{3})(\d{4})$", r"(\1) \2-\3", OPENPHONE_FROM_NUMBER
)
SMS_OPT_OUT_CONFIRMATION = (
    f"You've been unsubscribed from {BUSINESS_NAME} texts and will get no more. Reply START to resubscribe."
)
SMS_RESUBSCRIBE_CONFIRMATION = f"You're subscribed to {BUSINESS_NAME} texts again. Reply STOP to unsubscribe."
reach_us = f"Reach us at {BUSINESS_CONTACT}. " if BUSINESS_CONTACT else ""
SMS_HELP_REPLY = os.getenv(
    "SMS_HELP_REPLY",
    f"{BUSINESS_NAME}: foundation repair texts. {reach_us}Reply STOP to unsubscribe. Msg&data rates may apply.",
)

# --- Engineering constants -----------------------------------------------------------------
# Not read from the environment: each is the measured, intended value and an operator has no
# reason to change it. Tests change one with pytest-django's `settings` fixture; the drills,
# which compress hours into seconds, run with bench/drill_settings.py.

# Requests per minute one user's API token or session may make; more are answered 429.
API_REQUESTS_PER_MINUTE = 600
# Uploads above this run in a Celery task that the client polls; below, within the request.
IMPORT_SYNC_MAX_BYTES = 8 * 1024 * 1024
# A queued import no worker has taken within this long is handed over again.
IMPORT_HANDOVER_SECONDS = 120
# A running import says it is alive every minute, from a thread of its own (even through a long
# merge); this long without a sign, its process died: it is queued again (its upload is kept,
# IMPORT_MAX_ATTEMPTS runs in all) or failed with the reason.
IMPORT_STALLED_MINUTES = 5
IMPORT_MAX_ATTEMPTS = 3
# A booked send this late for its slot is re-booked to a later slot instead of going out late.
CAMPAIGN_MISSED_SLOT_MINUTES = 10
# A campaign pauses itself when this share of its texts that reached an outcome in the last day
# failed, once at least CARRIER_FILTER_MIN_TEXTS did: carriers filter texts that look like spam.
CARRIER_FILTER_FAILED_SHARE = float(os.getenv("CARRIER_FILTER_FAILED_SHARE", "0.25"))
CARRIER_FILTER_MIN_TEXTS = envint("CARRIER_FILTER_MIN_TEXTS", "20")
# The A/B test's fixed size: each variant's first this many sends decide it (looked at daily).
AB_MAX_SENDS_PER_VARIANT = 600
# OpenPhone allows 10 requests per second per key: held across every worker through Redis.
OPENPHONE_RATE_LIMIT_PER_SECOND = 10
OPENPHONE_CONNECT_TIMEOUT = 5.0
OPENPHONE_READ_TIMEOUT = 30.0
# A text is tried this many times (429, 5xx, network) before it is recorded as failed.
SMS_MAX_ATTEMPTS = 5
# A text still "sending" this long after its attempt began was interrupted (a killed worker):
# the provider is asked whether it went out before anything else happens.
SMS_STUCK_AFTER_SECONDS = 300
# Due texts handed to the broker but not taken by a worker within this long are handed over again.
OUTBOX_REENQUEUE_SECONDS = 120
# Signed webhook timestamps older (or further ahead) than this are replays and refused.
OPENPHONE_WEBHOOK_TOLERANCE_SECONDS = 300
OPENPHONE_WEBHOOK_MAX_BYTES = 256 * 1024
# A stored webhook event not taken by a worker within this long is handed over again (a lost
# task, a killed worker, a broker that was down or wiped): a STOP waits about a minute, never for ever.
WEBHOOK_HANDOVER_SECONDS = 60
# Catching up from OpenPhone's own history (what webhooks missed): the contacts texted within
# CATCH_UP_REPLY_DAYS are asked about, over at most CATCH_UP_MAX_DAYS, at a share of the rate limit.
CATCH_UP_REPLY_DAYS = 7
CATCH_UP_MAX_DAYS = 7
CATCH_UP_REQUESTS_PER_SECOND = 4
# Texts went out this long ago and no webhook event has arrived since: webhooks have gone quiet.
WEBHOOKS_QUIET_MINUTES = 30

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # The beat ticks every few seconds: one "succeeded" line per tick would bury what matters.
    "loggers": {
        "celery.app.trace": {"level": os.getenv("CELERY_TASK_LOG_LEVEL", "WARNING")},
        # django-axes logs every sign-in at INFO; lockouts, the part that needs a person, at WARNING.
        "axes": {"level": "WARNING"},
    },
}
