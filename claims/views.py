"""The reader pages: home, the claims list and search, a claim's page, topics, statuses,
the corrections log and the corrections policy.

Readers are anonymous and see published claims only; a draft is a 404.
Every page runs a fixed number of SQL queries, whatever the number of
claims, appearances or ledger entries, and answers conditional GETs
(ETag and Last-Modified, 304 on a match) from one small query.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import cached_property

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.core.paginator import Page, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import floatformat
from django.utils import dateformat
from django.utils.dateparse import parse_date
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from claims.claimreview import build_claim_review
from claims.models import (
    Appearance,
    Claim,
    ClaimKind,
    CorrectionClass,
    MediaAuthenticity,
    Review,
    Speaker,
    Topic,
)
from claims.ratings import BY_VALUE, RATINGS, get_rating
from claims.search import highlight, search_claims
from factcheck.conditional import page_condition
from sources.models import Source

PER_PAGE = 20
HOME_LIST_SIZE = 10
SIMILAR_LIMIT = 5
SIMILARITY_THRESHOLD = 0.2

# What json_script escapes, so no string in the JSON-LD can close the <script>
# element or open a comment, whatever an editor types.
_JSON_SCRIPT_ESCAPES = {
    ord(">"): "\\u003E",
    ord("<"): "\\u003C",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}


# --- Conditional GET ---------------------------------------------------------


def _latest(*stamps: datetime | None) -> datetime | None:
    present = [stamp for stamp in stamps if stamp is not None]
    return max(present) if present else None


def _published_state(request: HttpRequest, *args, **kwargs) -> dict:
    """What every list page is made of, in one query."""
    state = Claim.objects.published().aggregate(
        last=Max("updated_at"), speakers=Max("speaker__updated_at"), count=Count("pk")
    )
    return {**state, "last_change": _latest(state["last"], state["speakers"])}


list_condition = page_condition("claims-list-1", _published_state)


def _claim_state(request: HttpRequest, slug: str) -> dict | None:
    """The claim's version and update times, with what its page shows from elsewhere
    (the speaker, the appearances and their sources), in one query."""
    state = (
        Claim.objects.published()
        .filter(slug=slug)
        .aggregate(
            version=Max("version"),
            updated=Max("updated_at"),
            speaker=Max("speaker__updated_at"),
            appearance_count=Count("appearances"),
            appeared=Max("appearances__created_at"),
            sources=Max("appearances__source__updated_at"),
        )
    )
    if state["version"] is None:
        return None
    last = _latest(state["updated"], state["speaker"], state["appeared"], state["sources"])
    return {**state, "slug": slug, "last_change": last}


# --- Shared helpers ----------------------------------------------------------


def _newest_first(queryset: QuerySet) -> QuerySet:
    return queryset.order_by(
        F("claim_date").desc(nulls_last=True), F("published_at").desc(nulls_last=True), "-pk"
    )


def _paginate(request: HttpRequest, queryset: QuerySet) -> Page:
    """A page of claims; a page number that is not a number or out of range
    gives the first or the last page, never an error."""
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


def json_ld_script(data: dict) -> SafeString:
    """`data` as a JSON-LD <script> element that no string inside can break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(text.translate(_JSON_SCRIPT_ESCAPES)),  # noqa: S308 - escaped above
    )


# --- Corrections and verdict changes, in words -------------------------------

CHANGE_LABELS = {
    "statement": "Statement",
    "speaker": "Speaker",
    "claim_date": "Date said",
    "kind": "Kind of claim",
    "quantity": "Quantity",
    "unit": "Unit",
    "media_authenticity": "Media authenticity",
}
NOTHING = "none"


@dataclass(frozen=True)
class Change:
    """One field a correction changed: “Statement: “old” → “new””."""

    label: str
    before: str
    after: str
    quoted: bool = False

    @cached_property
    def marked(self) -> tuple[SafeString, SafeString]:
        """Before and after, escaped, with the words that differ in <del> and <ins>:
        a typo in a long statement is easy to miss otherwise."""
        return marked_difference(self.before, self.after)


