"""Settings for the fact-check ledger, read from the environment.

Every variable is listed in `.env.example` with its development default.
With DATABASE_URL unset the project runs on an embedded PostgreSQL server
(see factcheck/db/embedded.py); it never runs on SQLite.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: str = "False") -> bool:
    value = env(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", "False")

# A development key is acceptable only while DEBUG is on; production must set one.
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off (set DEBUG=true for local development)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sources",
    "claims",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag (a hash of the body) and 304 for responses that don't set their own.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Attaches the user and URL of each request to the edit history it causes.
    "pghistory.middleware.HistoryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so that its transaction covers the view and the rendering of
    # its response: a write is never committed behind a failed answer.
    "factcheck.middleware.AtomicWritesMiddleware",
]

ROOT_URLCONF = "factcheck.urls"

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
                "factcheck.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "factcheck.wsgi.application"

# PostgreSQL only. DATABASE_URL selects any server; without it the embedded
# server keeps its data in EMBEDDED_PGDATA (an ignored folder of the project).
# A relative EMBEDDED_PGDATA is relative to the project, not to the current directory.
#
# Two roles (factcheck/db/roles.py): the app connects as one that can read the
# ledger and append to it, nothing more; `migrate` connects as the owner of the
# tables (DATABASE_OWNER_URL, the same database as another role). The embedded
# server creates both.
EMBEDDED_PGDATA = BASE_DIR / env("EMBEDDED_PGDATA", ".pgdata")
EMBEDDED_DATABASE_NAME = env("EMBEDDED_DATABASE_NAME", "factcheck")
DATABASE_URL = env("DATABASE_URL")
DATABASE_OWNER_URL = env("DATABASE_OWNER_URL")
DATABASE_ENGINE = "factcheck.db.postgresql"


def _database_from_url(url: str, variable: str) -> dict[str, Any]:
    database = dj_database_url.parse(url, conn_max_age=60)
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{variable} must point at PostgreSQL (postgresql://...); this project runs on nothing else."
        )
    return {**database, "ENGINE": DATABASE_ENGINE}


DATABASES: dict[str, dict[str, Any]]
if DATABASE_URL:
    DATABASES = {"default": _database_from_url(DATABASE_URL, "DATABASE_URL")}
    if DATABASE_OWNER_URL:
        _owner = _database_from_url(DATABASE_OWNER_URL, "DATABASE_OWNER_URL")
        if _owner["NAME"] != DATABASES["default"]["NAME"]:
            raise ImproperlyConfigured(
                "DATABASE_OWNER_URL must name the same database as DATABASE_URL "
                f"({DATABASES['default']['NAME']!r}), as another role; it names {_owner['NAME']!r}."
            )
        DATABASES["default"]["OWNER"] = {
            key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")
        }
elif DATABASE_OWNER_URL:
    raise ImproperlyConfigured("DATABASE_OWNER_URL needs DATABASE_URL (the app's own role).")
else:
    DATABASES = {
        "default": {
            "ENGINE": "factcheck.db.embedded",
            "NAME": EMBEDDED_DATABASE_NAME,
            "USER": "factcheck_app",
            "OWNER": {"USER": "factcheck_owner"},
            "CONN_MAX_AGE": 60,
        }
    }


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    if not DEBUG
    else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests and `make run` serve static files from the apps without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", "False" if DEBUG else "True")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# The public address of the site, for canonical URLs, feeds, sitemaps and
# ClaimReview markup, and the organisation that publishes the verdicts.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
PUBLISHER_NAME = env("PUBLISHER_NAME", "Fact-check ledger")
PUBLISHER_URL = env("PUBLISHER_URL", SITE_URL)

# The review ledger's signed checkpoints (claims/ledger/checkpoints.py): the
# Ed25519 key the database never holds (the key itself, or a file holding it:
# `make run` creates a development key in .ledger/), the log the checkpoints
# are appended to outside the database ("{database}" is replaced by the
# database's name), and the checkpoints' origin line (also the key's name).
LEDGER_SIGNING_KEY = env("LEDGER_SIGNING_KEY")
_key_file = env("LEDGER_SIGNING_KEY_FILE", ".ledger/signing-key" if DEBUG else "")
LEDGER_SIGNING_KEY_FILE = BASE_DIR / _key_file if _key_file else None
LEDGER_CHECKPOINT_LOG = BASE_DIR / env(
    "LEDGER_CHECKPOINT_LOG", ".ledger/checkpoints-{database}.jsonl"
)
LEDGER_ORIGIN = env("LEDGER_ORIGIN", urlsplit(SITE_URL).netloc + "/ledger")

# Redis, when REDIS_URL is set, shares the API's throttling counters between
# processes; without it each process counts alone (fine for one server).
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["claims.api.permissions.ReadAnyoneWriteWithModelPerms"],
    "DEFAULT_PAGINATION_CLASS": "claims.api.common.LedgerCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "claims.api.common.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Politeness, not security: the counters are a cache read-then-write.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_RATE", "120/minute"),
        "user": env("API_USER_RATE", "1200/minute"),
    },
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fact-check ledger API",
    "DESCRIPTION": (
        "Claims, quotes, sources, speakers and the append-only review ledger, as JSON and as "
        "schema.org ClaimReview. Anonymous clients read published material; contributors "
        "(token or session) write drafts; editors record verdicts and publish. Errors share "
        'one shape: {"error": {"status", "code", "message", "fields"}}.\n\n'
        "[The API guide](/api/guide/) explains each resource, the write rules, versions, "
        "ETags and If-Match, errors, pagination and throttling, with an example of every "
        "shape.\n\n"
        "The ledger is a transparency log: its entries, hash chain, Merkle tree, signed "
        "checkpoints, export and proofs are specified byte by byte, with a worked example, in "
        "[the ledger's format](/ledger/format/); [a standalone verifier](/ledger/verifier.py) "
        "(one Python file) checks the export and the proofs."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One named enum per choice set, whichever serializer uses it.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "claims.ratings.Status",
        "ReviewActionEnum": "claims.models.ReviewAction",
        "ClaimKindEnum": "claims.models.ClaimKind",
        "SpeakerKindEnum": "claims.models.SpeakerKind",
        "QuoteKindEnum": "claims.models.QuoteKind",
        "SourceKindEnum": "sources.models.SourceKind",
        "MediaAuthenticityEnum": "claims.models.MediaAuthenticity",
    },
}

# Where the seed articles and the structured seed file live.
SEEDS_DIR = BASE_DIR / "seeds"

# Demo accounts exist only for local development (`make run`).
DEMO_PASSWORD = env("DEMO_PASSWORD", "factcheck-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
