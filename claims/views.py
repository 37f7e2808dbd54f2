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
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from functools import cached_property

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, TrigramSimilarity
from django.core.paginator import Page, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.query import RawQuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.utils import dateformat
from django.utils.dateparse import parse_date
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from claims import cdn, freshness
from claims.claimreview import build_claim_review, build_media_review, has_media_review
from claims.models import (
    LIST_ORDER,
    UNDATED,
    Appearance,
    Claim,
    ClaimKind,
    CorrectionClass,
    MediaAuthenticity,
    MediaType,
    Review,
    Speaker,
    Topic,
)
from claims.quantities import QuantityQualifier, unit_of
from claims.ratings import BY_VALUE, RATINGS, get_rating
from claims.repeats import came_back
from claims.search import MOST_CLAIMS_PER_WORD, highlight, lexeme_counts, search_claims_capped
from claims.timeline import reader_chain
from factcheck.conditional import page_condition
from sources.models import Source

PER_PAGE = 20
HOME_LIST_SIZE = 10
SIMILAR_LIMIT = 5
# Similar claims: claims whose statement shares at least two of this one's
# SIMILAR_WORDS rarest words (its statement's lexemes in the stored search vector,
# by PostgreSQL's statistics of the most common ones, then longest first) are
# candidates, found through the full-text GIN index. Words held by more than
# claims.search.MOST_CLAIMS_PER_WORD claims are left out (it says why); the first
# SIMILAR_CANDIDATES of them are ranked by trigram similarity, and
# those reaching SIMILARITY_THRESHOLD are shown. Ranking every claim by trigrams
# took seconds at a million, and so does pg_trgm's own index on ~100-character
# statements (their common trigrams match most rows).
SIMILARITY_THRESHOLD = 0.2
SIMILAR_WORDS = 4
SIMILAR_CANDIDATES = 100
# One lexeme of a tsvector's text form, with its positions and weights ('word':1A,4A).
_LEXEME = re.compile(r"'((?:[^']|'')+)':([0-9A-D,]+)")

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
# Every reader page is made of what the change stamp covers (claims.freshness):
# a conditional GET costs one primary-key read, before anything is built.


list_condition = page_condition("claims-list-3", freshness.page_state)


def _claim_state(request: HttpRequest, slug: str) -> dict | None:
    """None for a draft or no claim: never a 304 for a page that is a 404."""
    return freshness.stamp_state_if(
        "SELECT 1 FROM claims_claim WHERE slug = %s AND published_at IS NOT NULL",
        [slug],
        {"slug": slug},
    )


def _topic_state(request: HttpRequest, slug: str) -> dict | None:
    return freshness.stamp_state_if(
        "SELECT 1 FROM claims_topic WHERE slug = %s", [slug], {"slug": slug}
    )


def _status_state(request: HttpRequest, status: str) -> dict | None:
    return freshness.stamp_state({"status": status}) if status in BY_VALUE else None


# --- Shared helpers ----------------------------------------------------------


# A list's page ends where the next begins: `?after=<date>_<published µs>_<id>`, the
# sort key of the last claim shown. Each page is one index range scan
# (claims.models.LIST_ORDER), however deep; no page counts the table.
_AFTER = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})_(-?[0-9]{1,18})_([0-9]{1,18})")
_AFTER_SQL = (
    "(COALESCE(claims_claim.claim_date, %s::date), claims_claim.published_at, claims_claim.id)"
    " < (%s::date, %s, %s)"
)
# Totals past this are shown as "more than": counting further is what made pages slow.
COUNT_CAP = 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Full-text search ranks at most this many matches (the first the index yields).
SEARCH_CANDIDATES = 500


def _newest_first(queryset: QuerySet) -> QuerySet:
    return queryset.order_by(*LIST_ORDER)


def _after(request: HttpRequest) -> tuple[date, datetime, int] | None:
    """The `after` cursor; one that is not one gives the first page, never an error."""
    match = _AFTER.fullmatch(request.GET.get("after", "").strip())
    if match is None:
        return None
    try:
        published = _EPOCH + timedelta(microseconds=int(match[2]))
        return date.fromisoformat(match[1]), published, int(match[3])
    except (ValueError, OverflowError):
        return None


