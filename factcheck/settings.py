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
from django.utils.csp import CSP

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
    # The project's own commands; first, so its `runserver` (which holds the
    # embedded server in the autoreloader) replaces staticfiles'.
    "factcheck",
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
    # Failed logins, counted per username and address (factcheck.login_throttle).
    "axes",
    "sources",
    "claims",
]

# `Server-Timing: app;dur=…` on every answer (factcheck.server_timing), outermost so
# that it times the whole stack; `make bench` turns it on to read verdicts' server time.
SERVER_TIMING = env_bool("SERVER_TIMING")

MIDDLEWARE = [
    *(["factcheck.server_timing.ServerTimingMiddleware"] if SERVER_TIMING else []),
    "django.middleware.security.SecurityMiddleware",
    # Signs the checkpoint and sends the CDN's purges that a request's ledger writes
    # call for after its answer has gone out (claims.ledger.after_response): the
    # editor waits for neither.
    "claims.ledger.after_response.AfterResponseMiddleware",
    # s-maxage and surrogate keys on public answers, `private` on personal ones
    # (claims.cdn); outside the anonymous 304 shortcut, whose 304s it marks too.
    "claims.cdn.SharedCacheMiddleware",
    # 400/413 for what no view should see: NUL in the path or query string, too many
    # parameters, a body over DATA_UPLOAD_MAX_MEMORY_SIZE (factcheck.bad_input).
    "factcheck.bad_input.BadInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 503 with Retry-After while the database is unreachable (factcheck.outage);
    # outside everything that may query it.
    "factcheck.outage.DatabaseOutageMiddleware",
    # Which database the request reads: a replica or the primary (factcheck.db.read_routing;
    # nothing to do without DATABASE_REPLICA_URLS). Before the 304 below, whose change
    # stamp must be read where the page would be built from.
    "factcheck.db.read_routing.ReadRoutingMiddleware",
    # Anonymous pages and API reads from the shared cache (claims.page_cache): inside
    # the CDN's directives, which a cached answer gets afresh, and outside everything
    # that renders, so it stores what the view and the inner middlewares produced.
    "claims.page_cache.PageCacheMiddleware",
    # 304 for an anonymous conditional GET of an unchanged page or API resource, from
    # its validators alone, before sessions, CSRF and authentication (factcheck.conditional).
    "factcheck.conditional.AnonymousNotModifiedMiddleware",
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
    # Content-Security-Policy (SECURE_CSP), and none on a 304 (factcheck.security).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "factcheck.security.CSPNotModifiedMiddleware",
    # Turns a locked-out login into the login page saying so (factcheck.login_throttle);
    # outside AtomicWritesMiddleware, so the failure it reports is committed.
    "axes.middleware.AxesMiddleware",
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
                # `csp_nonce`, for the nonce of each inline <style> and <script>.
                "django.template.context_processors.csp",
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
    # Persistent connections, checked before each request's first query, so a
    # restarted server costs no request a dead connection (factcheck.outage).
    database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
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
            "CONN_HEALTH_CHECKS": True,
        }
    }


# Server-side prepared statements, for the few hot reads that ask for them
# (factcheck.db.prepared: the API claim detail, whose planning cost more than
# running it; the reader pages' change stamp). Django's own queries bind
# on the client and never prepare. Off (false) behind a pooler that cannot keep
# them (PgBouncer before 1.21, or without max_prepared_statements).
if env_bool("DATABASE_PREPARED_STATEMENTS", "true"):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

# Read replicas (factcheck.db.read_routing has the routing rules): streaming
# standbys of the primary, same database, as the app's role; aliases replica1,
# replica2, ... Their engine is the project's backend without the embedded
# server's start-up, which would point them back at the embedded primary.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
# A replica further behind than this is left out, checked at most this often per process.
DATABASE_REPLICA_MAX_LAG_SECONDS = float(env("DATABASE_REPLICA_MAX_LAG_SECONDS", "10"))
DATABASE_REPLICA_CHECK_SECONDS = float(env("DATABASE_REPLICA_CHECK_SECONDS", "5"))
# How long a client that wrote reads only from replicas that replayed its write;
# must exceed the two above together.
READ_YOUR_WRITES_SECONDS = int(env("READ_YOUR_WRITES_SECONDS", "60"))


