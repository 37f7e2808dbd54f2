"""Query-string filters of the API's collections (django-filter FilterSets). A value
that makes no sense is a 400 naming the parameter, and so is an empty one (`kind=`):
a filter is either left out or given a value, never silently dropped. Filters never
change the order of a claims page: `ordering` is validated here and applied by the
paginator."""

from __future__ import annotations

from datetime import UTC, date

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from claims.api.common import EMPTY_PARAMETER, LedgerCursorPagination, empty_parameters
from claims.models import Appearance, Claim, Quote
from claims.ratings import Status
from claims.search import search_query

# Public name -> (first ordering field, tie-breaker). The first field is the
# cursor's position, so it must never be NULL: claim dates are coalesced.
CLAIM_DATE_KEY = "claim_date_key"
CLAIM_ORDERINGS: dict[str, tuple[str, str]] = {
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-claim_date": (f"-{CLAIM_DATE_KEY}", "-id"),
    "claim_date": (CLAIM_DATE_KEY, "id"),
}
ORDERING_HELP = {
    "-updated_at": "last edited or reviewed first (the default)",
    "updated_at": "least recently changed first (incremental sync)",
    "-created_at": "newest first",
    "created_at": "oldest first",
    "-claim_date": "latest claim date first; undated claims last",
    "claim_date": "earliest claim date first; undated claims first",
}


class ClaimCursorPagination(LedgerCursorPagination):
    """The ledger's keyset pages, in the order the `ordering` parameter picks
    from `CLAIM_ORDERINGS` (validated by `ClaimFilter`); `-id` or `id` breaks ties."""

    def get_ordering(self, request, queryset, view):
        return CLAIM_ORDERINGS.get(request.query_params.get("ordering", ""), self.ordering)

    def paginate_queryset(self, queryset, request, view=None):
        if CLAIM_DATE_KEY in " ".join(self.get_ordering(request, queryset, view)):
            queryset = queryset.annotate(
                **{CLAIM_DATE_KEY: Coalesce("claim_date", Value(date.min))}
            )
        return super().paginate_queryset(queryset, request, view)


def names_no_filter(request, filterset_class: type[django_filters.FilterSet] | None) -> bool:
    """Whether the request's query string leaves every filter of the set out."""
    return filterset_class is None or filterset_class.base_filters.keys().isdisjoint(
        request.query_params.keys()
    )


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds no FilterSet (and its form) for a request
    that names none of its parameters: that cost more than the page's query."""

    def filter_queryset(self, request, queryset, view):
        if names_no_filter(request, self.get_filterset_class(view, queryset)):
            return queryset
        return super().filter_queryset(request, queryset, view)


@extend_schema_field({"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"})
class SlugFilter(django_filters.CharFilter):
    """A slug (letters, digits, hyphens, underscores); anything else is a 400."""

    field_class = forms.SlugField


@extend_schema_field({"type": "string", "minLength": 1})
class TextFilter(django_filters.CharFilter):
    """Text, not empty (StrictFilterSet refuses an empty value)."""


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet whose parameters, when present, must have a value. django-filter
    reads an empty value (or only spaces) as "no filter"; here it is a 400 naming the
    parameter, as a value that makes no sense is."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if not hasattr(self.data, "getlist"):
            return valid
        for name in empty_parameters(self.data, self.filters):
            if EMPTY_PARAMETER not in self.form.errors.get(name, []):
                self.form.add_error(name, EMPTY_PARAMETER)
            valid = False
        return valid


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, in UTC: PostgreSQL refuses offsets beyond ±15:59
    that Python accepts (a 500), and a moment that cannot be in UTC is a 400."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or moment.tzinfo is None:
            return moment
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Out of range.", code="invalid") from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error rather than no filter."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class ClaimFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(
        choices=Status.choices, help_text="Current status on the rating scale (see /ratings)."
    )
    speaker = SlugFilter(field_name="speaker__slug", help_text="The speaker's slug.")
    topic = SlugFilter(method="filter_topic", help_text="A topic's slug.")
    kind = django_filters.ChoiceFilter(choices=Claim.Kind.choices, help_text="Kind of claim.")
    source = SlugFilter(
        method="filter_source", help_text="A source's slug: claims that appear in that source."
    )
    claim_date_from = django_filters.DateFilter(
        field_name="claim_date",
        lookup_expr="gte",
        help_text="Claims made on or after this date (YYYY-MM-DD); undated claims are left out.",
    )
    claim_date_to = django_filters.DateFilter(
        field_name="claim_date",
        lookup_expr="lte",
        help_text="Claims made on or before this date (YYYY-MM-DD); undated claims are left out.",
    )
    updated_since = UTCDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="ISO 8601 date and time (e.g. 2025-09-05T12:00:00Z): claims changed at or "
        "after it (edits, verdicts, publication). For incremental sync, keep the newest "
        "`updated_at` you have seen and send it with `ordering=updated_at`.",
    )
    published = StrictBooleanFilter(
        method="filter_published",
        help_text="true: published claims only; false: drafts only (only desk members see drafts).",
    )
    q = TextFilter(
        method="filter_q",
        help_text='Full-text search over statements, speakers and quoted words: "exact '
        'phrase", -excluded, OR. Narrows the list; the order stays the `ordering`.',
    )
    ordering = django_filters.ChoiceFilter(
        method="filter_ordering",
        choices=list(ORDERING_HELP.items()),
        help_text="Order of the pages: "
        + "; ".join(f"`{name}` {meaning}" for name, meaning in ORDERING_HELP.items())
        + ". Ties are broken by id; keep the same ordering while following `next`.",
    )

    class Meta:
        model = Claim
        fields: list[str] = []

    def filter_topic(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        through = Claim.topics.through
        return queryset.filter(
            Exists(through.objects.filter(claim=OuterRef("pk"), topic__slug=value))
        )

    def filter_source(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(Appearance.objects.filter(claim=OuterRef("pk"), source__slug=value))
        )

    def filter_published(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(published_at__isnull=not value)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        text = " ".join(value.split())[:200]
        return queryset.filter(search_vector=search_query(text)) if text else queryset

    def filter_ordering(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Applied by ClaimCursorPagination; validated here.
        return queryset


class QuoteFilter(StrictFilterSet):
    source = SlugFilter(field_name="source__slug", help_text="The source's slug.")
    speaker = SlugFilter(field_name="speaker__slug", help_text="The speaker's slug.")
    kind = django_filters.ChoiceFilter(choices=Quote.Kind.choices, help_text="Kind of quote.")

    class Meta:
        model = Quote
        fields: list[str] = []


class AppearanceFilter(StrictFilterSet):
    claim = SlugFilter(field_name="claim__slug", help_text="The claim's slug.")
    source = SlugFilter(field_name="source__slug", help_text="The source's slug.")

    class Meta:
        model = Appearance
        fields: list[str] = []