def _cursor(claim: Claim) -> str:
    assert claim.published_at is not None  # noqa: S101 - lists show published claims
    day = claim.claim_date or UNDATED
    stamp = claim.published_at
    micros = (stamp - _EPOCH) // timedelta(microseconds=1)
    return f"{day.isoformat()}_{micros}_{claim.pk}"


@dataclass
class KeysetPage:
    """A page of a list in LIST_ORDER, with the cursor of the next one."""

    object_list: list
    next_after: str | None
    is_first: bool
    count: int | None = None
    count_capped: bool = False

    def __iter__(self):
        return iter(self.object_list)


def keyset_page(request: HttpRequest, queryset: QuerySet, total: int | None = None) -> KeysetPage:
    """A page of claims newest first, and how many there are: `total` when known
    (the triggers' counters), else counted up to COUNT_CAP."""
    after = _after(request)
    ordered = _newest_first(queryset)
    if after is not None:
        day, published, pk = after
        ordered = ordered.extra(where=[_AFTER_SQL], params=[UNDATED, day, published, pk])
    rows = list(ordered[: PER_PAGE + 1])
    next_after = _cursor(rows[PER_PAGE - 1]) if len(rows) > PER_PAGE else None
    page = KeysetPage(rows[:PER_PAGE], next_after, is_first=after is None)
    if total is None:
        counted = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
        page.count, page.count_capped = min(counted, COUNT_CAP), counted > COUNT_CAP
    else:
        page.count = total
    return page


def _paginate(request: HttpRequest, queryset: QuerySet) -> Page:
    """A page of ranked search results (a capped set: its pages are few);
    a page number that is not a number or out of range gives the first or the last."""
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
    "quantity_qualifier": "How exact",
    "short_form": "Short form",
    "media_authenticity": "Media authenticity",
    "media_type": "Media",
    "media_url": "Media address",
    "media_archive_url": "Archived copy of the media",
    "media_original_url": "Media first posted at",
    "media_context": "Where the media first appeared",
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
        elif name == "media_type":
            before, after = _choice_words(MediaType, before), _choice_words(MediaType, after)
        elif name == "quantity_qualifier":
            before = QuantityQualifier(before or "").label
            after = QuantityQualifier(after or "").label
        elif name == "unit":
            before, after = _unit_words(before), _unit_words(after)
        elif name == "quantity":
            before = _quantity_words(before, unit_before)
            after = _quantity_words(after, unit_after)
        else:
            before = str(before) if before not in (None, "") else NOTHING
            after = str(after) if after not in (None, "") else NOTHING
        words.append(Change(label, before, after))
    return words


def _unit_words(code: str | None) -> str:
    unit = unit_of(code or "")
    return f"{unit.plural} ({unit.code})" if unit else (code or NOTHING)


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
    # Served by claim_reviewed_order_idx and claim_status_reviewed_idx.
    latest_first = (F("status_changed_at").desc(nulls_last=True), "-pk")
    verdicts = list(published.rated().order_by(*latest_first)[:HOME_LIST_SIZE])
    in_review = list(published.filter(status="in_review").order_by(*latest_first)[:HOME_LIST_SIZE])
    # The triggers' counters (claims.freshness): never a count over every claim.
    counts = freshness.counts("status")
    status_counts = [(rating, counts.get(rating.value, 0)) for rating in RATINGS]
    topics = list(_topics_with_counts(only_used=True))
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


