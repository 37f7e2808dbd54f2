"""Readers' tips, and the one rule that groups them.

A tip joins the open group (status "new") whose words match its own, or opens a
new group. Words are compared after `normalize`: case folded, accents and other
marks removed, punctuation dropped, whitespace collapsed, so "Crime is UP 50%!"
and "crime is up 50 %" are one wording. A group also takes tips whose normalized
words are close to its own by pg_trgm's trigram similarity, at or above
SIMILARITY_THRESHOLD, found through the GIN trigram index on the group's
normalized words (the `%` operator, under that threshold). Trigrams cannot tell
"rose to 5%" from "rose to 7%", nor "cause" from "do not cause", so a group takes a
tip only when both state the same numbers and both, or neither, deny (`_guard`).
The closest such open group wins; ties go to the most recent.

Intake is serialized by a transaction-level advisory lock, so two readers sending
the same claim at the same moment land in one group; the partial unique index on
an open group's normalized words (its MD5) refuses a second open group of the
same wording whoever writes it.

The desk handles a group: accept (optionally with the claim it became) or
dismiss. A handled group takes no more tips: the next reader to send those words
opens a new group, so the desk sees that readers still ask.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from claims.claimreview import absolute_url, claim_url
from claims.models import Claim, Tip, TipGroup, TipStatus

logger = logging.getLogger(__name__)

# pg_trgm similarity at or above which a tip may join an open group. Measured on
# normalized rewordings of one claim: case, accents and punctuation aside they score
# 1; a word added or dropped 0.8 to 0.85; the sentence turned around ("Nicolás Maduro
# has a $50 million bounty on his head!" / "There is a $50 million bounty on
# Maduro's head.") 0.54 to 0.6; claims on other subjects 0.1 to 0.35. Claims that
# differ in one or two words of a short sentence score 0.55 to 0.75 ("Maduro stole
# the election" / "Maduro won the election fairly", "raised taxes" / "cut taxes"),
# so they can share a group: the desk reads each tip's own words before acting.
SIMILARITY_THRESHOLD = 0.5
# The closest open groups looked at, before the numbers and negations are compared.
CANDIDATES = 10
# The closest open groups, through the partial GIN trigram index on their words.
MATCH_SQL = """
    SELECT id, normalized FROM claims_tipgroup
     WHERE status = %s AND normalized %% %s
     ORDER BY similarity(normalized, %s) DESC, last_received_at DESC, id DESC
     LIMIT %s
"""
# pg_advisory_xact_lock key serializing tip intake (the ledger's is 7_301_451_620).
INTAKE_LOCK_KEY = 7_301_451_621

# Apostrophes join their word ("don't" is "dont"); other punctuation separates words.
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´"), None)
_SPACES = re.compile(r"\s+")
_NUMBERS = re.compile(r"\d+")
# English, as the desk's search is (migration 0005); after normalize() ("don't" is "dont").
NEGATIONS = frozenset(
    [
        "no",
        "not",
        "never",
        "none",
        "nothing",
        "nobody",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "hasnt",
        "havent",
        "hadnt",
    ]
)


def fold_accents(text: str) -> str:
    """`text` with accents and other marks removed, letters kept ("millón" is "millon").
    The one way tips, the repeat monitor and claim detection fold accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.category(char).startswith("M"))


def normalize(text: str) -> str:
    """The words of a tip as tips are matched: case folded, accents and marks removed,
    punctuation as spaces, runs of whitespace as one space."""
    folded = fold_accents(text.translate(_APOSTROPHES).casefold())
    kept = [" " if unicodedata.category(char).startswith(("P", "C")) else char for char in folded]
    return _SPACES.sub(" ", "".join(kept)).strip()


def _guard(normalized: str) -> tuple[tuple[str, ...], bool]:
    """What trigrams miss: the numbers a tip states, and whether it denies."""
    words = normalized.split()
    return tuple(sorted(_NUMBERS.findall(normalized))), any(w in NEGATIONS for w in words)


