"""factcheck/gunicorn.conf.py, as gunicorn reads it (README, "Production").

`gunicorn --print-config` evaluates the file without serving; the real
server runs with it in tests/factcheck/test_real_servers.py.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

from django.conf import settings

VARIABLES = (
    "GUNICORN_BIND",
    "WEB_CONCURRENCY",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
    "FORWARDED_ALLOW_IPS",
    "GUNICORN_ACCESS_LOG",
    "GUNICORN_ERROR_LOG",
    "GUNICORN_LOG_LEVEL",
    "GUNICORN_CMD_ARGS",
)


def gunicorn_config(**environment: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "factcheck/gunicorn.conf.py", "--print-config"]
        + ["factcheck.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    values = {}
    for line in result.stdout.splitlines():
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def test_the_production_defaults():
    config = gunicorn_config()

    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["workers"] == str(2 * multiprocessing.cpu_count() + 1)
    assert config["worker_class"] == "sync"
    assert config["timeout"] == "60"
    assert config["graceful_timeout"] == "30"
    assert (config["max_requests"], config["max_requests_jitter"]) == ("1000", "100")
    assert config["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert config["accesslog"] == "-"
    assert config["access_log_format"].startswith("%({x-forwarded-for}i)s %(h)s")
    assert config["control_socket_disable"] == "True"


def test_the_environment_changes_them():
    config = gunicorn_config(
        WEB_CONCURRENCY="3",
        GUNICORN_BIND="unix:/run/factcheck.sock",
        GUNICORN_TIMEOUT="120",
        FORWARDED_ALLOW_IPS="10.0.0.5",
    )

    assert config["workers"] == "3"
    assert config["bind"] == "['unix:/run/factcheck.sock']"
    assert config["timeout"] == "120"
    assert config["forwarded_allow_ips"] == "['10.0.0.5']"
