"""Settings for Guanxi. Everything comes from the environment (12-factor).

Environment variables:
  GUANXI_DATA_DIR       where the embedded SQLite database lives (default ./var)
  DATABASE_URL          use this database instead (postgresql://user@host:5432/db)
  GUANXI_SECRET_KEY     required in production
  GUANXI_PRODUCTION     "1" turns on secure cookies, HSTS, SSL redirect and DEBUG off
  GUANXI_DEBUG          "1" for development error pages (never with GUANXI_PRODUCTION)
  GUANXI_ALLOWED_HOSTS  comma-separated host names (default localhost,127.0.0.1)
  GUANXI_EMAIL_URL      outgoing mail: smtp://host:port, smtp+tls://user:pass@host:587 (unset: console)
  GUANXI_EMAIL_FROM     the sender of outgoing mail (default "Guanxi <noreply@localhost>")
  GUANXI_REDIS_URL      background-job queue and shared cache on Redis (else SQLite / file cache)
"""

import importlib.util
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from guanxi.core.mailurl import email_settings

BASE_DIR = Path(__file__).resolve().parent.parent  # the guanxi package
# django-ninja's bundled Swagger UI (templates and static files, no CDN) for /api/v1/docs, found
# without importing the package: listed as an app, ninja (and pydantic) would be imported by every
# command at start-up (a third of a second) when only the web server's URLs need them
NINJA_DIR = Path(importlib.util.find_spec("ninja").origin).parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = env_flag("GUANXI_PRODUCTION")
DEBUG = env_flag("GUANXI_DEBUG") and not PRODUCTION

DATA_DIR = Path(os.environ.get("GUANXI_DATA_DIR") or Path.cwd() / "var").resolve()

SECRET_KEY = os.environ.get("GUANXI_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("GUANXI_SECRET_KEY must be set when GUANXI_PRODUCTION=1")
    SECRET_KEY = "insecure-development-key-only-for-local-use-do-not-deploy-0123456789"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("GUANXI_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(",")
    if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("GUANXI_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "axes",
    "guanxi.core",
    "guanxi.org",
    "guanxi.customers",
    "guanxi.sales",
    "guanxi.analytics",
    "guanxi.imports",
    "guanxi.service",
    "guanxi.engagement",
    "guanxi.today",
    "guanxi.demo",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanxi.config.urls"
WSGI_APPLICATION = "guanxi.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", NINJA_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "guanxi.core.context.navigation",
            ],
        },
    }
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "guanxi.sqlite3",
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
                # BEGIN so two writers queue instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; "
                    "PRAGMA temp_store=MEMORY;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today:index"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): 5 failures for a username from one address locks it for 15 min.
AXES_FAILURE_LIMIT = int(os.environ.get("GUANXI_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["guanxi.formats"]  # zh-Hans numbers grouped 1,234,567
TIME_ZONE = os.environ.get("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# vendored htmx/Bootstrap/icons and guanxi/ css+js; ninja/ (Swagger UI)
STATICFILES_DIRS = [BASE_DIR / "static", NINJA_DIR / "static"]
try:  # the data directory holds the database, collected static files and uploads
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = DATA_DIR / "media"

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
SIMPLE_HISTORY_REVERT_DISABLED = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 60 * 60 * 12
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("GUANXI_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("GUANXI_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# GUANXI_EMAIL_URL (smtp://…, smtp+tls://user:pass@host:587, smtp+ssl://…): SMTP; unset: console
try:
    _email = email_settings(os.environ.get("GUANXI_EMAIL_URL", ""))
except ValueError as e:
    raise ImproperlyConfigured(str(e)) from None
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
if EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    EMAIL_TIMEOUT = _email["EMAIL_TIMEOUT"]
DEFAULT_FROM_EMAIL = os.environ.get("GUANXI_EMAIL_FROM", "Guanxi <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
GUANXI_BASE_URL = os.environ.get("GUANXI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# shared by every worker: Redis when configured, else a file cache on this machine
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": DATA_DIR / "cache",
    }
}
if os.environ.get("GUANXI_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["GUANXI_REDIS_URL"],
    }
# Background jobs (imports, analytics runs, the nightly schedule): huey. Its SQLite storage in the
# data directory by default; Redis when GUANXI_REDIS_URL is set, so several stateless web processes
# and several workers share one queue. GUANXI_HUEY_IMMEDIATE=1 (the test suite) runs jobs inline.
import sys as _sys  # noqa: E402

HUEY_IMMEDIATE = env_flag("GUANXI_HUEY_IMMEDIATE", default="pytest" in _sys.modules)
if os.environ.get("GUANXI_REDIS_URL") and not HUEY_IMMEDIATE:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "guanxi",
        "url": os.environ["GUANXI_REDIS_URL"],
        "immediate": False,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "guanxi",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

GUANXI_TRUSTED_PROXIES = int(os.environ.get("GUANXI_TRUSTED_PROXIES", "0") or 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANXI_LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_PER_PAGE = 50
