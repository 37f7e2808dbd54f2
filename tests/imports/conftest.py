"""The reader pages' change stamp fires at each statement here (tests.db)."""

from tests.db import stamp_at_each_statement  # noqa: F401 - an autouse fixture