def _topics_with_counts(*, only_used: bool) -> RawQuerySet[Topic]:
    """Topics by name, each with `claim_count`, its published claims (a counter)."""
    used = "WHERE coalesce(c.n, 0) > 0" if only_used else ""
    return Topic.objects.raw(
        "SELECT t.*, coalesce(c.n, 0) AS claim_count FROM claims_topic t"  # noqa: S608 - constant
        " LEFT JOIN claims_published_count c ON c.scope = 'topic' AND c.key = t.id::text"
        f" {used} ORDER BY t.name"
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
    speaker_q: str = ""
    source_q: str = ""
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
                self.speaker_q,
                self.source_q,
            )
        )

    @property
    def narrowing(self) -> int:
        """How many filters besides the words are in force: the list's filter menus
        open when one is, so the reader sees what narrowed the list. Words alone (the
        header's search) leave them closed, out of the way on a phone."""
        return sum(
            bool(value)
            for value in (
                self.status,
                self.speaker,
                self.topic,
                self.kind,
                self.source,
                self.date_from,
                self.date_to,
                self.speaker_q,
                self.source_q,
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


def _words(params, name: str) -> str:
    return " ".join(params.get(name, "").split())[:200]


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
        q=_words(params, "q"),
        speaker_q=_words(params, "speaker_q"),
        source_q=_words(params, "source_q"),
        notes=notes,
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        notes.append("The “from” date is after the “to” date, so no claim can match.")
    return filters


# The filter menus list this many speakers and sources, those with the most published
# claims; the others are found by typing (speaker_q, source_q).
FILTER_MENU_SIZE = 20

# One IN over a UNION, not `id IN (...) OR slug = ...`: the OR kept the planner from
# either index and read every speaker or source (34 ms over 50,000 sources).
_TOP_OR_CHOSEN = (
    "{table}.id IN (SELECT key::bigint FROM (SELECT key FROM claims_published_count"
    " WHERE scope = %s AND n > 0 ORDER BY n DESC, key LIMIT %s) top"
    " UNION ALL SELECT chosen.id FROM {table} chosen WHERE chosen.slug = %s)"
)


def _filter_options(params) -> dict:
    """The menus: the speakers and sources with the most published claims (the
    triggers' counters), plus the one a filter names, and every topic with
    published claims. One query each, whatever the number of speakers and sources."""
    speakers = dict(
        Speaker.objects.extra(
            where=[_TOP_OR_CHOSEN.format(table="claims_speaker")],
            params=["speaker", FILTER_MENU_SIZE, params.get("speaker", "").strip()],
        )
        .order_by("name", "pk")
        .values_list("slug", "name")
    )
    topics = {topic.slug: topic.name for topic in _topics_with_counts(only_used=True)}
    sources = dict(
        Source.objects.extra(
            where=[_TOP_OR_CHOSEN.format(table="sources_source")],
            params=["source", FILTER_MENU_SIZE, params.get("source", "").strip()],
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
    if filters.speaker_q:
        named = Speaker.objects.filter(
            Q(name__icontains=filters.speaker_q) | Q(slug=filters.speaker_q)
        )
        queryset = queryset.filter(speaker__in=named.values("pk"))
    if filters.topic:
        queryset = queryset.filter(topics__slug=filters.topic)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.source:
        queryset = queryset.filter(
            Exists(Appearance.objects.filter(claim=OuterRef("pk"), source__slug=filters.source))
        )
    if filters.source_q:
        named_sources = Source.objects.filter(
            Q(title__icontains=filters.source_q) | Q(slug=filters.source_q)
        )
        queryset = queryset.filter(
            Exists(
                Appearance.objects.filter(
                    claim=OuterRef("pk"), source__in=named_sources.values("pk")
                )
            )
        )
    if filters.date_from:
        queryset = queryset.filter(claim_date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(claim_date__lte=filters.date_to)
    return queryset


def _only_status(filters: ClaimFilters) -> bool:
    """Whether the list is all published claims, or those of one status: counted by triggers."""
    return not any(
        (
            filters.speaker,
            filters.speaker_q,
            filters.topic,
            filters.kind,
            filters.source,
            filters.source_q,
            filters.date_from,
            filters.date_to,
            filters.q,
        )
    )


@require_safe
@list_condition
def claim_list(request: HttpRequest) -> HttpResponse:
    options = _filter_options(request.GET)
    filters = _clean_filters(request.GET, options)
    queryset = _apply_filters(Claim.objects.published().select_related("speaker"), filters)
    page: Page | KeysetPage
    count: int | None
    if filters.q:
        page = _paginate(request, search_claims_capped(queryset, filters.q, SEARCH_CANDIDATES))
        for claim in page.object_list:
            claim.snippet = highlight(claim.headline)
            quoted = highlight(claim.quoted_headline or "")
            claim.quoted_snippet = quoted if "<mark>" in quoted else ""
        count, capped = page.paginator.count, page.paginator.count >= SEARCH_CANDIDATES
    else:
        total: int | None = None
        if _only_status(filters):
            counts = freshness.counts("status")
            total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
        page = keyset_page(request, queryset, total)
        count, capped = page.count, page.count_capped
    return render(
        request,
        "claims/claim_list.html",
        {
            "page_obj": page,
            "count": count,
            "count_capped": capped,
            "filters": filters,
            "options": options,
            "statuses": RATINGS,
            "kinds": Claim.Kind.choices,
            "search_text": filters.q,
        },
    )


# --- A claim's page ----------------------------------------------------------


# A claim's version is 1 before its first ledger entry and each entry adds one
# (claims.ledger.entries): an entry's place in its claim's record is its version less this.
FIRST_CLAIM_VERSION = 1


@require_safe
@page_condition("claim-4", _claim_state)
def claim_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        claim = Claim.objects.published().public_detail().get(slug=slug)
    except Claim.DoesNotExist:
        return _withdrawn_or_missing(request, slug)
    rating = get_rating(claim.status)
    history = list(claim.reviews.all())  # newest first (public_detail)
    for entry in history:
        entry.entry_number = entry.claim_version - FIRST_CLAIM_VERSION
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
    similar = _similar_claims(claim)
    markup = build_claim_review(claim, request)
    media_review = (
        build_media_review(claim, markup, request) if markup and has_media_review(claim) else None
    )
    appearances = list(claim.appearances.all())
    topics = list(claim.topics.all())
    in_time = reader_chain(claim)  # this claim in time (claims.timeline): one query
    cdn.tag(
        request,
        cdn.claim_page_keys(
            claim=claim,
            topics=topics,
            appearances=appearances,
            sources=evidence,
            linked_claims=[*similar, *(in_time.claims if in_time else [])],
        ),
    )
    # Who published it on this page: the latest publication (a claim may be
    # withdrawn and published again).
    publication = next((e for e in history if e.action == Review.Action.PUBLISH), None)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "rating": rating,
            "latest_verdict": latest_verdict,
            "publication": publication,
            "quoted": [appearance for appearance in appearances if appearance.quote_id],
            "evidence": evidence,
            "appearances": appearances,
            # Where it was repeated since its verdict: from the appearances and ledger above.
            "came_back": came_back(appearances, history),
            "topics": topics,
            "history": history,
            "corrections": claim_corrections,
            "corrected_since_verdict": corrected_since_verdict,
            "withdrawal": withdrawal,
            "similar": similar,
            "in_time": in_time,
            "external_reviews": list(claim.external_reviews.all()),
            "claim_review": json_ld_script(markup) if markup else "",
            "media_review": json_ld_script(media_review) if media_review else "",
        },
    )


def _withdrawn_or_missing(request: HttpRequest, slug: str) -> HttpResponse:
    """410 for a claim readers could read until an editor unpublished it, saying when
    and why (the unpublish entry's explanation); 404 for a claim never published, or none.

    One query: the latest unpublish entry of a claim by that slug that is not published
    now (a claim published again is answered by the page itself)."""
    withdrawal = (
        Review.objects.filter(
            claim__slug=slug,
            claim__published_at__isnull=True,
            action=Review.Action.UNPUBLISH,
        )
        # The desk's internal note is never shown; the claim_content is not needed.
        .only("sequence", "created_at", "explanation")
        .order_by("-sequence")
        .first()
    )
    if withdrawal is None:
        raise Http404("No such claim.")
    return render(request, "claims/claim_withdrawn.html", {"withdrawal": withdrawal}, status=410)


def _similar_words(claim: Claim) -> SearchQuery | None:
    """A query for statements sharing two of the claim's rarest words (weight A:
    the statement's part of the search vector; the one, when only one is rare enough
    to tell: MOST_CLAIMS_PER_WORD), or None when it has none."""
    lexemes = {
        match[1]
        for match in _LEXEME.finditer(claim.search_vector or "")
        if any(position.endswith("A") for position in match[2].split(","))
    }
    held_by = lexeme_counts()
    telling = [word for word in lexemes if held_by.get(word, 0.0) <= MOST_CLAIMS_PER_WORD]
    rarest = sorted(telling, key=lambda word: (held_by.get(word, 0.0), -len(word), word))
    if not rarest:
        return None
    # Quotes are doubled in the vector too.
    terms = [f"'{word}':A" for word in rarest[:SIMILAR_WORDS]]
    pairs = [f"({a} & {b})" for i, a in enumerate(terms) for b in terms[i + 1 :]]
    # The lexemes are normalised already: 'simple' leaves them as they are.
    return SearchQuery(" | ".join(pairs or terms), config="simple", search_type="raw")


def _similar_claims(claim: Claim) -> list[Claim]:
    words = _similar_words(claim)
    if words is None:
        return []
    # Each candidate is scored as the full-text lookup reads its row; only the best
    # few are read again, with their speakers. (Ranked in a second query, 200
    # candidates meant 200 scattered row reads at a million claims; given as a
    # subquery, the planner scored every claim of a small table first.)
    scored = (
        Claim.objects.published()
        .exclude(pk=claim.pk)
        .filter(search_vector=words)
        .order_by()
        .annotate(similarity=TrigramSimilarity("statement", claim.statement))
        .values_list("similarity", "pk")[:SIMILAR_CANDIDATES]
    )
    best = sorted((row for row in scored if row[0] > SIMILARITY_THRESHOLD), reverse=True)[
        :SIMILAR_LIMIT
    ]
    if not best:
        return []
    found = Claim.objects.select_related("speaker").in_bulk([pk for _, pk in best])
    similar = []
    for similarity, pk in best:
        found[pk].similarity = similarity  # type: ignore[attr-defined]
        similar.append(found[pk])
    return similar


# --- Topics and statuses -----------------------------------------------------


@require_safe
@list_condition
def topic_list(request: HttpRequest) -> HttpResponse:
    topics = _topics_with_counts(only_used=False)
    return render(request, "claims/topic_list.html", {"topics": list(topics)})


@require_safe
@page_condition("topic-3", _topic_state)
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topics = list(_topics_with_counts(only_used=False))
    topic = next((topic for topic in topics if topic.slug == slug), None)
    if topic is None:
        raise Http404("No such topic.")
    cdn.tag(request, [cdn.topic_key(topic.pk)])
    # Walks the list's order index, keeping the claims linked to the topic.
    linked = Claim.topics.through.objects.filter(claim=OuterRef("pk"), topic=topic.pk)
    claims = Claim.objects.published().filter(Exists(linked)).select_related("speaker")
    return render(
        request,
        "claims/topic_detail.html",
        # claim_count: a column of the raw query, not of the model.
        {"topic": topic, "page_obj": keyset_page(request, claims, topic.claim_count)},  # type: ignore[attr-defined]
    )


@require_safe
@page_condition("status-3", _status_state)
def status_detail(request: HttpRequest, status: str) -> HttpResponse:
    rating = BY_VALUE.get(status)
    if rating is None:
        raise Http404("No such status.")
    claims = Claim.objects.published().filter(status=rating.value).select_related("speaker")
    total = freshness.counts("status").get(rating.value, 0)
    return render(
        request,
        "claims/status_detail.html",
        {"rating": rating, "page_obj": keyset_page(request, claims, total), "statuses": RATINGS},
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
    return {**freshness.page_state(request), "before": before}


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