def _replica_database(url: str, default: dict[str, Any]) -> dict[str, Any]:
    replica = _database_from_url(url, "DATABASE_REPLICA_URLS")
    if replica["NAME"] != default["NAME"]:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS must name the primary's database ({default['NAME']!r}); "
            f"{url.split('@')[-1]!r} names {replica['NAME']!r}."
        )
    # The primary's options (prepared statements), and a bound on connecting: an
    # unreachable replica must cost its health check seconds, not a hung worker.
    replica["OPTIONS"] = {
        "connect_timeout": 3,
        **default.get("OPTIONS", {}),
        **replica.get("OPTIONS", {}),
    }
    # The test run's database reaches the replicas by replication: none to create.
    replica["TEST"] = {"MIRROR": "default"}
    return replica


DATABASES.update(
    (f"replica{number}", _replica_database(url, DATABASES["default"]))
    for number, url in enumerate(DATABASE_REPLICA_URLS, start=1)
)
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["factcheck.db.routers.ReplicaRouter"] if DATABASE_REPLICAS else []


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


def env_int(name: str, default: int) -> int:
    value = env(name).strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


# HTTPS. With DEBUG off each is on unless the environment turns it off; with
# DEBUG on, off. A year of HSTS for the host and its subdomains, with consent
# to browsers' preload lists: start lower (SECURE_HSTS_SECONDS=3600) the first
# time a domain is served over HTTPS. SECURE_PROXY_SSL_HEADER names the header
# by which the TLS-terminating proxy says a request came over HTTPS (e.g.
# X-Forwarded-Proto); set it only when the proxy sets that header and strips
# it from what clients send.
_ON_UNLESS_DEBUG = str(not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _ON_UNLESS_DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _ON_UNLESS_DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _ON_UNLESS_DEBUG)
_proxy_ssl_header = env("SECURE_PROXY_SSL_HEADER").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
# How many proxies in front append the client's address to X-Forwarded-For;
# 0: the connecting address is the client's (factcheck.security.client_ip).
PROXY_COUNT = env_int("PROXY_COUNT", 0)

# Content-Security-Policy on every page: only this site's own scripts, styles,
# fonts, images and connections; an inline <script> or <style> runs only with
# the response's nonce (`nonce="{{ csp_nonce }}"` in templates); no plugins,
# no <base> elsewhere, forms post only here, and no framing (as X-Frame-Options).
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Failed admin logins (django-axes; factcheck.login_throttle): after
# LOGIN_FAILURE_LIMIT failures of one username from one address, that username
# cannot log in from that address until LOGIN_COOLOFF_MINUTES pass without a try.
AUTHENTICATION_BACKENDS = [
    "factcheck.login_throttle.LoginLockoutBackend",
    # Django's, reading permissions in one query (factcheck.permissions).
    "factcheck.permissions.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be 1 or more.")
AXES_COOLOFF_TIME = LOGIN_COOLOFF_MINUTES / 60  # hours, as a float
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "factcheck.security.client_ip"
AXES_LOCKOUT_CALLABLE = "factcheck.login_throttle.lockout_response"
# Attempts are listed and lockouts lifted by its commands (axes_list_attempts,
# axes_reset_username), not in the admin.
AXES_ENABLE_ADMIN = False

# Failed API tokens (claims.api.authentication): after TOKEN_FAILURE_LIMIT wrong
# tokens from one address within TOKEN_FAILURE_WINDOW seconds, its requests with
# a token get 429 until the window ends. Counted in the cache (REDIS_URL shares it).
TOKEN_FAILURE_LIMIT = env_int("TOKEN_FAILURE_LIMIT", 10)
TOKEN_FAILURE_WINDOW = env_int("TOKEN_FAILURE_WINDOW", 600)

