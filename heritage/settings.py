"""
Settings for the heritage-damage archive, configured from environment variables.

With nothing set it runs in development mode on an SQLite file in the project folder.
Every variable is listed in `.env.example`.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no), got {value!r}.")


def env_list(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list without empty items, got {value!r}.")
    return items


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None


DEBUG = env_bool("DEBUG", True)
# The environment's DEBUG, kept as it was read: pytest-django turns settings.DEBUG off while tests
# run, and development-only conveniences (the demo curator) must still exist there.
DEVELOPMENT = DEBUG

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-not-secret-heritage-archive"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    "archive",
]
if DEBUG:
    # N+1 query detection for the tests (tests/test_n_plus_one.py); it acts only inside zeal_context.
    INSTALLED_APPS.append("zeal")
    # Django looks content types up one at a time by design and caches them.
    ZEAL_ALLOWLIST = [{"model": "contenttypes.ContentType"}]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "archive.middleware.RefuseUnstorableCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "archive.busy.DatabaseBusyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "heritage.urls"

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

WSGI_APPLICATION = "heritage.wsgi.application"

# SQLite by default. WAL lets readers work while a curator writes; IMMEDIATE transactions take
# the write lock at BEGIN, so two concurrent writers wait (up to `timeout`) instead of failing
# with "database is locked" when one upgrades a read lock.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: a query over a large table passes jit_above_cost on its estimate and spends
        # 0.4-0.8 s compiling, while the archive's queries (index look-ups, LIMITed pages) run in
        # milliseconds; JIT pays only for long analytical scans, which the archive does not run.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    }

# Several test runs at once on one PostgreSQL server (developers' parallel work) each name their own.
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every worker (gunicorn's processes each had their own, so each computed the same
# figures again): Redis when REDIS_URL is set, else a table of the database. The whole-archive
# figures are kept apart, in a table whose entries never expire (archive.summaries). Both tables
# are made by `manage.py createcachetable` (make data, make serve; the test database gets them).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    DEFAULT_CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
else:
    DEFAULT_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "archive_cache"}
CACHES = {
    "default": DEFAULT_CACHE,
    "summaries": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "archive_summaries",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# Dates are typed as YYYY-MM-DD everywhere (heritage/formats/en_GB/formats.py).
FORMAT_MODULE_PATH = ["heritage.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here; whitenoise serves it when DEBUG is off.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
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

MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# `loaddata palmyra` finds the curated record here.
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

LOGIN_URL = "admin:login"

# Uploaded images: see archive.images for how they are checked.
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 15 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000)
# A source file (HTML page, PDF, text) uploaded in the admin or given to add_source: see archive.intake.
SOURCE_FILE_MAX_BYTES = env_int("SOURCE_FILE_MAX_BYTES", 20 * 1024 * 1024)
# Where readers report errors (the About and methodology page); none shown when empty.
ARCHIVE_CONTACT_EMAIL = os.environ.get("ARCHIVE_CONTACT_EMAIL", "")
# CSV imports larger than this are refused with one clear message.
CSV_IMPORT_MAX_BYTES = env_int("CSV_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(CSV_IMPORT_MAX_BYTES, 2_621_440)

# django-import-export: writes inside one transaction, so an import is all-or-nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Unset, these let every staff user import and export: importing needs "add" on the model,
# exporting "view" (publishing through an import is checked per row: archive.publish_incident).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# The import/export formats are named on the admin classes (archive.admin.mixins): settings
# import no app code.

# HTTPS: on by default in production. `HTTPS=false` is for a plain-HTTP `make serve` on one's own
# machine; behind a TLS-terminating proxy keep it on and set BEHIND_TLS_PROXY (README, Deployment).
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only behind a proxy that sets X-Forwarded-Proto itself (and strips the client's): otherwise a
# client could claim HTTPS. Opt-in for that reason.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# The public origins (https://archive.example.org) when the proxy does not pass the Host on.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Content Security Policy (django-csp): scripts only from the archive's own static files (the
# admin's included), nothing framed, no plugins, forms posted only here. Styles allow inline:
# the Django admin (before 6.0) and the archive's admin templates carry <style> blocks without a
# nonce, and the site plan and timeline set colours in style attributes; a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one user name from one address, that
# pair is locked out for AXES_COOLOFF_TIME hours (or until `manage.py axes_reset`, or deleting the
# attempt in the admin under Axes). Keyed on the pair so that nobody can lock a curator out from
# elsewhere by guessing at their name. A right password clears the count.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_COOLOFF_MESSAGE = (
    f"Too many failed logins for this account from your address: it is locked for "
    f"{AXES_COOLOFF_TIME} hour{'s' if AXES_COOLOFF_TIME != 1 else ''}. "
    "An administrator can lift the lockout sooner (Axes › Access attempts in the admin)."
)
AXES_PERMALOCK_MESSAGE = (
    "Too many failed logins for this account from your address: it is locked. "
    "An administrator can lift the lockout (Axes › Access attempts in the admin)."
)
if BEHIND_TLS_PROXY:
    # The client's address as the proxy reports it (X-Forwarded-For), not the proxy's own. With no
    # other proxy counted, a header the client forged itself ("forged, real") is not believed:
    # such a request is counted under the proxy's address instead.
    AXES_IPWARE_PROXY_ORDER = "right-most"
    AXES_IPWARE_PROXY_COUNT = 0
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