_WORDS = re.compile(r"\S+|\s+")


def _marked(tag: str, text: str) -> SafeString:
    """`text` in <tag>, the spaces around it left outside."""
    words = text.strip()
    if not words:
        return escape(text)
    start = text.index(words)
    return format_html("{}<{}>{}</{}>{}", text[:start], tag, words, tag, text[start + len(words) :])


def marked_difference(before: str, after: str) -> tuple[SafeString, SafeString]:
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    marked_old, marked_new = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        if op == "equal":
            marked_old.append(escape(removed))
            marked_new.append(escape(added))
            continue
        marked_old.append(_marked("del", removed))
        marked_new.append(_marked("ins", added))
    # Every piece is escaped or built by format_html above.
    return mark_safe("".join(marked_old)), mark_safe("".join(marked_new))  # noqa: S308


def _date_words(value) -> str:
    if not value:
        return "not given"
    try:
        return dateformat.format(date.fromisoformat(str(value)), "j F Y")
    except ValueError:
        return str(value)


def _choice_words(choices, value) -> str:
    if not value:
        return NOTHING
    return str(dict(choices.choices).get(value, value))


def _speaker_words(value) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or f"speaker #{value.get('id')}")
    return str(value) if value else NOTHING


def _quantity_words(value, unit: str) -> str:
    if value is None or value == "":
        return NOTHING
    try:
        number = floatformat(Decimal(str(value)), "-2g")
    except InvalidOperation:
        number = str(value)
    return f"{number} {unit}" if unit else number


def readable_changes(entry: Review) -> list[Change]:
    """What a correction changed, field by field in the claim's order, as readers read it:
    the speaker by name, the quantity with its unit, dates and choices in words."""
    changes = entry.changes or {}
    unit_after = (entry.claim_content or {}).get("unit", "")
    unit_before = changes["unit"].get("from", unit_after) if "unit" in changes else unit_after
    words = []
    for name in (*Claim.CHECKABLE_FIELDS, *sorted(set(changes) - set(Claim.CHECKABLE_FIELDS))):
        if name not in changes:
            continue
        before, after = changes[name].get("from"), changes[name].get("to")
        label = CHANGE_LABELS.get(name, name.replace("_", " ").capitalize())
        if name == "statement":
            words.append(Change(label, before or "", after or "", quoted=True))
            continue
        if name == "speaker":
            before, after = _speaker_words(before), _speaker_words(after)
        elif name == "claim_date":
            before, after = _date_words(before), _date_words(after)
        elif name == "kind":
            before, after = _choice_words(ClaimKind, before), _choice_words(ClaimKind, after)
        elif name == "media_authenticity":
            before = _choice_words(MediaAuthenticity, before)
            after = _choice_words(MediaAuthenticity, after)
        elif name == "quantity":
            before = _quantity_words(before, unit_before)
            after = _quantity_words(after, unit_after)
        else:
            before = str(before) if before not in (None, "") else NOTHING
            after = str(after) if after not in (None, "") else NOTHING
        words.append(Change(label, before, after))
    return words


@dataclass
class LedgerChange:
    """A correction or a verdict change as readers see it: the ledger entry, the
    correction's class, what changed in words, and what it did to the verdict."""

    entry: Review
    correction: CorrectionClass | None
    changes: list[Change]

    @classmethod
    def of(cls, entry: Review) -> LedgerChange:
        if entry.action == Review.Action.CORRECTION:
            return cls(entry, CorrectionClass(entry.correction_class), readable_changes(entry))
        return cls(entry, None, [])

    @property
    def is_correction(self) -> bool:
        return self.correction is not None

    @property
    def withdrew_verdict(self) -> bool:
        """A substantive correction that took a standing verdict back."""
        entry = self.entry
        return (
            self.correction is not None
            and self.correction.withdraws_verdict
            and get_rating(entry.status_before).is_verdict
            and entry.status_after != entry.status_before
        )

    @property
    def kind(self) -> str:
        """What happened, in two or three words."""
        if self.correction is not None:
            return f"{self.correction.label} correction"
        before = get_rating(self.entry.status_before).is_verdict
        after = get_rating(self.entry.status_after).is_verdict
        if before and after:
            return "Verdict changed"
        if after:
            return "Verdict"
        if before:
            return "Verdict withdrawn"
        return "Status changed"

    @property
    def anchor(self) -> str:
        """Where it is on its claim's page."""
        prefix = "correction" if self.is_correction else "entry"
        return f"{prefix}-{self.entry.sequence}"


