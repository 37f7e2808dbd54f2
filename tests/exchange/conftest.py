"""A desk built the way the desk builds it, and an empty database to restore it into.

"Empty" is what `manage.py migrate` leaves: the tables, their content types and
permissions, the roles' groups and the seeded rating words, and nothing of the desk.
The suite's transactional tests reset the database with the owner's flush (the
ledger's guards lifted for it alone, tests/conftest.py); `empty_database` does the
same mid-test, then puts back what the migrations would have created.
"""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pghistory
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token

from claims import roles
from claims.exchange import format as fmt
from claims.models import (
    CandidateSentence,
    Claim,
    CorrectionClass,
    ExternalReview,
    MediaAuthenticity,
    Quote,
    RatingWord,
    RepeatSuggestion,
    Speaker,
    VerdictProposal,
)
from claims.seeding import load_seed_file
from claims.services import assign_claim, unpublish_claim
from claims.sign_off import approve_proposal, propose_verdict, send_back_proposal
from factcheck.db.roles import as_owner
from tests.conftest import SNAPSHOT
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    ContributorFactory,
    CorrectionFactory,
    EditorFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
    TopicFactory,
    UserFactory,
    VerdictFactory,
)

PASSWORD = "a-password-that-must-not-travel"
EMAIL = "ada@desk.example.org"
NUMERIC_SLUG = "port-handled-12-million-tonnes"


