"""HTTPS, HSTS, the proxy and the throttles' settings, read from the environment.

As in test_settings.py, each case evaluates the settings in a fresh
interpreter with its own environment.
"""

from __future__ import annotations

import uuid

import pytest

from tests.factcheck.test_settings import PROJECT_ROOT, printed_json, raised, run_python

SECURITY_VARIABLES = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "PROXY_COUNT",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_COOLOFF_MINUTES",
    "TOKEN_FAILURE_LIMIT",
    "TOKEN_FAILURE_WINDOW",
)
PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({name: getattr(s, name) for name in ("
    "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
    "'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER', 'PROXY_COUNT', 'AXES_FAILURE_LIMIT', "
    "'AXES_COOLOFF_TIME', 'TOKEN_FAILURE_LIMIT', 'TOKEN_FAILURE_WINDOW')}))"
)


@pytest.fixture(autouse=True)
def _no_inherited_security_settings(monkeypatch):
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def production(**overrides: str) -> dict:
    env = {"DEBUG": "false", "SECRET_KEY": uuid.uuid4().hex, **overrides}
    return printed_json(run_python(PRINT, **env))


def test_with_debug_off_https_is_on():
    assert production() == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        # Only an operator knows a proxy sets a header, and which.
        "SECURE_PROXY_SSL_HEADER": None,
        "PROXY_COUNT": 0,
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": 0.25,  # hours: 15 minutes
        "TOKEN_FAILURE_LIMIT": 10,
        "TOKEN_FAILURE_WINDOW": 600,
    }


def test_with_debug_on_https_is_off():
    values = printed_json(run_python(PRINT, DEBUG="true"))

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is False


def test_each_can_be_set():
    values = production(
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="false",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        PROXY_COUNT="2",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_COOLOFF_MINUTES="60",
        TOKEN_FAILURE_LIMIT="0",
        TOKEN_FAILURE_WINDOW="60",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "PROXY_COUNT": 2,
        "AXES_FAILURE_LIMIT": 3,
        "AXES_COOLOFF_TIME": 1.0,
        "TOKEN_FAILURE_LIMIT": 0,
        "TOKEN_FAILURE_WINDOW": 60,
    }


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
        ("PROXY_COUNT", "one", "PROXY_COUNT must be a whole number"),
        ("SECURE_SSL_REDIRECT", "maybe", "SECURE_SSL_REDIRECT must be true or false"),
        ("LOGIN_FAILURE_LIMIT", "0", "LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be 1"),
    ],
)
def test_a_value_it_cannot_read_stops_it(variable, value, says):
    result = run_python(
        "import django; django.setup()",
        DEBUG="false",
        SECRET_KEY=uuid.uuid4().hex,
        **{variable: value},
    )

    assert result.returncode != 0
    last = raised(result)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert says in last


def test_env_example_and_the_readme_list_them():
    listed = (PROJECT_ROOT / ".env.example").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    configuration = readme[readme.index("## Configuration") : readme.index("### Database roles")]
    for name in SECURITY_VARIABLES:
        assert f"\n{name}=" in listed, name
        assert f"`{name}`" in configuration, name