# --- Home --------------------------------------------------------------------


@require_safe
@list_condition
def home(request: HttpRequest) -> HttpResponse:
    published = Claim.objects.published().select_related("speaker")
    latest_first = (F("status_changed_at").desc(nulls_last=True), "-pk")
    verdicts = list(published.rated().order_by(*latest_first)[:HOME_LIST_SIZE])
    in_review = list(published.filter(status="in_review").order_by(*latest_first)[:HOME_LIST_SIZE])
    counts = dict(
        Claim.objects.published()
        .values("status")
        .annotate(n=Count("pk"))
        .order_by("status")
        .values_list("status", "n")
    )
    status_counts = [(rating, counts.get(rating.value, 0)) for rating in RATINGS]
    topics = list(
        Topic.objects.annotate(
            claim_count=Count("claims", filter=Q(claims__published_at__isnull=False))
        )
        .filter(claim_count__gt=0)
        .order_by("name")
    )
    return render(
        request,
        "claims/home.html",
        {
            "verdicts": verdicts,
            "in_review": in_review,
            "status_counts": status_counts,
            "total": sum(counts.values()),
            "topics": topics,
        },
    )


# --- Claims list and search --------------------------------------------------


@dataclass
class ClaimFilters:
    """The list's GET filters, cleaned; values that make no sense are dropped
    and named in `notes` for the reader."""

    status: str = ""
    speaker: str = ""
    topic: str = ""
    kind: str = ""
    source: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(
            (
                self.status,
                self.speaker,
                self.topic,
                self.kind,
                self.source,
                self.date_from,
                self.date_to,
                self.q,
            )
        )


def _choice(params, name: str, allowed: dict, label: str, notes: list[str]) -> str:
    value = params.get(name, "").strip()
    if value and value not in allowed:
        notes.append(f"There is no {label} “{value}”; that filter was ignored.")
        return ""
    return value


def _date(params, name: str, label: str, notes: list[str]) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except ValueError:
        parsed = None
    if parsed is None:
        notes.append(f"“{value}” is not a date (YYYY-MM-DD); the {label} filter was ignored.")
    return parsed