def build_desk(*, seeds: bool = False) -> dict[str, object]:
    """A small desk with something of everything the export holds."""
    if seeds:
        load_seed_file(settings.SEEDS_DIR / "ledger.yaml")
    editor = EditorFactory(
        username="ed", first_name="Ada", last_name="Ödön-Lovelace", email=EMAIL, password=PASSWORD
    )
    contributor = ContributorFactory(username="contrib")
    UserFactory(username="reader", email="reader@desk.example.org", is_active=False)
    Token.objects.create(user=editor)

    economy = TopicFactory(name="Économie", slug="economie")
    ports = TopicFactory(name="Ports")
    minister = SpeakerFactory(
        name="Zoë Example",
        slug="zoe-example",
        role="Minister",
        aliases=["Z. Example", "Zoë “the port” Example"],
        description="Line one.\nLine two, with a tab\tand \u2028.",
    )
    critics = SpeakerFactory(name="Harbour Critics", kind=Speaker.Kind.ORGANIZATION)
    article = SourceFactory(
        slug="port-article",
        title="Port article",
        snapshot=SNAPSHOT,
        url="https://news.example.org/port",
        published_on=date(2024, 5, 2),
        outlet="Example News",
    )
    filing = SourceFactory(report=True, snapshot="Court filing: the port handled 9.1 million.")
    direct = QuoteFactory(
        source=article,
        speaker=minister,
        words="12 million tonnes",
        translation="12 millones de toneladas",
        translation_language="es",
    )
    reported = QuoteFactory(
        source=article, speaker=critics, words="That number is wrong.", kind=Quote.Kind.REPORTED
    )

    # Published, rated with evidence, then corrected (a clarification: the verdict stands).
    numeric = ClaimFactory(
        slug=NUMERIC_SLUG,
        statement="The port handled 12 million tonnes last year.",
        speaker=minister,
        numeric=True,
        claim_date=date(2024, 4, 30),
        topics=[economy, ports],
        published=True,
        verdict="false",
        editor=editor,
        explanation="The **filing** says 9.1 million; “12 million” is wrong.",
        evidence=[filing, article],
    )
    AppearanceFactory(claim=numeric, quote=direct)
    AppearanceFactory(claim=numeric, source=filing)
    CorrectionFactory(
        claim=NUMERIC_SLUG,
        editor=editor,
        changes={"statement": "The port handled 12 million tonnes in 2023."},
        reason="The year was named in the speech.",
        note="Checked the video again.",
    )
    # Rated, then a substantive correction withdraws the verdict.
    withdrawn = ClaimFactory(speaker=critics, published=True, verdict="true", editor=editor)
    AppearanceFactory(claim=withdrawn, quote=reported)
    CorrectionFactory(
        claim=withdrawn.slug,
        editor=editor,
        correction_class=CorrectionClass.SUBSTANTIVE,
        changes={"claim_date": date(2024, 1, 2), "speaker": minister},
        reason="Said by the minister, not the critics.",
    )
    # About media; published, then withdrawn from readers.
    media = ClaimFactory(
        kind=Claim.Kind.MEDIA,
        media_authenticity=MediaAuthenticity.EDITED,
        speaker=critics,
        topics=[ports],
        published=True,
        editor=editor,
    )
    unpublish_claim(
        claim=media, editor=editor, expected_version=media.version, explanation="Under review."
    )
    # A draft, assigned; and a draft rated but not published.
    draft = ClaimFactory(statement="A draft nobody has checked.", speaker=minister)
    assign_claim(claim=draft, assignee=contributor, by=editor)
    VerdictFactory(claim=ClaimFactory(speaker=critics), editor=editor, status="mixed")
    # Second-editor sign-off: one verdict approved (its entry names the approver), one
    # sent back with evidence cited, one still pending.
    chief = EditorFactory(username="chief")
    # Claims in time and in their language: an older figure superseded by a newer one,
    # a quote in Spanish with its translation; what the desk was shown about a source.
    newer = ClaimFactory(
        speaker=minister, statement="The bounty is 50 million.", holds_as_of=date(2025, 8, 7)
    )
    ClaimFactory(
        speaker=minister,
        statement="The bounty is 25 million.",
        holds_as_of=date(2025, 1, 10),
        superseded_by=newer,
        language="en",
    )
    spanish = SourceFactory(
        snapshot="El ministro dijo: «El puerto movió 12 millones de toneladas».", language="es"
    )
    in_spanish = QuoteFactory(
        source=spanish, speaker=minister, words="El puerto movió 12 millones de toneladas"
    )
    Quote.objects.filter(pk=in_spanish.pk).update(
        language="es",
        translation="The port moved 12 million tonnes",
        translation_language="en",
    )
    CandidateSentence.objects.create(
        source=article,
        start=0,
        end=40,
        text=SNAPSHOT[:40],
        score=Decimal("0.7500"),
        features=[{"feature": "quantity", "weight": 0.3, "evidence": "12 million tonnes"}],
    )
    RepeatSuggestion.objects.create(
        claim=numeric,
        source=spanish,
        start=0,
        end=20,
        text=spanish.snapshot[:20],
        score=Decimal("0.6"),
    )
    signed = ClaimFactory(speaker=minister, statement="Signed off by a second editor.")
    approve_proposal(proposal=_proposed(signed, editor, "misleading", [filing]), editor=chief)
    sent_back = ClaimFactory(speaker=critics, statement="Sent back once, then pending.")
    send_back_proposal(
        proposal=_proposed(sent_back, chief, "true", [article, filing]),
        editor=editor,
        reason="The filing contradicts it.",
    )
    _proposed(sent_back, chief, "mixed", [filing])

    ExternalReview.objects.create(
        claim=numeric,
        url="https://checker.example.net/port-12",
        publisher_name="Other Checker",
        publisher_site="checker.example.net",
        date_published=date(2024, 5, 3),
        claim_text="Port handled 12 million tonnes",
        claimant="Zoë Example",
        rating_text="Pants on Fire!",
        rating_value=Decimal("1"),
        best_rating=Decimal("5"),
        worst_rating=Decimal("1"),
        language="en",
        appearances=["https://video.example.org/speech", ""],
        extra={"itemReviewed": {"b": [1, 2.5, None], "a": "ü"}, "large": 10**30, "ratio": 0.1},
        imported_from="datafeed:checker.json",
    )
    RatingWord.objects.create(words="Totally bogus!", status="false", note="A house style.")

    # An edit with who and where, as a request through the admin records it.
    with pghistory.context(user=editor.pk, url="/admin/claims/speaker/1/change/"):
        minister.description = "Minister of ports since 2022."
        minister.save()
    LogEntry.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(Claim),
        object_id=str(numeric.pk),
        object_repr=str(numeric)[:200],
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Slug"]}}]',
    )
    return {"editor": editor, "numeric": numeric}


def _proposed(claim: Claim, editor, status: str, evidence: list) -> VerdictProposal:
    return propose_verdict(
        claim=claim,
        editor=editor,
        status=status,
        explanation=f"Proposed as {status}.",
        expected_version=Claim.objects.get(pk=claim.pk).version,
        evidence=evidence,
        note="For a second pair of eyes.",
    )


def empty_database() -> None:
    """Leave the database as `migrate` would: no desk data, the roles' groups and the
    seeded rating words back. (The owner's flush, as between transactional tests.)"""
    with as_owner():
        call_command("flush", interactive=False, verbosity=0)
    roles.sync_roles()
    seeding = importlib.import_module("claims.migrations.0011_external_reviews")
    seeding.add_rating_words(apps, None)


def row_counts() -> dict[str, int]:
    """Rows in every table the export holds (groups and rating words included)."""
    counts = {}
    with connection.cursor() as cursor:
        for section in fmt.SECTIONS:
            if section.table is not None:
                cursor.execute(f'SELECT count(*) FROM "{section.table}"')
                counts[section.name] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def export_path(tmp_path: Path) -> Path:
    return tmp_path / "desk.jsonl"
