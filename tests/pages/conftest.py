"""The reader pages' change stamp (claims.freshness) is bumped by triggers deferred to
commit. A test runs in one transaction that never commits, so here they fire at each
statement instead: a page fetched after an edit in the same test sees the new stamp."""

import pytest
from django.db import connection

from claims.freshness import STAMP_TRIGGERS


@pytest.fixture(autouse=True)
def _stamp_at_each_statement(request):
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {', '.join(STAMP_TRIGGERS)} IMMEDIATE")
