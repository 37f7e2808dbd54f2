"""Schemathesis against the project's own OpenAPI schema, in-process.

Every operation, anonymously and as an editor (token), with generated
inputs: no response may be a 5xx, and every response must match what the
schema declares (status code, content type, body). Each run is bounded
(MAX_EXAMPLES per operation) so that it fits in CI every time, and prints
its figures (operations, cases, failures).

The operations are driven one by one with Hypothesis rather than through
schemathesis' pytest plugin, whose lazy fixture loading does not run on
pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from factcheck.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 30


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose
    close_old_connections would close the test's transaction (Django's test
    Client disconnects it the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _fuzz(headers: dict | None, label: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    cases = 0
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            nonlocal cases
            cases += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # one report per operation, then the next one
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    print(
        f"\nschemathesis ({label}): {len(operations)} operations, {cases} cases, "
        f"{len(failures)} failing operations"
    )
    assert not failures, "\n\n".join(failures)


def test_anonymous_clients_get_no_server_error_and_no_off_schema_response(seeded):
    _fuzz(None, "anonymous")


def test_an_editor_gets_no_server_error_and_no_off_schema_response(seeded, editor):
    token, _ = Token.objects.get_or_create(user=editor)
    _fuzz({"Authorization": f"Token {token.key}"}, "editor")


pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]