def _clean_filters(params, options: dict) -> ClaimFilters:
    notes: list[str] = []
    filters = ClaimFilters(
        status=_choice(params, "status", BY_VALUE, "status", notes),
        speaker=_choice(params, "speaker", options["speakers"], "speaker", notes),
        topic=_choice(params, "topic", options["topics"], "topic", notes),
        kind=_choice(params, "kind", dict(Claim.Kind.choices), "kind of claim", notes),
        source=_choice(params, "source", options["sources"], "source", notes),
        date_from=_date(params, "from", "“from” date", notes),
        date_to=_date(params, "to", "“to” date", notes),
        q=" ".join(params.get("q", "").split())[:200],
        notes=notes,
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        notes.append("The “from” date is after the “to” date, so no claim can match.")
    return filters


def _filter_options() -> dict:
    """Speakers, topics and sources that have published claims: one query each."""
    published = Claim.objects.published()
    speakers = dict(
        Speaker.objects.filter(Exists(published.filter(speaker=OuterRef("pk"))))
        .order_by("name")
        .values_list("slug", "name")
    )
    topics = dict(
        Topic.objects.filter(Exists(published.filter(topics=OuterRef("pk"))))
        .order_by("name")
        .values_list("slug", "name")
    )
    sources = dict(
        Source.objects.filter(
            Exists(
                Appearance.objects.filter(source=OuterRef("pk"), claim__published_at__isnull=False)
            )
        )
        .order_by("title", "pk")
        .values_list("slug", "title")
    )
    return {"speakers": speakers, "topics": topics, "sources": sources}


def _apply_filters(queryset: QuerySet, filters: ClaimFilters) -> QuerySet:
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.speaker:
        queryset = queryset.filter(speaker__slug=filters.speaker)
    if filters.topic:
        queryset = queryset.filter(topics__slug=filters.topic)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.source:
        queryset = queryset.filter(
            Exists(Appearance.objects.filter(claim=OuterRef("pk"), source__slug=filters.source))
        )
    if filters.date_from:
        queryset = queryset.filter(claim_date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(claim_date__lte=filters.date_to)
    return search_claims(queryset, filters.q) if filters.q else _newest_first(queryset)


@require_safe
@list_condition
def claim_list(request: HttpRequest) -> HttpResponse:
    options = _filter_options()
    filters = _clean_filters(request.GET, options)
    queryset = _apply_filters(Claim.objects.published().select_related("speaker"), filters)
    page = _paginate(request, queryset)
    if filters.q:
        for claim in page.object_list:
            claim.snippet = highlight(claim.headline)
            quoted = highlight(claim.quoted_headline or "")
            claim.quoted_snippet = quoted if "<mark>" in quoted else ""
    return render(
        request,
        "claims/claim_list.html",
        {
            "page_obj": page,
            "filters": filters,
            "options": options,
            "statuses": RATINGS,
            "kinds": Claim.Kind.choices,
            "search_text": filters.q,
        },
    )


# --- A claim's page ----------------------------------------------------------


@require_safe
@page_condition("claim-2", _claim_state)
def claim_detail(request: HttpRequest, slug: str) -> HttpResponse:
    claim = get_object_or_404(Claim.objects.published().public_detail(), slug=slug)
    rating = get_rating(claim.status)
    history = list(claim.reviews.all())  # newest first (public_detail)
    latest_verdict = claim.latest_verdict
    # From the ledger the page already has: no query of their own.
    claim_corrections = [
        LedgerChange.of(entry) for entry in history if entry.action == Review.Action.CORRECTION
    ]
    corrected_since_verdict = [
        item
        for item in claim_corrections
        if latest_verdict is not None and item.entry.sequence > latest_verdict.sequence
    ]
    withdrawal = None
    if not rating.is_verdict:
        last_status_change = next(
            (entry for entry in history if entry.status_after != entry.status_before), None
        )
        if last_status_change is not None:
            candidate = LedgerChange.of(last_status_change)
            withdrawal = candidate if candidate.withdrew_verdict else None
    evidence = (
        [link.source for link in latest_verdict.evidence_links.all()] if latest_verdict else []
    )
    similar = list(
        Claim.objects.published()
        .exclude(pk=claim.pk)
        .annotate(similarity=TrigramSimilarity("statement", claim.statement))
        .filter(similarity__gt=SIMILARITY_THRESHOLD)
        .select_related("speaker")
        .order_by("-similarity", "-pk")[:SIMILAR_LIMIT]
    )
    markup = build_claim_review(claim, request)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "rating": rating,
            "latest_verdict": latest_verdict,
            "evidence": evidence,
            "appearances": list(claim.appearances.all()),
            "topics": list(claim.topics.all()),
            "history": history,
            "corrections": claim_corrections,
            "corrected_since_verdict": corrected_since_verdict,
            "withdrawal": withdrawal,
            "similar": similar,
            "claim_review": json_ld_script(markup) if markup else "",
        },
    )


# --- Topics and statuses -----------------------------------------------------


