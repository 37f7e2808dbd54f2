"""Admin change lists that cost the same at a million rows as at a thousand.

Django's change list counts every matching row on every page (twice when
filtered), lists every related row in a related filter, and breaks ties in
its ordering with `-pk` whatever the direction of the sort, so that no
two-column index can serve an ascending sort. `LargeTableAdmin` replaces
those three habits; `RelatedTextFilter` filters by a related row typed by
name instead of listing them all.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.contrib.admin.options import ShowFacets
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import OrderBy, Q, QuerySet
from django.utils.functional import cached_property

if TYPE_CHECKING:
    from django.db.models import Model

    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to `exact_up_to` rows; beyond that, the planner's estimate.

    Always two queries, each bounded: the planner's row estimate for the list's
    query (EXPLAIN: no row is read; unfiltered it is pg_class.reltuples) and a
    count that stops after `exact_up_to` + 1 rows. A list that small gets its
    exact count; a larger one the estimate, never less than what was counted,
    shown as "about N" (`estimated`).
    """

    exact_up_to = 1000

    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        ids = queryset.order_by().values("pk")
        estimate = planner_rows(ids)
        counted = ids[: self.exact_up_to + 1].count()
        if counted <= self.exact_up_to:
            return counted
        self.estimated = True
        return max(estimate, counted)


def planner_rows(queryset: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects the query to return."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. `pk__in=[]`: Django knows without asking
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class IndexOrderChangeList(ChangeList):
    """Ties broken by the primary key in the direction of the sort.

    Django appends `-pk` to any ordering that is not total, so `created_at`
    ascending becomes `created_at, id DESC`, which an index on
    (created_at, id) cannot serve in either direction; `created_at, id` and
    `-created_at, -id` are that index read forwards and backwards.
    """

    def get_ordering(self, request, queryset):
        # Without the queryset's own order (ModelAdmin.get_queryset applies the default
        # one), which Django appends after a column's sort: `status_changed_at,
        # -created_at, -pk` would need an index of its own.
        ordering = super().get_ordering(request, queryset.order_by())
        if len(ordering) > 1 and ordering[-1] == "-pk" and not _descending(ordering[-2]):
            return [*ordering[:-1], "pk"]
        return ordering


def _descending(field) -> bool:
    if isinstance(field, OrderBy):
        return field.descending
    return isinstance(field, str) and field.startswith("-")


class LargeTableAdmin(_ModelAdmin):
    """A ModelAdmin whose change list does no work that grows with the table."""

    paginator = EstimatedCountPaginator
    # The total without filters ("N total") would be a second full count.
    show_full_result_count = False
    # Facets count every choice of every filter over the whole list.
    show_facets = ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return IndexOrderChangeList


class ReadOnlyAdmin:
    """For a ModelAdmin or an inline whose rows something else writes (the ledger by
    the review service, the webhook log by its worker): the admin shows them and
    never adds, changes or deletes one."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RelatedTextFilter(admin.SimpleListFilter):
    """Filter by a related row typed by name, or chosen by id, never listing them all.

    The menu is a small GET form (no JavaScript) keeping the list's other
    parameters; once a name is typed, the first `shown` rows whose
    `search_fields` contain it (by name) are offered as links to narrow to one
    of them, and the list is filtered to those rows meanwhile. The value is an
    id (`?speaker=12`) or the typed text (`?speaker=rubio`).
    """

    template = "admin/text_filter.html"
    # The relation on the listed model, and the related model's fields that are searched.
    field_path: ClassVar[str]
    related_model: ClassVar[type[Model]]
    search_fields: ClassVar[tuple[str, ...]] = ("name",)
    label_field: ClassVar[str] = "name"
    shown = 10

    def lookups(self, request, model_admin):
        return []

    def has_output(self):
        return True

    @cached_property
    def matches(self) -> list[tuple[int, str]]:
        """The related rows the value names, at most `shown` + 1 of them: one query."""
        value = (self.value() or "").strip()
        if not value:
            return []
        related = self.related_model._default_manager.filter(self._related_match(value))
        rows = related.order_by(self.label_field, "pk").values_list("pk", self.label_field)
        return [(pk, str(label)) for pk, label in rows[: self.shown + 1]]

    def _related_match(self, value: str) -> Q:
        if value.isdigit():
            return Q(pk=int(value))
        match = Q()
        for name in self.search_fields:
            match |= Q(**{f"{name}__icontains": value})
        return match

    def queryset(self, request, queryset):
        if not (self.value() or "").strip():
            return queryset
        # The rows offered in the menu, no more: a bounded list of ids, where a subquery
        # would leave the planner guessing how many names contain the text.
        ids = [pk for pk, _ in self.matches[: self.shown]]
        return queryset.filter(**{f"{self.field_path}__in": ids})

    def choices(self, changelist):
        value = (self.value() or "").strip()
        yield {
            "parameter_name": self.parameter_name,
            "value": value,
            "hidden": [
                (name, item)
                for name, values in sorted(changelist.filter_params.items())
                if name != self.parameter_name
                for item in (values if isinstance(values, list) else [values])
            ],
            "all_url": changelist.get_query_string(remove=[self.parameter_name]),
            "matches": [
                {
                    "label": label,
                    "url": changelist.get_query_string({self.parameter_name: pk}),
                    "selected": value == str(pk),
                }
                for pk, label in self.matches[: self.shown]
            ],
            "more": len(self.matches) > self.shown,
        }
