"""BackFuture settings, driven entirely by environment variables (see .env.example).

Two modes:
- development (DJANGO_DEBUG=true, the default on a developer machine): safe defaults, SQLite and
  Celery's filesystem broker under var/, so nothing but Python is needed;
- production (DJANGO_DEBUG=false): refuses to start without DJANGO_SECRET_KEY,
  FIELD_ENCRYPTION_KEYS and FINGERPRINT_KEYS, and turns on every transport-security setting.
"""

from __future__ import annotations

from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Development keys: only ever used with DEBUG on. They are public (they are in this file), so
# production refuses them below.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production-8f3b2c1d"  # noqa: S105
_DEV_FIELD_KEY = "YmFja2Z1dHVyZS1kZXYtb25seS1uZXZlci1pbi1wcmQ="  # public: development only
_DEV_FINGERPRINT_KEY = "dev-only-fingerprint-key-never-use-in-production"  # public: dev only
_DEV_CACHE_SIGNING_KEY = "dev-only-cache-signing-key"  # public: development only

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# HMAC keys for API-key fingerprints (one key, one connection), newest first. Separate from
# both keys above: a rotation of the encryption keys does not change fingerprints, and a leaked
# SECRET_KEY does not let anyone test guessed keys against a database dump. The newest key
# computes fingerprints; older ones are only consulted for duplicates until
# `manage.py rotate_fingerprint_key` has recomputed every stored fingerprint.
FINGERPRINT_KEYS = env.list("FINGERPRINT_KEYS", default=[])
# HMAC key that signs every cache value (backfuture/cache.py). Its own key, not SECRET_KEY: it
# guards a different store, and changing it only empties the cache.
CACHE_SIGNING_KEY = env.str("CACHE_SIGNING_KEY", default="")

if DEBUG:
    SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY
    FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [_DEV_FIELD_KEY]
    FINGERPRINT_KEYS = FINGERPRINT_KEYS or [_DEV_FINGERPRINT_KEY]
    CACHE_SIGNING_KEY = CACHE_SIGNING_KEY or _DEV_CACHE_SIGNING_KEY
else:
    missing = [
        name
        for name, value in (
            ("DJANGO_SECRET_KEY", SECRET_KEY),
            ("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS),
            ("FINGERPRINT_KEYS", FINGERPRINT_KEYS),
            ("CACHE_SIGNING_KEY", CACHE_SIGNING_KEY),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            "Production settings need " + " and ".join(missing) + " (see .env.example)."
        )
    if SECRET_KEY == _DEV_SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is the public development key.")
    if _DEV_FIELD_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS lists the public development key.")

    # The HMAC keys (fingerprints, cache signatures) each need their own random key: a public
    # one, a short one or one shared with another purpose lets a leak of one undo the other.
    def _refuse_weak_hmac_keys(name: str, keys: list[str], dev_key: str, taken: set) -> None:
        if dev_key in keys:
            raise ImproperlyConfigured(f"{name} is or lists the public development key.")
        if set(keys) & taken:
            raise ImproperlyConfigured(
                f"{name} must not reuse DJANGO_SECRET_KEY, an encryption or another HMAC key."
            )
        if any(len(key) < 32 for key in keys):
            raise ImproperlyConfigured(
                f"{name} must be at least 32 random characters (see .env.example)."
            )

    _refuse_weak_hmac_keys(
        "FINGERPRINT_KEYS",
        FINGERPRINT_KEYS,
        _DEV_FINGERPRINT_KEY,
        {SECRET_KEY, *FIELD_ENCRYPTION_KEYS},
    )
    # With a known key, whoever can write to Redis could sign values again (cached markup).
    _refuse_weak_hmac_keys(
        "CACHE_SIGNING_KEY",
        [CACHE_SIGNING_KEY],
        _DEV_CACHE_SIGNING_KEY,
        {SECRET_KEY, *FIELD_ENCRYPTION_KEYS, *FINGERPRINT_KEYS},
    )

# A malformed key list fails here, at startup, not at the first encrypted read.
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS entry {_position} is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from None

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "backfuture.users",
    "connections",
    "strategies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "backfuture.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backfuture.users.middleware.UserLanguageMiddleware",
    "backfuture.middleware.UnreadableBodyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication: a logged-in user's pages are never stored (static files, served
    # by whitenoise above, never get here).
    "backfuture.middleware.NoStoreForUsersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "backfuture.middleware.CacheUnavailableMiddleware",
    # Support staff change their one-time password, then staff set up TOTP before the admin.
    "backfuture.users.middleware.PasswordChangeRequiredMiddleware",
    "backfuture.users.middleware.StaffTwoFactorMiddleware",
    "backfuture.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "backfuture.urls"
WSGI_APPLICATION = "backfuture.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # Dates and page titles, the same on every page (backfuture/display.py).
            "libraries": {"display": "backfuture.display"},
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "connections.context_processors.exchange_incidents",
            ],
        },
    },
]

