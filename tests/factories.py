"""Test data, built the way the desk builds it (factory_boy).

Rows the desk types in (speakers, topics, sources, claims, accounts) are saved
directly. Everything the project's rules own goes through `claims.services`,
as it does in the running project: a quote is anchored by `anchor_quote` (the
database refuses a quote whose words are not at its offsets), an appearance is
recorded by `add_appearance`, and the ledger is written only by
`publish_claim`, `record_review` and `correct_claim` (PublicationFactory,
VerdictFactory, CorrectionFactory, and ClaimFactory's `published` and
`verdict`).

Values come from sequences, never from chance, and the sequences start again
for every test (`reset_sequences`, called by the conftest): a test's data does
not depend on which tests ran before it. What a test asserts about, it passes
in.
"""

from __future__ import annotations

from typing import Any

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.text import slugify

from claims import roles
from claims.models import Appearance, Claim, CorrectionClass, Quote, Review, Speaker, Topic
from claims.services import (
    add_appearance,
    anchor_quote,
    correct_claim,
    publish_claim,
    record_review,
)
from sources.models import Source

# What a verdict says when the test does not care.
EXPLANATION = "Checked against the record."


# --- accounts -----------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    """An account outside the desk (no staff access, no group), password "pw"."""

    class Meta:
        model = settings.AUTH_USER_MODEL
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")
    password = "pw"
    is_staff = False

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any):
        return model_class._default_manager.create_user(*args, **kwargs)


def _joins(group: str) -> factory.PostGeneration:
    def join(user, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            # A transactional test flushes every table, the migrations' groups included.
            roles.sync_roles()
            user.groups.add(Group.objects.get(name=group))

    return factory.PostGeneration(join)


class EditorFactory(UserFactory):
    """A member of the desk in the Editors group: records verdicts, publishes, corrects."""

    username = factory.Sequence(lambda n: f"editor-{n}")
    is_staff = True
    group = _joins(roles.EDITORS)


class ContributorFactory(UserFactory):
    """A member of the desk in the Contributors group: enters claims, quotes, sources."""

    username = factory.Sequence(lambda n: f"contributor-{n}")
    is_staff = True
    group = _joins(roles.CONTRIBUTORS)


SETUP_EDITOR = "setup-editor"


def desk_editor():
    """The editor of set-up steps that are not what the test is about (one per database)."""
    existing = get_user_model().objects.filter(username=SETUP_EDITOR).first()
    return existing or EditorFactory(username=SETUP_EDITOR)


# --- what the desk types in -----------------------------------------------------


class SpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Speaker

    name = factory.Sequence(lambda n: f"Speaker {n}")
    slug = factory.LazyAttribute(lambda speaker: slugify(speaker.name))


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.LazyAttribute(lambda topic: slugify(topic.name))


class SourceFactory(factory.django.DjangoModelFactory):
    """A source with its archived snapshot (by default one sentence naming it).

    `report=True`: a report, titled "Court filing" unless given, as evidence often is.
    """

    class Meta:
        model = Source

    class Params:
        report = factory.Trait(kind=Source.Kind.REPORT, title="Court filing")

    slug = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Source {n}")
    snapshot = factory.LazyAttribute(lambda source: f"{source.title}: the text of {source.slug}.")


class ClaimFactory(factory.django.DjangoModelFactory):
    """A draft claim about an event, by a new speaker, with no ledger entry.

    - `numeric=True`: a number claim (12 million tonnes unless given).
    - `topics=[...]`: its topics.
    - `published=True`: published (publish_claim) by `editor`.
    - `verdict="false"` (any status): then rated (record_review) by `editor`, with
      `explanation` and `evidence`.

    `editor` defaults to desk_editor(). A claim the factory wrote ledger entries
    for is read back from the database, as the desk would see it.
    """

    class Meta:
        model = Claim
        skip_postgeneration_save = True

    class Params:
        numeric = factory.Trait(kind=Claim.Kind.NUMERIC, quantity=12_000_000, unit="t")
        published = False
        verdict = None
        editor = None
        explanation = EXPLANATION
        evidence = ()

    slug = factory.Sequence(lambda n: f"made-up-claim-{n}")
    statement = factory.Sequence(lambda n: f"Made-up claim number {n} happened.")
    speaker = factory.SubFactory(SpeakerFactory)
    kind = Claim.Kind.EVENT

    @factory.post_generation
    def topics(claim, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            claim.topics.set(extracted)

    # After the topics, in this order: its publication, then its verdict.
    publication = factory.Maybe(
        "published",
        yes_declaration=factory.RelatedFactory(
            "tests.factories.PublicationFactory",
            factory_related_name="claim",
            editor=factory.LazyAttribute(lambda o: o.factory_parent.editor or desk_editor()),
        ),
    )
    rating = factory.Maybe(
        "verdict",
        yes_declaration=factory.RelatedFactory(
            "tests.factories.VerdictFactory",
            factory_related_name="claim",
            editor=factory.LazyAttribute(lambda o: o.factory_parent.editor or desk_editor()),
            status=factory.SelfAttribute("..verdict"),
            explanation=factory.SelfAttribute("..explanation"),
            evidence=factory.SelfAttribute("..evidence"),
        ),
    )

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results and (results.get("publication") or results.get("rating")):
            instance.refresh_from_db()


class QuoteFactory(factory.django.DjangoModelFactory):
    """Words of a source's snapshot, anchored by `anchor_quote` (never by hand).

    `words` are looked up in the snapshot as an editor types them (the whole
    snapshot unless given); `context_before` picks among repeated words. The
    same words anchored twice are the same quote.
    """

    class Meta:
        model = Quote

    source = factory.SubFactory(SourceFactory)
    speaker = factory.SubFactory(SpeakerFactory)
    words = factory.LazyAttribute(lambda quote: quote.source.snapshot.strip())
    kind = Quote.Kind.DIRECT
    context_before = ""

    @classmethod
    def _build(cls, model_class, *args: Any, **kwargs: Any):
        raise TypeError("A quote's anchor is found in its source's snapshot: create it.")

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any) -> Quote:
        quote, _ = anchor_quote(**kwargs)
        return quote


class AppearanceFactory(factory.django.DjangoModelFactory):
    """A claim appearing in a source (the quote's, when a quote is given), by `add_appearance`."""

    class Meta:
        model = Appearance

    claim = factory.SubFactory(ClaimFactory)
    quote = None
    source = factory.Maybe(
        "quote",
        yes_declaration=factory.SelfAttribute("quote.source"),
        no_declaration=factory.SubFactory(SourceFactory),
    )

    @classmethod
    def _build(cls, model_class, *args: Any, **kwargs: Any):
        raise TypeError("Appearances are recorded by add_appearance: create them.")

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any) -> Appearance:
        appearance, _ = add_appearance(**kwargs)
        return appearance