@require_safe
@list_condition
def topic_list(request: HttpRequest) -> HttpResponse:
    topics = Topic.objects.annotate(
        claim_count=Count("claims", filter=Q(claims__published_at__isnull=False))
    ).order_by("name")
    return render(request, "claims/topic_list.html", {"topics": list(topics)})


@require_safe
@list_condition
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    claims = _newest_first(Claim.objects.published().filter(topics=topic).select_related("speaker"))
    return render(
        request,
        "claims/topic_detail.html",
        {"topic": topic, "page_obj": _paginate(request, claims)},
    )


@require_safe
@list_condition
def status_detail(request: HttpRequest, status: str) -> HttpResponse:
    rating = BY_VALUE.get(status)
    if rating is None:
        raise Http404("No such status.")
    claims = _newest_first(
        Claim.objects.published().filter(status=rating.value).select_related("speaker")
    )
    return render(
        request,
        "claims/status_detail.html",
        {"rating": rating, "page_obj": _paginate(request, claims), "statuses": RATINGS},
    )


# --- Corrections -------------------------------------------------------------

CHANGES_PER_PAGE = 50
# Sequences are PostgreSQL bigints: more digits cannot be one.
_SEQUENCE = re.compile(r"[0-9]{1,18}")


def _before(request: HttpRequest) -> int | None:
    """The `before` sequence of a page of the corrections log; Http404 when it is not one."""
    raw = request.GET.get("before", "").strip()
    if not raw:
        return None
    if not _SEQUENCE.fullmatch(raw):
        raise Http404("No such page of corrections.")
    return int(raw)


def _changes_state(request: HttpRequest) -> dict | None:
    """The log shows ledger entries of published claims, their statements and speakers:
    every entry moves its claim's `updated_at`, publishing or unpublishing changes the
    set, so the published claims' state says when the log changed."""
    try:
        before = _before(request)
    except Http404:
        return None
    return {**_published_state(request), "before": before}


def public_changes() -> QuerySet:
    """Every correction and every change of status of a published claim, newest first.

    Corrections always; verdicts only when they changed the status. Filtered on the
    action first, so PostgreSQL can walk the partial index `review_public_change_idx`.
    """
    return (
        Review.objects.filter(
            action__in=[Review.Action.REVIEW, Review.Action.CORRECTION],
            claim__published_at__isnull=False,
        )
        .filter(Q(action=Review.Action.CORRECTION) | ~Q(status_before=F("status_after")))
        .select_related("claim__speaker")
        # Never shown: the desk's internal note, and the claim's search vector.
        .defer("note", "claim__search_vector")
        .order_by("-sequence")
    )


@require_safe
@page_condition("corrections-1", _changes_state)
def corrections(request: HttpRequest) -> HttpResponse:
    """The corrections log: one query for a page, whatever its depth (keyset on sequence)."""
    before = _before(request)
    entries = public_changes()
    if before is not None:
        entries = entries.filter(sequence__lt=before)
    page = list(entries[: CHANGES_PER_PAGE + 1])
    older = page[CHANGES_PER_PAGE - 1].sequence if len(page) > CHANGES_PER_PAGE else None
    return render(
        request,
        "claims/corrections.html",
        {
            "changes": [LedgerChange.of(entry) for entry in page[:CHANGES_PER_PAGE]],
            "before": before,
            "older": older,
        },
    )


def _policy_state(request: HttpRequest) -> dict:
    # Made of the templates, the rating scale and the settings: no query.
    return {
        "publisher": settings.PUBLISHER_NAME,
        "publisher_url": settings.PUBLISHER_URL,
        "last_change": None,
    }


@require_safe
@page_condition("corrections-policy-1", _policy_state)
def corrections_policy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "claims/corrections_policy.html",
        {
            "correction_classes": list(CorrectionClass),
            "verdict_ratings": [rating for rating in RATINGS if rating.is_verdict],
            "workflow_ratings": [rating for rating in RATINGS if not rating.is_verdict],
            "PUBLISHER_URL": settings.PUBLISHER_URL,
        },
    )
