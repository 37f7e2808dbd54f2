"""The desk's day, on the admin index: its queues, how long verdicts take, who
holds what, and what the ledger recorded last.

The queues are defined here once (`QUEUES`): the dashboard counts them and the
claim list filters by them (ClaimAdmin's QueueFilter), so a count and the list
it links to never disagree.

Every figure costs the same at a million claims as at a thousand, in five
queries whatever the data:

- the queues' counts, in one statement, each exact up to COUNT_CAP and then
  shown as "1,000+": a count that stops early, walking the indexes on status,
  assignee and creation time, where an exact count would read every open claim;
- the first few claims of each queue, in one statement (UNION ALL of LIMITs);
- the median time to verdict: claims whose status changed in the window (the
  index on status_changed_at), each one's first verdict read from its own
  ledger entries (the index on claim, sequence);
- open claims per member of the desk (the index on assignee);
- the latest ledger entries (the unique index on sequence, read backwards).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import Claim, Review, VerdictProposal
from claims.ratings import VERDICT_STATUSES, WORKFLOW_STATUSES, Status

# Counted exactly up to this many; beyond, the dashboard says "1,000+".
COUNT_CAP = 1000
# Claims listed under each queue's count.
SHOWN = 5
# The median time to verdict covers the claims first rated within this window.
MEDIAN_WINDOW = timedelta(days=90)
# Ledger entries in the latest activity; desk members in the per-editor table.
ACTIVITY_SHOWN = 10
MEMBERS_SHOWN = 20

OPEN_STATUSES = sorted(WORKFLOW_STATUSES)


def now() -> datetime:
    """The dashboard's clock (tests move it instead of back-dating the ledger)."""
    return timezone.now()


def stale_days() -> int:
    return settings.DESK_STALE_DAYS


def open_claims(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Claims the desk still has to rate: their status is a workflow state."""
    return claims.filter(status__in=OPEN_STATUSES)


def stale_claims(claims: QuerySet[Claim], at: datetime) -> QuerySet[Claim]:
    """Open claims with no ledger entry for more than DESK_STALE_DAYS days (counting
    from their creation when they have none)."""
    cutoff = at - timedelta(days=stale_days())
    recent = Review.objects.filter(claim=OuterRef("pk"), created_at__gte=cutoff)
    # Created before the cutoff: a range of the index on created_at, so that the
    # per-claim look into the ledger (its index on claim) is made for old claims only.
    return open_claims(claims).filter(created_at__lt=cutoff).filter(~Exists(recent))


def awaiting_approval(claims: QuerySet[Claim]) -> QuerySet[Claim]:
    """Claims with a verdict proposed and not yet decided (claims.sign_off). Read from
    the proposals' side (few) rather than probing each open claim for one."""
    waiting = VerdictProposal.objects.filter(decision__isnull=True).values("claim_id")
    return claims.filter(pk__in=waiting)


@dataclass(frozen=True)
class Queue:
    key: str
    label: Callable[[], str]
    select: Callable[[QuerySet[Claim], Any, datetime], QuerySet[Claim]]
    # The order of its first few claims: who has waited longest first.
    order: tuple[str, ...] = ("created_at", "pk")
    # Shown as a card on the dashboard (the list's filter offers every queue).
    on_dashboard: bool = True


QUEUES: tuple[Queue, ...] = (
    Queue(
        "unassigned",
        lambda: "Unassigned",
        lambda claims, user, at: open_claims(claims).filter(assignee__isnull=True),
    ),
    Queue(
        "mine",
        lambda: "Assigned to me",
        lambda claims, user, at: open_claims(claims).filter(assignee=user),
    ),
    Queue(
        "in_review",
        lambda: "In review",
        lambda claims, user, at: claims.filter(status=Status.IN_REVIEW),
        order=("status_changed_at", "pk"),
    ),
    Queue(
        "awaiting_approval",
        lambda: "Awaiting a second editor",
        lambda claims, user, at: awaiting_approval(claims),
    ),
    Queue(
        "stale",
        lambda: f"Stale (no ledger entry for {stale_days()}+ days)",
        lambda claims, user, at: stale_claims(claims, at),
    ),
    Queue(
        "open",
        lambda: "Open (not yet rated)",
        lambda claims, user, at: open_claims(claims),
        on_dashboard=False,
    ),
)
BY_KEY = {queue.key: queue for queue in QUEUES}


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5), which takes intervals as well as numbers."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass
class QueueSummary:
    queue: Queue
    count: int
    claims: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.queue.key

    @property
    def label(self) -> str:
        return self.queue.label()

    @property
    def capped(self) -> bool:
        """More than COUNT_CAP: `count` is COUNT_CAP + 1 and is shown as "1,000+"."""
        return self.count > COUNT_CAP

    @property
    def shown_count(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.count:,}"