def receive_tip(text: str, where_seen: str = "", email: str = "") -> Tip:
    """Store a reader's tip in its group, opening one when no open group matches."""
    text = text.strip()
    normalized = normalize(text) or text
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INTAKE_LOCK_KEY])
            # SET LOCAL: the threshold of the `%` operator for this transaction only.
            cursor.execute(
                "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                [str(SIMILARITY_THRESHOLD)],
            )
            cursor.execute(MATCH_SQL, [TipStatus.NEW, normalized, normalized, CANDIDATES])
            guard = _guard(normalized)
            row = next((row for row in cursor.fetchall() if _guard(row[1]) == guard), None)
        if row is None:
            group = TipGroup.objects.create(
                text=text, normalized=normalized, first_received_at=now, last_received_at=now
            )
        else:
            group = TipGroup(pk=row[0])
            TipGroup.objects.filter(pk=group.pk).update(
                tip_count=F("tip_count") + 1, last_received_at=now
            )
        return Tip.objects.create(
            group=group, text=text, where_seen=where_seen.strip(), email=email, received_at=now
        )


def handle(groups, status: str, user, claim: Claim | None = None) -> int:
    """Mark open groups accepted or dismissed by `user`; returns how many changed.
    A group already handled keeps its first handling."""
    if status not in (TipStatus.ACCEPTED, TipStatus.DISMISSED):
        raise ValueError(f"{status!r} is not a handling of a tip")
    if claim is not None and status != TipStatus.ACCEPTED:
        raise ValueError("Only an accepted tip links to a claim.")
    handled = list(groups.filter(status=TipStatus.NEW).values_list("pk", flat=True))
    changed = TipGroup.objects.filter(pk__in=handled, status=TipStatus.NEW).update(
        status=status, claim=claim, handled_by=user, handled_at=timezone.now()
    )
    reply_after_commit(handled)
    return changed


def reply_after_commit(group_ids: list[int]) -> None:
    """Tell the readers of these just-handled groups what the desk did, once the
    handling is committed (a rolled-back handling tells nobody anything)."""
    if group_ids:
        transaction.on_commit(lambda: reply_to_readers(group_ids))


def reply_to_readers(group_ids: list[int]) -> tuple[int, int]:
    """Write to every reader of these handled groups who left an address, then erase
    the address: it was given for this one answer. Returns (sent, failed); an address
    whose message could not be sent is kept, to try again (the retention still ends
    it: forget_emails)."""
    waiting = list(
        Tip.objects.filter(group__in=group_ids, group__status__in=HANDLED)
        .exclude(email="")
        .select_related("group__claim")
    )
    sent: list[int] = []
    failed = 0
    for tip in waiting:
        try:
            send_mail(*_reply(tip), from_email=None, recipient_list=[tip.email])
        except (OSError, SMTPException):
            logger.exception("Could not write to the reader of tip %s", tip.pk)
            failed += 1
        else:
            sent.append(tip.pk)
    Tip.objects.filter(pk__in=sent).update(email="")
    return len(sent), failed


HANDLED = (TipStatus.ACCEPTED, TipStatus.DISMISSED)


def _reply(tip: Tip) -> tuple[str, str]:
    """The subject and text of the answer to one tip."""
    group = tip.group
    publisher = settings.PUBLISHER_NAME
    asked = f"You asked us to check: “{Truncator(tip.text).chars(200)}”"
    if group.status == TipStatus.ACCEPTED:
        claim = group.claim
        if claim is not None and claim.is_published:
            where = f"Our fact-check is here: {claim_url(claim)}"
        else:
            where = (
                f"When our fact-check is published, it will be listed at {absolute_url('/claims/')}"
            )
        body = f"{asked}\n\nOur desk is checking this claim. {where}\n"
        subject = f"{publisher}: we are checking the claim you sent"
    else:
        body = (
            f"{asked}\n\nOur desk read it and will not check it: we cannot check every claim, "
            "and choose those we can verify with evidence and that reach the most readers. "
            f"How we choose: {absolute_url(reverse('site:methodology'))}\n"
        )
        subject = f"{publisher}: about the claim you sent"
    body += (
        "\nThank you for writing to us. We used your address only for this answer and "
        "have now erased it.\n"
    )
    return subject, body


def forget_emails(*, now: datetime | None = None) -> int:
    """Erase the email address of every tip older than TIP_EMAIL_RETENTION_DAYS; returns
    how many were erased. The tip's words stay: only the means of reaching the reader
    goes, as the suggest form promises."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TIP_EMAIL_RETENTION_DAYS)
    return Tip.objects.filter(received_at__lt=cutoff).exclude(email="").update(email="")