# Embedded default: SQLite under var/ so a fresh machine needs no database server.
VAR_DIR = Path(env.str("BACKFUTURE_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite is shared by the web process and the worker: wait for the lock instead of failing,
    # and take the write lock at BEGIN so select_for_update-style sections serialise.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- Accounts (django-allauth) ------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Mandatory verification is what lets sign-up answer the same for a new and a taken address:
# both get "check your inbox", and the mail says either "confirm" or "you already have an
# account" (issue 14, finding 9). Not configurable: "optional" would reopen the leak.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
# Confirming the address in the browser that signed up (or logged in) finishes that login;
# allauth does this only while that pending login is in the session, so a leaked link alone
# logs nobody in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_UNIQUE_EMAIL = True
# Failed logins are limited per account and IP (allauth's rate limits use the cache).
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/h/ip",
    "reset_password": "5/h/ip,3/h/key",
}
ACCOUNT_ADAPTER = "backfuture.users.adapter.AccountAdapter"
# How many reverse proxies in front of the app append to X-Forwarded-For; the client address
# is the entry the outermost of them added (backfuture/users/adapter.py). 0 = REMOTE_ADDR.
# Unset means 0, and production warns (backfuture.W102) until it is set explicitly.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=None)
if TRUSTED_PROXY_COUNT is not None and TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "BackFuture"
# TOTP secrets and recovery-code seeds are encrypted with FIELD_ENCRYPTION_KEYS.
MFA_ADAPTER = "backfuture.users.mfa.MFAAdapter"
# Staff may not switch TOTP off while they are staff (the admin requires it).
MFA_FORMS = {"deactivate_totp": "backfuture.users.forms.DeactivateTOTPForm"}
# A new password must differ from the current one (a support user's one-time password).
ACCOUNT_FORMS = {
    "change_password": "backfuture.users.forms.ChangePasswordForm",
    "reset_password_from_key": "backfuture.users.forms.ResetPasswordKeyForm",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"

# --- Email ---------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BackFuture <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds an SMTP connection may block; mail is sent by a task that retries (backfuture/mail.py).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    raise ImproperlyConfigured("Production settings need EMAIL_URL (see .env.example).")

# --- Cache (allauth's rate limits, the exchange request budget, the dashboard) -------------
# Values are signed JSON, never pickle; an unreachable cache raises CacheUnavailable
# (backfuture/cache.py, docs/security.md).
REDIS_URL = env.str("REDIS_URL", default="")
# Seconds to connect to and wait for the cache's Redis, so an outage answers fast.
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=1.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "backfuture.cache.SignedRedisCache",
            "LOCATION": env.str("REDIS_CACHE_URL", default=REDIS_URL),
            "OPTIONS": {
                "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
                "socket_timeout": CACHE_SOCKET_TIMEOUT,
            },
        }
    }