# Readers' tips (claims.site_pages): after TIP_RATE_LIMIT tips from one address within
# TIP_RATE_WINDOW seconds of the first, more get 429 until the window ends; 0: no
# limit. Counted in the cache under a keyed hash of the address, never in the database.
TIP_RATE_LIMIT = env_int("TIP_RATE_LIMIT", 5)
TIP_RATE_WINDOW = env_int("TIP_RATE_WINDOW", 3600)
if TIP_RATE_LIMIT < 0 or TIP_RATE_WINDOW < 1:
    raise ImproperlyConfigured("TIP_RATE_LIMIT must be 0 or more, TIP_RATE_WINDOW 1 or more.")
# A reader's email address, given to hear back about a tip, is erased once the tip is
# this many days old (`manage.py forget_tip_emails`, run daily): the suggest form
# promises it.
TIP_EMAIL_RETENTION_DAYS = env_int("TIP_EMAIL_RETENTION_DAYS", 90)
if TIP_EMAIL_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("TIP_EMAIL_RETENTION_DAYS must be 1 or more.")

# The public address of the site, for canonical URLs, feeds, sitemaps and
# ClaimReview markup, and the organisation that publishes the verdicts. Set in
# production: it is authoritative, whatever Host a request names. Unset (development),
# links name the server answering each request, and code without a request
# (management commands) uses DEFAULT_SITE_URL (claims.claimreview.site_root).
SITE_URL = env("SITE_URL")
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
PUBLISHER_NAME = env("PUBLISHER_NAME", "Fact-check ledger")
PUBLISHER_URL = env("PUBLISHER_URL", SITE_URL)

# Mail: the desk's replies to readers who left an address with a tip (claims.tips),
# through Django's MAILERS. In development the messages are printed on the console;
# otherwise SMTP, configured from the environment.
if env_bool("EMAIL_TO_CONSOLE", "true" if DEBUG else "false"):
    MAILERS: dict[str, dict[str, object]] = {
        "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EMAIL_HOST", "localhost"),
                "port": int(env("EMAIL_PORT", "25")),
                "username": env("EMAIL_HOST_USER"),
                "password": env("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", "false"),
                "timeout": 10,
            },
        }
    }
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "desk@localhost")

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
# Never taken from a request: without SITE_URL, DEFAULT_SITE_URL's host ("127.0.0.1:8000/ledger").
LEDGER_ORIGIN = env("LEDGER_ORIGIN", urlsplit(SITE_URL or DEFAULT_SITE_URL).netloc + "/ledger")

# The desk's rules and its dashboard (the admin index). A verdict (a status that
# is not a workflow state) must cite at least one evidence source unless this is
# off (claims.services.record_review): on for new installs, off in the demo
# (`make run`), whose seeded claims cite nothing yet. A claim still open with no
# ledger entry for more than DESK_STALE_DAYS days is stale (claims.dashboard).
REQUIRE_VERDICT_EVIDENCE = env_bool("REQUIRE_VERDICT_EVIDENCE", "true")
# Second-editor sign-off (claims.sign_off): with it on, a verdict is proposed by one
# editor and written to the ledger only when another approves it. Off by default: a
# desk of one editor could never publish a verdict. Any editor may ask for a second
# opinion either way.
VERDICT_SIGN_OFF = env_bool("VERDICT_SIGN_OFF", "false")
DESK_STALE_DAYS = env_int("DESK_STALE_DAYS", 7)
if DESK_STALE_DAYS < 1:
    raise ImproperlyConfigured("DESK_STALE_DAYS must be 1 or more.")