# --- the ledger: written only through the services --------------------------------


def _claim_lookup(claim: Claim | str) -> dict[str, Any]:
    return {"slug": claim} if isinstance(claim, str) else {"pk": claim.pk}


def _current_version(entry) -> int:
    """The claim's version in the database: what an editor who just loaded it would send."""
    return Claim.objects.values_list("version", flat=True).get(**_claim_lookup(entry.claim))


class _LedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review
        abstract = True

    claim = factory.SubFactory(ClaimFactory)
    editor = factory.LazyFunction(desk_editor)
    expected_version = factory.LazyAttribute(_current_version)

    @classmethod
    def _build(cls, model_class, *args: Any, **kwargs: Any):
        raise TypeError("Ledger entries are written by claims.services: create them.")


class PublicationFactory(_LedgerEntryFactory):
    """The claim published by `editor` (publish_claim); the ledger entry it wrote."""

    note = ""

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any) -> Review:
        return publish_claim(**kwargs)


class VerdictFactory(_LedgerEntryFactory):
    """A verdict (or workflow status) recorded by `editor` (record_review).

    The claim object passed in is updated as the service updates it;
    `expected_version` defaults to the claim's version in the database.
    """

    status = "false"
    explanation = EXPLANATION
    evidence = ()
    note = ""

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any) -> Review:
        kwargs["evidence"] = list(kwargs["evidence"])
        return record_review(**kwargs)


class CorrectionFactory(_LedgerEntryFactory):
    """A correction of a published or rated claim's checkable fields (correct_claim).

    `claim` may be a slug. The claim is read afresh from the database, so the
    object passed in keeps what it was; `changes` maps fields to new values. A new
    statement keeps the claim's short form unless `changes` gives one, as the
    admin's correction form sends the short form the editor saw.
    """

    correction_class = CorrectionClass.CLARIFICATION
    reason = "Set up by the test."
    changes = factory.Dict({})
    note = ""

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any) -> Review:
        current = Claim.objects.get(**_claim_lookup(kwargs.pop("claim")))
        if "statement" in kwargs["changes"] and current.short_form:
            kwargs["changes"] = {"short_form": current.short_form, **kwargs["changes"]}
        return correct_claim(claim=current, **kwargs)


def reset_sequences() -> None:
    """Start every factory's sequence again (its subclasses share its counter)."""
    for base in (
        UserFactory,
        SpeakerFactory,
        TopicFactory,
        SourceFactory,
        ClaimFactory,
        QuoteFactory,
        AppearanceFactory,
    ):
        base.reset_sequence()


def older_bounty(millions: int, *, holds_as_of, verdict: str, speaker, editor) -> Claim:
    """An earlier figure of the seeds' bounty on Maduro ($15M, $25M), published and
    rated, for the claims-in-time chain that ends at the seed's $50 million."""
    return ClaimFactory(
        slug=f"us-{millions}-million-bounty-on-maduro",
        statement=f"The United States offers a ${millions} million reward for the arrest of "
        "Nicolás Maduro.",
        short_form=f"US offers ${millions} million reward for Maduro's arrest",
        speaker=speaker,
        kind=Claim.Kind.NUMERIC,
        quantity=millions * 1_000_000,
        unit="USD",
        holds_as_of=holds_as_of,
        published=True,
        verdict=verdict,
        editor=editor,
    )