else:
    # Shared by the web process and the worker through the database; no server needed.
    CACHES = {
        "default": {
            "BACKEND": "backfuture.cache.SignedDatabaseCache",
            "LOCATION": "backfuture_cache",
        }
    }

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The 26 languages of the product's public site (../shared/docs/product.md §4), each named in
# itself: that is how the switcher lists them, whatever language the page is in. Two codes
# differ from the site's: Norwegian is "nb" (Bokmål, the written standard the site's "no" pages
# use; Django and allauth translate "nb", not "no"), and Serbian is "sr-latn": the site writes
# Serbian in Latin script ("dokup"), while Django's "sr" means Cyrillic (docs/i18n.md).
LANGUAGES = [
    ("ar", "العربية"),
    ("bg", "Български"),
    ("cs", "Čeština"),
    ("da", "Dansk"),
    ("de", "Deutsch"),
    ("el", "Ελληνικά"),
    ("en", "English"),
    ("es", "Español"),
    ("et", "Eesti"),
    ("fi", "Suomi"),
    ("fr", "Français"),
    ("hr", "Hrvatski"),
    ("hu", "Magyar"),
    ("it", "Italiano"),
    ("lt", "Lietuvių"),
    ("lv", "Latviešu"),
    ("nb", "Norsk"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ro", "Română"),
    ("sk", "Slovenčina"),
    ("sl", "Slovenščina"),
    ("sr-latn", "Srpski"),
    ("sv", "Svenska"),
    ("tr", "Türkçe"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "backfuture_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders in development and tests; production serves collected files.
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# htmx reads no cookie: the token travels in hx-headers on <body>.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Celery --------------------------------------------------------------------------------
# With no REDIS_URL the broker is kombu's filesystem transport under var/, so the web process
# and a worker on the same machine talk without any server.
# "localhost" only silences kombu's "No hostname was supplied" warning; the transport ignores it.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost/"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    # Kombu's Redis transport rotates between a worker's queues; "priority" asks them in the
    # worker's order every time, so a test a person started (queue "tests", backfuture/celery.py)
    # is taken before any queued re-check. The filesystem transport always rotates.
    {"queue_order_strategy": "priority"}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "store_processed": False,
        # kombu's default is ./control, relative to the working directory (the checkout).
        "control_folder": str(VAR_DIR / "broker-control"),
    }
)
_BROKER_FOLDERS = ("broker", "broker-processed", "broker-control")
if not REDIS_URL or DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default keeps its database and broker queue here.
    for folder in (VAR_DIR, *(VAR_DIR / name for name in _BROKER_FOLDERS)):
        folder.mkdir(parents=True, exist_ok=True)
# The worker's pool (the Procfile passes the same variable as --pool). A connection test
# mostly waits on the exchange: one process with 32 threads keeps up with every exchange's
# re-check rate at real latencies in about 130 MB, where 32 prefork processes take 3 GB and
# fall behind on 2 cores (docs/performance.md, fleet benchmark). Threads get no soft or hard
# time limits: the test's own budget (EXCHANGE_TEST_BUDGET) bounds every call, and the
# reaper fails a test whose worker is gone.
CELERY_WORKER_POOL = env.str("CELERY_WORKER_POOL", default="threads")
CELERY_WORKER_CONCURRENCY = env.int(
    "CELERY_WORKER_CONCURRENCY", default=32 if CELERY_WORKER_POOL == "threads" else 8
)
# Keep a worker's database connections across tasks (CONN_MAX_AGE and CONN_HEALTH_CHECKS
# decide, as for web requests; backfuture/celery.py) instead of Celery closing them around
# every task, which reconnects for every test: about a quarter less PostgreSQL CPU per test,
# at most one connection per pool thread either way.
WORKER_DATABASE_REUSE = env.bool("WORKER_DATABASE_REUSE", default=True)
# Celery's own switch: closes only every this many tasks, so in effect never; None: always.
CELERY_DB_REUSE_MAX = 1_000_000_000 if WORKER_DATABASE_REUSE else None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# In development the console email backend may print from the worker: show the mail as it is,
# not as one WARNING log line per line of text.
CELERY_WORKER_REDIRECT_STDOUTS = not DEBUG

# --- Exchanges -----------------------------------------------------------------------------
# Base URLs per exchange API, e.g. "mexc=https://api.mexc.com,kucoin=https://api.kucoin.com";
# unset keys use the exchange's documented default.
EXCHANGE_URLS = env.dict("EXCHANGE_URLS", default={})
# The public IPs our workers call exchanges from, shown to users for their key's IP whitelist.
EXCHANGE_EGRESS_IPS = env.list("EXCHANGE_EGRESS_IPS", default=[])
# The demo exchange: a paper account that calls no network. Clearly labelled everywhere.
DEMO_EXCHANGE_ENABLED = env.bool("DEMO_EXCHANGE_ENABLED", default=DEBUG)
EXCHANGE_CONNECT_TIMEOUT = env.float("EXCHANGE_CONNECT_TIMEOUT", default=3.05)
EXCHANGE_READ_TIMEOUT = env.float("EXCHANGE_READ_TIMEOUT", default=10.0)
# The whole connection test must fit in this many seconds (below the task's soft time limit).
EXCHANGE_TEST_BUDGET = env.float("EXCHANGE_TEST_BUDGET", default=25.0)

# --- Connection tests ----------------------------------------------------------------------
# Seconds between two tests of one connection that a person starts (protects the exchange).
CONNECTION_TEST_COOLDOWN = env.int("CONNECTION_TEST_COOLDOWN", default=5)
# Retries of a test that hit a temporary exchange error, and the first backoff in seconds.
CONNECTION_TEST_RETRIES = env.int("CONNECTION_TEST_RETRIES", default=3)
CONNECTION_TEST_RETRY_BASE = env.float("CONNECTION_TEST_RETRY_BASE", default=2.0)
# Soft and hard time limits of one test attempt, in seconds (the budget above fits inside).
CONNECTION_TEST_SOFT_TIME_LIMIT = env.int("CONNECTION_TEST_SOFT_TIME_LIMIT", default=40)
CONNECTION_TEST_TIME_LIMIT = env.int("CONNECTION_TEST_TIME_LIMIT", default=50)
# A test's reaper deadline follows from the time limits above (connections/services.py,
# `check_deadline`): a running attempt gets the hard limit plus this grace in seconds...
CONNECTION_TEST_REAP_GRACE = env.int("CONNECTION_TEST_REAP_GRACE", default=10)
# ...and a queued test or a due retry may first wait this many seconds for a free worker.
CONNECTION_TEST_QUEUE_WAIT = env.int("CONNECTION_TEST_QUEUE_WAIT", default=60)
# How often beat runs the reaper, in seconds.
CONNECTION_REAPER_INTERVAL = env.int("CONNECTION_REAPER_INTERVAL", default=15)
# Online connections are re-tested when their last test is older than this (seconds).
CONNECTION_RECHECK_INTERVAL = env.int("CONNECTION_RECHECK_INTERVAL", default=1800)
# How often the re-check scheduler runs, in seconds; its work is spread over this period.
CONNECTION_RECHECK_SCHEDULE_PERIOD = env.int("CONNECTION_RECHECK_SCHEDULE_PERIOD", default=60)
# Re-checks the scheduler starts per database transaction (one commit per batch, not per test).
CONNECTION_RECHECK_BATCH = env.int("CONNECTION_RECHECK_BATCH", default=200)
# Share of an exchange's documented rate limit that re-checks may use (the rest is for users).
CONNECTION_RECHECK_RATE_SHARE = env.float("CONNECTION_RECHECK_RATE_SHARE", default=0.9)
# Upper bound on re-check tests per second per exchange, whatever the exchange allows.
CONNECTION_RECHECK_MAX_RATE = env.float("CONNECTION_RECHECK_MAX_RATE", default=50.0)
# Connection tests of all workers share each exchange's documented request budget (issue 11,
# connections/throttle.py). Seconds a test may wait for a slot before going back to the queue:
CONNECTION_THROTTLE_MAX_WAIT = env.float("CONNECTION_THROTTLE_MAX_WAIT", default=2.0)
# Share of each documented limit left unused, for jitter between a slot and the call's arrival.
CONNECTION_THROTTLE_HEADROOM = env.float("CONNECTION_THROTTLE_HEADROOM", default=0.05)
# Per-exchange factor on the documented limits, e.g. "kucoin=2" for a higher VIP tier.
CONNECTION_RATE_LIMIT_SCALE = {
    slug: float(factor)
    for slug, factor in env.dict("CONNECTION_RATE_LIMIT_SCALE", default={}).items()
}
# Outages (docs/architecture.md, "Outages and key expiry"). A re-check that cannot reach the
# exchange keeps an Online connection usable for this many seconds before it fails: a weekly
# maintenance or a short network hiccup should not stop a strategy or wake its owner.
CONNECTION_OUTAGE_GRACE = env.int("CONNECTION_OUTAGE_GRACE", default=1800)
# Backoff between re-checks of a connection that could not reach its exchange: the first wait
# in seconds, doubling up to the maximum (also how often a temporarily failed one is retried).
CONNECTION_UNREACHABLE_BACKOFF = env.int("CONNECTION_UNREACHABLE_BACKOFF", default=60)
CONNECTION_UNREACHABLE_BACKOFF_MAX = env.int("CONNECTION_UNREACHABLE_BACKOFF_MAX", default=600)
# An exchange is in an incident when, among its connections checked in the last
# EXCHANGE_INCIDENT_WINDOW seconds, at least EXCHANGE_INCIDENT_MIN_CONNECTIONS and at least
# EXCHANGE_INCIDENT_FAILURE_SHARE of them could not reach it (reasons in the docs).
EXCHANGE_INCIDENT_WINDOW = env.int("EXCHANGE_INCIDENT_WINDOW", default=300)
EXCHANGE_INCIDENT_MIN_CONNECTIONS = env.int("EXCHANGE_INCIDENT_MIN_CONNECTIONS", default=5)
EXCHANGE_INCIDENT_FAILURE_SHARE = env.float("EXCHANGE_INCIDENT_FAILURE_SHARE", default=0.5)
# During an incident: re-checks of the exchange slow to this many probes per scheduler run...
EXCHANGE_INCIDENT_PROBES = env.int("EXCHANGE_INCIDENT_PROBES", default=2)
# ...and it ends when this many checks in a row were answered by the exchange.
EXCHANGE_INCIDENT_END_PASSES = env.int("EXCHANGE_INCIDENT_END_PASSES", default=2)
# How often beat looks for keys that expire soon (reminders 14, 3 and 1 days before), seconds.
KEY_EXPIRY_CHECK_INTERVAL = env.int("KEY_EXPIRY_CHECK_INTERVAL", default=3600)
# The public address of the site, for links in emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The product's name in emails (subject prefix, greeting, signature) instead of the host name.
SITE_NAME = env.str("SITE_NAME", default="BackFuture")

CELERY_BEAT_SCHEDULE = {
    "schedule-rechecks": {
        "task": "connections.tasks.connections_schedule_rechecks",
        "schedule": float(CONNECTION_RECHECK_SCHEDULE_PERIOD),
    },
    "reap-stale-tests": {
        "task": "connections.tasks.connections_reap_stale_tests",
        "schedule": float(CONNECTION_REAPER_INTERVAL),
    },
    "key-expiry": {
        "task": "connections.tasks.connections_key_expiry",
        "schedule": float(KEY_EXPIRY_CHECK_INTERVAL),
    },
}

# --- Strategies: the enable gate and the exchanges' symbol lists (issue 6) ------------------
# A strategy may be enabled only while its connection's last test is at most this old (seconds).
STRATEGY_GATE_MAX_TEST_AGE = env.int("STRATEGY_GATE_MAX_TEST_AGE", default=24 * 3600)
# How often the exchanges' public lists of API-tradable pairs are refreshed (seconds).
SYMBOL_LIST_REFRESH_INTERVAL = env.int("SYMBOL_LIST_REFRESH_INTERVAL", default=6 * 3600)
CELERY_BEAT_SCHEDULE["refresh-symbol-lists"] = {
    "task": "strategies.tasks.refresh_symbol_lists",
    "schedule": float(SYMBOL_LIST_REFRESH_INTERVAL),
}

# --- Logging -------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # urllib3 logs full request lines at DEBUG; keep it quiet so query strings never reach
        # the logs even when LOG_LEVEL=DEBUG.
        "urllib3": {"level": "WARNING"},
    },
}