@dataclass
class Dashboard:
    queues: list[QueueSummary]
    median_to_verdict: timedelta | None
    verdicts_in_window: int
    members: list[Any]
    activity: list[Review]
    stale_days: int
    window_days: int = MEDIAN_WINDOW.days


def dashboard(user, *, at: datetime | None = None) -> Dashboard:
    """Everything the admin index shows the desk, for `user`, in five queries."""
    at = at or now()
    queues = [queue for queue in QUEUES if queue.on_dashboard]
    selected = {queue.key: queue.select(Claim.objects.all(), user, at) for queue in queues}
    counts = _capped_counts(selected)
    firsts = _first_claims(queues, selected)
    median, rated = median_time_to_verdict(at)
    return Dashboard(
        queues=[
            QueueSummary(queue, counts[queue.key], firsts.get(queue.key, [])) for queue in queues
        ],
        median_to_verdict=median,
        verdicts_in_window=rated,
        members=open_claims_per_member(),
        activity=latest_activity(),
        stale_days=stale_days(),
    )


def _capped_counts(querysets: dict[str, QuerySet[Claim]]) -> dict[str, int]:
    """Each queryset's count, up to COUNT_CAP + 1, in one statement."""
    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets.values():
        sql, part_params = queryset.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS capped)")
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def _first_claims(
    queues: list[Queue], querysets: dict[str, QuerySet[Claim]]
) -> dict[str, list[dict[str, Any]]]:
    """The first SHOWN claims of each queue, in one statement."""
    columns = (
        "queue",
        "pk",
        "statement",
        "status",
        "created_at",
        "status_changed_at",
        "assignee__username",
    )
    parts = [
        querysets[queue.key]
        .order_by(*queue.order)
        .annotate(queue=Value(queue.key))
        .values(*columns)[:SHOWN]
        for queue in queues
    ]
    first, *rest = parts
    rows = first.union(*rest, all=True) if rest else first
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["queue"], []).append(row)
    # UNION ALL keeps each part's rows, not necessarily in the part's order.
    for queue in queues:
        found.get(queue.key, []).sort(key=_sort_key(queue.order))
    return found


def _sort_key(order: tuple[str, ...]) -> Callable[[dict[str, Any]], list[tuple[bool, Any]]]:
    def key(row: dict[str, Any]) -> list[tuple[bool, Any]]:
        return [(row[name] is None, row[name]) for name in order]

    return key


def median_time_to_verdict(at: datetime) -> tuple[timedelta | None, int]:
    """The median time from a claim's creation to its first verdict in the ledger, over
    the claims first rated within MEDIAN_WINDOW of `at`, and how many they are.

    A claim first rated in the window had its status changed then or later
    (status_changed_at only moves forward), so the claims whose status changed in the
    window, a range of its index, are the only ones to look at.
    """
    since = at - MEDIAN_WINDOW
    first_verdict = (
        Review.objects.filter(
            claim=OuterRef("pk"),
            action=Review.Action.REVIEW,
            status_after__in=sorted(VERDICT_STATUSES),
        )
        .order_by("sequence")
        .values("created_at")[:1]
    )
    rated = (
        Claim.objects.filter(status_changed_at__gte=since)
        .annotate(first_verdict=Subquery(first_verdict))
        .filter(first_verdict__gte=since, first_verdict__lte=at)
    )
    figures = rated.aggregate(
        median=Median(
            ExpressionWrapper(F("first_verdict") - F("created_at"), output_field=DurationField())
        ),
        claims=Count("pk"),
    )
    return figures["median"], figures["claims"]


def open_claims_per_member() -> list[Any]:
    """The desk's members with how many open claims each holds, most first."""
    held = (
        open_claims(Claim.objects.filter(assignee=OuterRef("pk")))
        .order_by()
        .values("assignee")
        .annotate(n=Count("*"))
        .values("n")
    )
    members = (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .annotate(open_claims=Coalesce(Subquery(held), 0))
        .only("pk", "username", "first_name", "last_name")
        .order_by("-open_claims", "username")
    )
    return list(members[:MEMBERS_SHOWN])


def latest_activity() -> list[Review]:
    """The newest ledger entries, every kind (verdicts, publications, corrections), with
    their claim and editor."""
    return list(
        Review.objects.select_related("claim", "editor")
        .only(
            "sequence",
            "action",
            "status_before",
            "status_after",
            "correction_class",
            "created_at",
            "claim__id",
            "claim__statement",
            "claim__published_at",
            "claim__slug",
            "editor__username",
            "editor__first_name",
            "editor__last_name",
        )
        .order_by("-sequence")[:ACTIVITY_SHOWN]
    )
