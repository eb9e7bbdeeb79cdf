"""One environment-driven settings file.

Every value a deployment changes comes from an environment variable; the README has the
table. With nothing set, the project runs on its embedded defaults: SQLite and a filesystem
Celery broker under ``var/``, a secret key generated once and kept in ``var/``.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from crm_messaging.encryption_keys import GENERATE_HINT, fernet_key_errors
from crm_messaging.env import (
    env_address,
    env_bool,
    env_choice,
    env_countries,
    env_country,
    env_decimal,
    env_domains,
    env_email,
    env_int,
    env_list,
    env_networks,
    env_rate,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


# --- Environment ---------------------------------------------------------------------------
# "production" turns on every protection and requires the secrets to come from the
# environment; "development" (the default) is what `make run` uses.
ENVIRONMENT = env_choice("DJANGO_ENV", "development", ["development", "production"])
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    # Local runs keep one generated key so sessions and signed links survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# Keys that encrypt provider secrets at rest (Fernet, comma-separated; the first encrypts,
# all decrypt, so keys can be rotated). Local runs derive one from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY", [])
if PRODUCTION and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        f"FIELD_ENCRYPTION_KEY must be set when DJANGO_ENV=production ({GENERATE_HINT})"
    )
# A key that is not a Fernet key (e.g. "change-me" from .env.example) stops every process
# at start-up, not the first time a provider secret is read.
if _key_errors := fernet_key_errors(FIELD_ENCRYPTION_KEYS):
    raise ImproperlyConfigured("; ".join(_key_errors))

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The address guests and providers reach us at: used in links (unsubscribe, guest login)
# and in provider status-callback URLs.
PUBLIC_BASE_URL = env_url(
    "PUBLIC_BASE_URL", "http://127.0.0.1:8000", schemes=["http", "https"]
).rstrip("/")

# --- Applications --------------------------------------------------------------------------
INSTALLED_APPS = [
    "interfaces.staff.apps.StaffAdminConfig",  # django.contrib.admin, managers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crm_messaging.ops",
    "crm_messaging.ui",  # the staff screens' own: a form submitted once (ui/once.py)
    # The layers, from the bottom: the CRM core, sending, campaigns, then the interfaces.
    "guests",
    "channels_out",
    "campaigns",
    "interfaces.frontdesk",
    "interfaces.marketing",
    "interfaces.analytics",
    "interfaces.operator",
    "interfaces.portal",
    "interfaces.monitoring",
    "interfaces.imports",
    "interfaces.mews",
    "interfaces.inbox",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (CSP: no CDN)
    "interfaces.api",
    "interfaces.webhooks",
    # Last: after every app's permissions exist, it keeps the staff roles in step.
    "interfaces.staff",
]

MIDDLEWARE = [
    # First: the probes (/healthz, /readyz, /metrics) are answered before the host check
    # and the HTTPS redirect, so a load balancer or Prometheus can reach them by any name.
    "crm_messaging.ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "interfaces.staff.two_factor.TwoFactorGate",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "crm_messaging.csp.AdminStyleAllowance",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "interfaces.urls"
WSGI_APPLICATION = "crm_messaging.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "interfaces.staff.context.staff_context",
                "interfaces.webhooks.context.webhooks_context",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    schemes=["postgres", "postgresql", "sqlite"],
    secret=True,
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks instead of
    # failing, take the write lock at BEGIN (no upgrade deadlocks), and let readers run
    # beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT adds 100–300 ms to audience queries and never pays back here.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis -----------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes=["redis", "rediss", "unix"], secret=True)
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # A file cache under var/: the web server, the worker and beat of `make run` share it
    # (the readiness check reads the worker's and beat's heartbeats from it).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery --------------------------------------------------------------------------------
CELERY_DATA_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    REDIS_URL or "filesystem://",
    schemes=["redis", "rediss", "sentinel", "amqp", "amqps", "filesystem"],
    host=False,
    secret=True,
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: messages are files under var/celery, so the worker needs no server.
    for sub in ("queue", "processed", "control"):
        (CELERY_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# django-celery-beat's database schedule (periodic tasks are edited in the admin), behind a
# lock: a second beat process stands by instead of scheduling everything twice.
CELERY_BEAT_SCHEDULER = "crm_messaging.ops.beat:LockedDatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Operations ----------------------------------------------------------------------------
# Readiness (/readyz): a worker and beat must have reported within this many seconds (the
# worker heartbeat task runs every 30 s, beat reports on every tick).
READINESS_HEARTBEAT_MAX_AGE = env_int("READINESS_HEARTBEAT_MAX_AGE", 180, minimum=1)
# Prometheus metrics (/metrics): a scraper sends "Authorization: Bearer <METRICS_TOKEN>", or
# comes from one of these addresses (CIDR, comma-separated). Anyone else is refused.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_ADDRESSES = env_networks("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1/32", "::1/128"])
# A Celery worker serves its task latencies on this port when set (e.g. 9808); 0: off.
CELERY_METRICS_PORT = env_int("CELERY_METRICS_PORT", 0, maximum=65535)
CELERY_METRICS_ADDRESS = env_address("CELERY_METRICS_ADDRESS", "127.0.0.1")
# Housekeeping: delivery events (receipts, provider answers) are kept this many days.
DELIVERY_EVENT_RETENTION_DAYS = env_int("DELIVERY_EVENT_RETENTION_DAYS", 365, minimum=1)
# The sweeper: a queued message whose task was lost is dispatched again after this long; a
# message left in "sending" by a worker that died becomes unknown after this long.
SWEEPER_REDISPATCH_AFTER_SECONDS = env_int("SWEEPER_REDISPATCH_AFTER_SECONDS", 60, minimum=1)
SWEEPER_STUCK_SENDING_AFTER_SECONDS = env_int("SWEEPER_STUCK_SENDING_AFTER_SECONDS", 600, minimum=1)
# E-mail engagement (E3): an open or click this soon after delivery is a mail scanner's
# pre-fetch, not the guest; bookings within this many days after a campaign message are
# attributed to it (E4).
SCANNER_PREFETCH_SECONDS = env_int("SCANNER_PREFETCH_SECONDS", 10)
ATTRIBUTION_WINDOW_DAYS = env_int("ATTRIBUTION_WINDOW_DAYS", 14, minimum=1)
# The return path of SMTP mail (E2): bounces go to <local>+b<id>-<signature>@<domain> of this
# address (empty: of the account's from address), read from the bounce mailbox.
BOUNCE_ADDRESS = env_email("BOUNCE_ADDRESS", "")

# --- The hotel -----------------------------------------------------------------------------
TIME_ZONE = env_time_zone("TIME_ZONE", "Europe/Istanbul")
USE_TZ = True
CELERY_TIMEZONE = TIME_ZONE
# Region used to read phone numbers written without a country code (e.g. "0532 123 45 67").
HOTEL_DEFAULT_REGION = env_country("HOTEL_DEFAULT_REGION", "TR")

# Guest portal (P1): countries whose numbers may get a login code (empty: the built-in list),
# and the code limits per number and per client address per hour.
PORTAL_ALLOWED_COUNTRIES = env_countries("PORTAL_ALLOWED_COUNTRIES", [])
PORTAL_CODES_PER_NUMBER_PER_HOUR = env_int("PORTAL_CODES_PER_NUMBER_PER_HOUR", 3, minimum=1)
PORTAL_CODES_PER_CLIENT_PER_HOUR = env_int("PORTAL_CODES_PER_CLIENT_PER_HOUR", 10, minimum=1)
# How many proxies in front of the app append to X-Forwarded-For (1 behind the TLS proxy): the
# client address for the portal's code limits and the staff login lock-out (crm_messaging.clients).
# PORTAL_TRUSTED_PROXIES is its older name.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", env_int("PORTAL_TRUSTED_PROXIES", 0))

# Extra booking-portal relay e-mail domains, beyond the built-in list (comma-separated).
OTA_RELAY_DOMAINS = env_domains("OTA_RELAY_DOMAINS", [])

# Languages a guest profile (and a message template) can be in.
GUEST_LANGUAGES = [
    ("tr", "Türkçe"),
    ("en", "English"),
    ("de", "Deutsch"),
    ("ru", "Русский"),
    ("sk", "Slovenčina"),
    ("uk", "Українська"),
    ("ar", "العربية"),
    ("fr", "Français"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("it", "Italiano"),
    ("es", "Español"),
]
# Guest language used when a guest has none and as the last template fallback.
HOTEL_DEFAULT_LANGUAGE = env_choice("HOTEL_DEFAULT_LANGUAGE", "en", dict(GUEST_LANGUAGES))

# --- Internationalisation of the screens ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tr", "Türkçe"), ("de", "Deutsch"), ("ru", "Русский")]
# The languages the staff screens are translated into, offered in their header (the guest
# pages speak every language of LANGUAGES).
STAFF_LANGUAGES = ["en", "tr"]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# Staff choose their language in the header (django.views.i18n.set_language); the choice is
# this cookie, kept for a year. Until they choose, the screens follow the browser's language.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Auth ----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff:home"
LOGOUT_REDIRECT_URL = "login"

# Managers and superusers enter a code from an authenticator app after the password:
# "required" (every one of them; the production default) or "optional" (those who set one up).
STAFF_TWO_FACTOR = env_choice(
    "STAFF_TWO_FACTOR", "required" if PRODUCTION else "optional", ["required", "optional"]
)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Hotel CRM")

# Staff mail (password reset) goes through this SMTP server, not the guest channels.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: TLS is STARTTLS (usually port 587), "
        "SSL is implicit TLS (usually port 465)"
    )
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_email("DEFAULT_FROM_EMAIL", "crm@localhost", display_name=True)

# --- Credit invoices (K2) ---------------------------------------------------------------------
# Who issues the invoices for credits (the messaging service's operator) and the VAT added to
# the net price (Turkey's KDV: 20 %); the buyer is the hotel, as entered when ordering.
INVOICE_ISSUER_NAME = os.environ.get("INVOICE_ISSUER_NAME", "Hotel CRM Messaging")
INVOICE_ISSUER_ADDRESS = os.environ.get("INVOICE_ISSUER_ADDRESS", "")
INVOICE_ISSUER_TAX_ID = os.environ.get("INVOICE_ISSUER_TAX_ID", "")
INVOICE_VAT_RATE = env_decimal(
    "INVOICE_VAT_RATE", "20", minimum=Decimal(0), maximum=Decimal(100), places=2
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Staff and admin logins are locked after LOGIN_FAILURE_LIMIT wrong passwords, per user name
# and per client address separately, for LOGIN_LOCKOUT_MINUTES (django-axes; the attempts are
# in the database: the admin's "Access attempts" or `manage.py axes_reset_username NAME` unlock).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "crm_messaging.clients.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- Content-Security-Policy (django-csp) ------------------------------------------------
# Scripts and styles come only from static/ (no inline <script>, <style> or style="…"; htmx
# runs without eval). The admin gets inline styles (crm_messaging.csp); an e-mail preview is
# served in a sandboxed frame under its own policy (interfaces.marketing.email_preview).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves straight from the apps' and STATICFILES_DIRS' files,
# with DEBUG off too (`make run` runs the demo as a hotel sees it, with the error pages).
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security (production) -----------------------------------------------------------------
if PRODUCTION:
    # Off only for a plain-HTTP local compose stack; behind TLS keep the default.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = env_bool(
        "SECURE_COOKIES", True
    )
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Behind a TLS-terminating proxy (docker-compose, a load balancer).
    if env_bool("USE_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# W040: SQLite ignores the covering column of the consent index (PostgreSQL uses it).
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", ["models.W040"])

# --- The REST API (I1) -----------------------------------------------------------------------
# Requests per API key; counted in the cache (Redis when REDIS_URL is set), so every web
# process shares the count.
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "600/min")
API_BATCH_MAX = 500
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["interfaces.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["interfaces.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["interfaces.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_THROTTLE_RATE},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "interfaces.api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hotel CRM messaging API",
    "DESCRIPTION": (
        "Guests, reservations and facility bookings kept in step with the hotel's PMS by its "
        "own ids; one-off messages, their statuses and the credit balance. Errors are RFC 9457 "
        "problem details."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "interfaces.api.schema.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ReservationStatusEnum": "guests.models.Reservation.Status",
        "FacilityBookingStatusEnum": "guests.models.FacilityBooking.Status",
        "UpsertOutcomeEnum": "interfaces.api.serializers.OUTCOMES",
        "BatchOutcomeEnum": "interfaces.api.upserts.BATCH_OUTCOMES",
        "MessageStatusEnum": "channels_out.models.Status",
        "WebhookEventTypeEnum": "interfaces.webhooks.models.EventType",
        "WebhookDeliveryStatusEnum": "interfaces.webhooks.models.WebhookDelivery.Status",
        "ChannelEnum": "guests.models.ContactChannel",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
# --- Outbound webhooks (I2) ---------------------------------------------------------------
# Endpoints must be https:// in production; plain http is allowed for local development.
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", PRODUCTION)
# Endpoints go to public addresses only (no server-side request forgery); a PMS on the
# hotel's own network is allowed by naming its networks (CIDR, comma-separated), e.g.
# "192.168.10.0/24". Checked at registration and again at every delivery.
WEBHOOKS_ALLOWED_PRIVATE_NETWORKS = env_networks("WEBHOOKS_ALLOWED_PRIVATE_NETWORKS", [])
# Events whose deliveries are all finished (delivered or failed) are deleted after this many days.
WEBHOOK_EVENT_RETENTION_DAYS = env_int("WEBHOOK_EVENT_RETENTION_DAYS", 30, minimum=1)

# --- Logging -------------------------------------------------------------------------------
# LOG_FORMAT=json writes one JSON object per line (python-json-logger) for a log collector.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ["plain", "json"])
LOG_LEVEL = env_choice(
    "LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], upper=True
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "filters": {
        "refusals": {"()": "crm_messaging.ops.logfilters.RefusalWithoutTraceback"},
        "secrets": {"()": "crm_messaging.ops.logfilters.SecretsMasked"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A 403/400 is one line, not a traceback (a 500 keeps its traceback). The secrets of
        # an address (sign-in links, the Mews webhook's token) are masked
        # (crm_messaging.ops.redaction); gunicorn's access log masks them too (gunicorn.conf.py).
        "django.request": {"filters": ["refusals", "secrets"]},
        # runserver's request lines, in the site's format, masked the same way.
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["secrets"],
        },
    },
}
# Celery keeps the logging configured here instead of installing its own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Error reporting (optional) --------------------------------------------------------------
# Unhandled errors (web and tasks) go to Sentry only when SENTRY_DSN is set.
SENTRY_DSN = env_url("SENTRY_DSN", "", schemes=["https", "http"], secret=True)
if SENTRY_DSN:
    from crm_messaging.ops.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=ENVIRONMENT)

# Guests' e-mail replies (the inbox): with an address here (reply@hotel.example), every e-mail
# to a guest gets its own Reply-To (reply+<token>@hotel.example), matched back to the message.
EMAIL_REPLY_ADDRESS = env_email("EMAIL_REPLY_ADDRESS", "")
