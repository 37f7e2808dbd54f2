"""gunicorn's settings for the fact-check ledger (README, "Production").

    gunicorn -c factcheck/gunicorn.conf.py factcheck.wsgi

Every value can be changed from the environment (the names below) or on
the command line after `-c`, which wins. The app is served behind a
TLS-terminating proxy that buffers requests and responses (nginx, Caddy...),
so plain synchronous workers fit: a slow client occupies the proxy, not a
worker.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where the proxy reaches the app: loopback (or a Unix socket, `unix:/run/factcheck.sock`).
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Synchronous workers, each one request at a time: 2 x cores + 1 (gunicorn's own rule of
# thumb) keeps the cores busy while some workers wait on PostgreSQL. WEB_CONCURRENCY is the
# name platforms use.
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"

# A request that takes longer is a stuck worker: it is killed and replaced (the proxy's own
# read timeout should be a little longer). The slowest honest request is a full export of
# the ledger (`/api/v1/export?full=true`) or a "Verify now" of a long ledger.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM or a reload, requests under way get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Behind a proxy that keeps connections open to the app.
keepalive = 5

# Each worker is replaced after about this many requests (the jitter spreads the restarts),
# so a slow leak never grows without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# The worker heartbeat on tmpfs, not on a disk that may stall it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Which peers may tell gunicorn a request came over HTTPS (X-Forwarded-Proto): the proxy
# only. Default: loopback, for a proxy on the same host; a proxy elsewhere is named by
# address in FORWARDED_ALLOW_IPS. (Django reads the same header through
# SECURE_PROXY_SSL_HEADER.)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log on stdout, error log on stderr, for the service manager's journal. Each line:
# the client (as the proxy saw it), the user, the request, status, size, duration in
# milliseconds, referrer and user agent.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
)

# No runtime control socket (gunicornc): nothing outside the service manager resizes or
# reloads the server, and two servers on one host would share its default path.
control_socket_disable = True
