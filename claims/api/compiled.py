"""The API claims list's pages compiled once per shape and prepared on the server
(factcheck.db.prepared.compiled), inside DRF's own cursor pagination.

On the API's busiest reads, turning an ORM query into SQL (and PostgreSQL
planning it) cost more than running it. The queryset stays the one description
of what is read (which claims are visible, which columns); only its compilation
is remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, QuerySet

from factcheck.db.prepared import compiled

# A position no cursor holds: 1 January of year 1, at an odd microsecond.
POSITION_MARK = datetime(1, 1, 1, 0, 0, 0, 271_828, tzinfo=UTC)


@dataclass(frozen=True)
class KeysetRows:
    """Stands in for a `.values()` queryset in DRF's CursorPagination, which only
    orders it, filters it on the first ordering field (`<field>__lt` or `__gt` the
    cursor's position) and slices it: each shape is compiled once and run prepared.
    The position is converted as the ORM's lookup would convert it (the same
    errors for a forged cursor)."""

    key: Hashable
    model: type[Model]
    build: Callable[[], QuerySet]
    ordering: tuple[str, ...] = ()
    position_lookup: str | None = None
    position: Any = None

    def order_by(self, *ordering: str) -> KeysetRows:
        return replace(self, ordering=ordering)

    def filter(self, **lookup: Any) -> KeysetRows:
        ((name, value),) = lookup.items()
        field_name = name.rsplit("__", 1)[0]
        field: Any = self.model._meta.get_field(field_name)
        return replace(self, position_lookup=name, position=field.get_prep_value(value))

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        lookup = self.position_lookup
        shape = (self.key, self.ordering, lookup, window.start, window.stop)

        def build(**marks: Any) -> QuerySet:
            rows = self.build().order_by(*self.ordering)
            if lookup is not None:
                rows = rows.filter(**{lookup: marks["position"]})
            return rows[window]

        if lookup is None:
            return compiled(shape, build).rows()
        return compiled(shape, build, position=POSITION_MARK).rows(position=self.position)
