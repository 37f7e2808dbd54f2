"""Settings read from the environment, each evaluated in a fresh interpreter.

Settings are evaluated once per process, so every case runs `python -c ...` in
a subprocess with its own environment instead of touching this test run's
settings (and no test here needs the test database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Variables that decide the outcome; each test sets the ones it needs.
CONTROLLED = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_OWNER_URL",
    "EMBEDDED_PGDATA",
    "EMBEDDED_DATABASE_NAME",
)

SETUP = "import django; django.setup()"
PRINT_DATABASES = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'DATABASES': settings.DATABASES, "
    "'EMBEDDED_PGDATA': str(settings.EMBEDDED_PGDATA)}, default=str))"
)


def run_python(code: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    env["DJANGO_SETTINGS_MODULE"] = "factcheck.settings"
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def raised(result: subprocess.CompletedProcess[str]) -> str:
    """The final line of a traceback: `module.Exception: message`."""
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def printed_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_it_refuses_to_start_with_debug_off_and_no_secret_key():
    result = run_python(SETUP, DEBUG="false")

    assert result.returncode != 0
    last = raised(result)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert "SECRET_KEY" in last


def test_it_starts_with_debug_off_once_a_secret_key_is_set():
    # The counterpart of the refusal above: the key, not something else, was missing.
    key = uuid.uuid4().hex
    result = run_python(
        SETUP + "; from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG)",
        DEBUG="false",
        SECRET_KEY=key,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [key, "False"]


def test_it_refuses_a_database_url_that_is_not_postgresql():
    result = run_python(SETUP, DEBUG="true", DATABASE_URL="sqlite:///x.db")

    assert result.returncode != 0
    last = raised(result)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert "PostgreSQL" in last


def test_it_uses_a_postgresql_database_url_as_given():
    result = run_python(PRINT_DATABASES, DEBUG="true", DATABASE_URL="postgresql://u@h:5432/name")

    default = printed_json(result)["DATABASES"]["default"]
    # Django's PostgreSQL backend, taught to connect as the owner for migrations.
    assert default["ENGINE"] == "factcheck.db.postgresql"
    assert default["NAME"] == "name"
    assert default["USER"] == "u"
    assert default["HOST"] == "h"
    assert int(default["PORT"]) == 5432
    assert "OWNER" not in default


def test_it_takes_the_owners_role_from_a_second_url_to_the_same_database():
    result = run_python(
        PRINT_DATABASES,
        DEBUG="true",
        DATABASE_URL="postgresql://app@h:5432/name",
        DATABASE_OWNER_URL="postgresql://owner:secret@h:5432/name",
    )

    default = printed_json(result)["DATABASES"]["default"]
    assert default["USER"] == "app"
    assert default["OWNER"] == {"USER": "owner", "PASSWORD": "secret", "HOST": "h", "PORT": 5432}


def test_it_refuses_an_owner_url_to_another_database():
    result = run_python(
        SETUP,
        DEBUG="true",
        DATABASE_URL="postgresql://app@h:5432/name",
        DATABASE_OWNER_URL="postgresql://owner@h:5432/other",
    )

    assert result.returncode != 0
    last = raised(result)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert "same database" in last


def test_it_uses_the_embedded_engine_without_a_database_url():
    name = f"ledger_{uuid.uuid4().hex[:8]}"
    result = run_python(PRINT_DATABASES, DEBUG="true", EMBEDDED_DATABASE_NAME=name)

    printed = printed_json(result)
    default = printed["DATABASES"]["default"]
    assert default["ENGINE"] == "factcheck.db.embedded"
    assert default["NAME"] == name
    assert (default["USER"], default["OWNER"]["USER"]) == ("factcheck_app", "factcheck_owner")
    # Unset EMBEDDED_PGDATA means the project's own .pgdata folder.
    assert Path(printed["EMBEDDED_PGDATA"]) == PROJECT_ROOT / ".pgdata"


def test_it_refuses_a_debug_value_that_is_neither_true_nor_false():
    result = run_python(SETUP, DEBUG="maybe")

    assert result.returncode != 0
    last = raised(result)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert "DEBUG" in last
    assert "maybe" in last


def test_a_throttle_rate_can_be_turned_off(monkeypatch):
    from factcheck.settings import _throttle_rate

    monkeypatch.setenv("API_ANON_RATE", "off")
    assert _throttle_rate("API_ANON_RATE", "120/minute") is None
    monkeypatch.setenv("API_ANON_RATE", "30/minute")
    assert _throttle_rate("API_ANON_RATE", "120/minute") == "30/minute"
    monkeypatch.delenv("API_ANON_RATE")
    assert _throttle_rate("API_ANON_RATE", "120/minute") == "120/minute"