# Webhooks (claims/webhooks, docs/webhooks.md): the worker `manage.py deliver_webhooks`
# POSTs each event with this timeout (connecting, and each read), retries a failure
# after WEBHOOK_BACKOFF_BASE_SECONDS doubled at each attempt (capped at
# WEBHOOK_BACKOFF_MAX_SECONDS, with jitter) until WEBHOOK_MAX_ATTEMPTS, and looks
# at the ledger again every WEBHOOK_POLL_SECONDS when it has nothing to do.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10)
WEBHOOK_BACKOFF_BASE_SECONDS = env_int("WEBHOOK_BACKOFF_BASE_SECONDS", 30)
WEBHOOK_BACKOFF_MAX_SECONDS = env_int("WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)
WEBHOOK_POLL_SECONDS = env_int("WEBHOOK_POLL_SECONDS", 2)
if min(WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_POLL_SECONDS) < 1:
    raise ImproperlyConfigured(
        "WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_MAX_ATTEMPTS and WEBHOOK_POLL_SECONDS must be 1 or more."
    )
if WEBHOOK_BACKOFF_BASE_SECONDS < 0 or WEBHOOK_BACKOFF_MAX_SECONDS < WEBHOOK_BACKOFF_BASE_SECONDS:
    raise ImproperlyConfigured(
        "WEBHOOK_BACKOFF_BASE_SECONDS must be 0 or more, and WEBHOOK_BACKOFF_MAX_SECONDS no less."
    )

# A CDN or any shared cache in front (claims.cdn). Anonymous answers that may be kept
# say so with s-maxage (CDN_SHARED_MAX_AGE seconds; an hour by default when purges
# are sent, a minute otherwise) and stale-while-revalidate, and name what they show
# in Surrogate-Key / Cache-Tag; a ledger write purges exactly those keys by POSTing
# them to CDN_PURGE_URL (unset: none sent), with CDN_PURGE_TOKEN as a bearer token.
CDN_PURGE_URL = env("CDN_PURGE_URL")
CDN_PURGE_TOKEN = env("CDN_PURGE_TOKEN")
CDN_PURGE_TIMEOUT_SECONDS = float(env("CDN_PURGE_TIMEOUT_SECONDS", "5"))
CDN_SHARED_MAX_AGE = env_int("CDN_SHARED_MAX_AGE", 3600 if CDN_PURGE_URL else 60)
CDN_STALE_WHILE_REVALIDATE = env_int("CDN_STALE_WHILE_REVALIDATE", 30)
# While the app is down, a cache may keep answering with what it has this long.
CDN_STALE_IF_ERROR = env_int("CDN_STALE_IF_ERROR", 86400)

# Redis, when REDIS_URL is set, is shared by every process: the API's throttling
# counters (claims.api.throttles, atomic) and the failed-token counters in "default",
# the page cache in "pages". Without it each process keeps its own, in memory (fine
# for one server), the pages apart so that they never push the counters out.
REDIS_URL = env("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}
# Anonymous reader pages and API reads, kept in the "pages" cache this many seconds
# (claims.page_cache), and dropped as soon as a ledger write changes what they show;
# 0 turns the page cache off. Off by default without REDIS_URL: each process's memory
# is invalidated by that process's writes only, so with several workers another's
# page could show a withdrawn verdict (set it for a single process).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300 if REDIS_URL else 0)


def _throttle_rate(name: str, default: str) -> str | None:
    """A DRF rate ("120/minute"), or None for `off`: no counting at all. (DRF keeps one
    timestamp per request of the window, so a huge rate costs each request a huge list.)"""
    value = env(name, default).strip()
    return None if value.lower() == "off" else value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # TokenAuthentication, with failed tokens throttled per address.
        "claims.api.authentication.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["claims.api.permissions.ReadAnyoneWriteWithModelPerms"],
    "DEFAULT_PAGINATION_CLASS": "claims.api.common.LedgerCursorPagination",
    # django-filter's, skipped for a request that names no filter (claims.api.filters).
    "DEFAULT_FILTER_BACKENDS": ["claims.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's two, the browsable API under its own Content-Security-Policy (factcheck.security).
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "factcheck.security.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "claims.api.common.api_exception_handler",
    # JSON with Django's size limits and a nesting limit (factcheck.bad_input); forms
    # for the browsable API.
    "DEFAULT_PARSER_CLASSES": [
        "factcheck.bad_input.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # DRF's rates, counted atomically in the cache (claims.api.throttles): with
    # REDIS_URL, every process counts against the same budget, none uncounted.
    "DEFAULT_THROTTLE_CLASSES": [
        "claims.api.throttles.AtomicAnonRateThrottle",
        "claims.api.throttles.AtomicUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": _throttle_rate("API_ANON_RATE", "120/minute"),
        "user": _throttle_rate("API_USER_RATE", "1200/minute"),
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
        "MediaTypeEnum": "claims.models.MediaType",
        "QuantityQualifierEnum": "claims.quantities.QuantityQualifier",
        "RelayEnum": "claims.models.Relay",
        "LanguageEnum": "claims.languages.Language",
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
