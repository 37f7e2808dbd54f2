from __future__ import annotations

from datetime import date, datetime

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import MD5, Coalesce, Length, Lower
from django.utils import timezone

from claims.language_detection import detect, detect_quote
from claims.languages import LANGUAGE_MAX, Language
from claims.quantities import QuantityQualifier, quantity_phrase, unit_of
from claims.ratings import INITIAL_STATUS, VERDICT_STATUSES, WORKFLOW_STATUSES, Status
from claims.roles import is_desk_member

# The text search configuration (English, accents folded) of migration 0005.
SEARCH_CONFIG = "factcheck_english"
# pg_advisory_xact_lock key serialising ledger writers; the chain trigger
# (migration 0002) and factcheck_ledger_locked_tip() (migration 0012) take the same key.
LEDGER_LOCK_KEY = 7_301_451_620


class SpeakerKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANIZATION = "organization", "Organization"
    # Posts, chain messages, viral images: what other fact-checkers name as the
    # claimant when no person or organisation is known.
    OTHER = "other", "Other (posts, messages, unnamed)"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Speaker(models.Model):
    """A person or organisation that says things."""

    Kind = SpeakerKind

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PERSON)
    role = models.CharField(
        max_length=200, blank=True, help_text="Role or title as the sources give it."
    )
    affiliation = models.CharField(max_length=200, blank=True)
    aliases = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Other names the speaker goes by, comma-separated.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # The speaker list, a page at a time by (name, id).
        indexes = [
            models.Index(fields=["name", "id"], name="speaker_name_order_idx"),
            # Importers find a claimant's speaker by name, case aside (claims.imports.load).
            models.Index(Lower("name"), name="speaker_lower_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SpeakerKind.values), name="speaker_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MediaAuthenticity(models.TextChoices):
    """schema.org MediaManipulationRatingEnumeration, for claims about media."""

    ORIGINAL = "OriginalMediaContent", "Original media content"
    DECONTEXTUALIZED = "DecontextualizedContent", "Decontextualized content"
    EDITED = "EditedOrCroppedContent", "Edited or cropped content"
    TRANSFORMED = "TransformedContent", "Transformed content (including synthetic media)"
    STAGED = "StagedContent", "Staged content"
    SATIRE = "SatireOrParodyContent", "Satire or parody"


class MediaType(models.TextChoices):
    """What kind of media a claim about media is about (the schema.org MediaObject)."""

    VIDEO = "video", "Video"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"


class ClaimKind(models.TextChoices):
    NUMERIC = "numeric", "Number or quantity"
    EVENT = "event", "Event"
    ATTRIBUTION = "attribution", "Attribution or accusation"
    DENIAL = "denial", "Denial"
    PREDICTION = "prediction", "Prediction or threat"
    POSITION = "position", "Position or policy"
    CHARACTERIZATION = "characterization", "Characterization"
    MEDIA = "media", "About an image, video or audio"
    # Imported from another fact-checker, not yet classified by the desk.
    UNCLASSIFIED = "unclassified", "Not yet classified"


# ClaimReview's claimReviewed "should stay short (about 75 characters)".
SHORT_FORM_MAX = 75
# A statement is one checkable sentence or two, not an article: the longest in the
# LIAR, PolitiFact and Snopes data sets is under 500 characters.
STATEMENT_MAX = 1000
MEDIA_FIELDS = (
    "media_type",
    "media_url",
    "media_archive_url",
    "media_original_url",
    "media_context",
)

# The reader lists' order: said most recently first, undated claims last, then
# published most recently, then id. The date is one expression (undated as the
# earliest date) so that a keyset page is one row comparison walking an index
# (the `*_order_idx` indexes, migration 0008).
UNDATED = date(1, 1, 1)
LIST_ORDER = (
    Coalesce(models.F("claim_date"), models.Value(UNDATED)).desc(),
    models.F("published_at").desc(),
    models.F("id").desc(),
)
_PUBLISHED = models.Q(published_at__isnull=False)
# The home page's latest verdicts and claims in review.
REVIEWED_ORDER = (models.F("status_changed_at").desc(nulls_last=True), models.F("id").desc())


class ClaimQuerySet(models.QuerySet):
    def published(self):
        """What readers may see: claims an editor has published."""
        return self.filter(published_at__isnull=False)

    def visible_to(self, user):
        """Everything for members of the desk; published claims for everyone else."""
        return self.visible(drafts=is_desk_member(user))

    def visible(self, *, drafts: bool):
        """Published claims, and drafts too when `drafts` (a desk member's view)."""
        return self.all() if drafts else self.published()

    def rated(self):
        """Claims whose current status is a verdict (claims.ratings), not a workflow state."""
        return self.filter(status__in=VERDICT_STATUSES)

    def public_detail(self):
        """Everything a claim's public page, API detail and ClaimReview show, in five
        queries (claim and speaker, topics, appearances, ledger, evidence) whatever
        the number of appearances and ledger entries."""
        return self.select_related("speaker").prefetch_related(
            "topics",
            models.Prefetch(
                "appearances",
                queryset=Appearance.objects.select_related("source", "quote__speaker").order_by(
                    "source__published_on", "created_at", "pk"
                ),
            ),
            models.Prefetch(
                "reviews",
                queryset=Review.objects.select_related("editor", "approved_by")
                .prefetch_related(
                    models.Prefetch(
                        "evidence_links",
                        queryset=ReviewEvidence.objects.select_related("source").order_by(
                            "position"
                        ),
                    )
                )
                .order_by("-sequence"),
            ),
        )

    def drafts(self):
        return self.filter(published_at__isnull=True)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # The search vector is maintained by triggers and is not an edit.
    exclude=["search_vector"],
)
class Claim(models.Model):
    """One checkable statement, worded neutrally by an editor.

    `status`, `version` and `published_at` are the ledger's latest word,
    kept here for fast reads. They change only through the services in
    `claims.services`, which write the ledger entry in the same
    transaction; `version` is what editors send back to prove they saw the
    latest state. A claim is a draft until an editor publishes it.
    """

    Kind = ClaimKind

    statement = models.TextField(
        max_length=STATEMENT_MAX,
        help_text=f"The claim in neutral words, checkable on its own ({STATEMENT_MAX} "
        "characters at most).",
    )
    short_form = models.CharField(
        max_length=SHORT_FORM_MAX,
        blank=True,
        help_text=f"The claim in {SHORT_FORM_MAX} characters or fewer, for ClaimReview "
        "(claimReviewed) and share titles; required when the statement is longer.",
    )
    slug = models.SlugField(max_length=120, unique=True)
    speaker = models.ForeignKey(Speaker, on_delete=models.PROTECT, related_name="claims")
    claim_date = models.DateField(
        null=True, blank=True, help_text="When it was said; empty when the sources do not say."
    )
    language = models.CharField(
        max_length=LANGUAGE_MAX,
        choices=Language.choices,
        blank=True,
        help_text="The language of the statement; detected from it when left blank.",
    )
    # Claims in time: what the claim's figures hold as of, and the newer claim that
    # replaced it (the bounty's $15M, then $25M, then $50M). The older claim and its
    # verdict stay as they were: superseding is not a correction.
    holds_as_of = models.DateField(
        "holds as of",
        null=True,
        blank=True,
        help_text="The date the claim is true or false as of, when it can change over time.",
    )
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supersedes",
        help_text="A newer claim that replaces this one (a new figure, a later state).",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = models.DecimalField(
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="For numeric claims: the number claimed.",
    )
    unit = models.CharField(
        max_length=40,
        blank=True,
        help_text="Unit of the quantity, from the list (claims.quantities): ISO 4217 for "
        "money, UCUM for the rest.",
    )
    quantity_qualifier = models.CharField(
        "how exact",
        max_length=20,
        choices=QuantityQualifier,
        blank=True,
        default=QuantityQualifier.EXACTLY,
        help_text="How the claim holds its number: “nearly seven tons” is 7, nearly.",
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="claims")
    media_authenticity = models.CharField(
        max_length=40,
        choices=MediaAuthenticity,
        blank=True,
        help_text="For claims about an image, video or audio: what the media itself is "
        "(published as a schema.org MediaReview beside the verdict).",
    )
    # The media a claim about media is about (kind "media"): the MediaReview's item.
    media_type = models.CharField(
        max_length=10, choices=MediaType, blank=True, help_text="Video, image or audio."
    )
    media_url = models.URLField(
        "media address",
        max_length=2000,
        blank=True,
        help_text="The media file or post itself, when known.",
    )
    media_archive_url = models.URLField(
        "archived copy", max_length=2000, blank=True, help_text="Where a copy of it is archived."
    )
    media_original_url = models.URLField(
        "first posted at",
        max_length=2000,
        blank=True,
        help_text="Where it was first posted, when known (the original, not a repost).",
    )
    media_context = models.TextField(
        "original context",
        blank=True,
        help_text="Who first posted it, when and what it showed there, for readers.",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=INITIAL_STATUS, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    status_changed_at = models.DateTimeField("last reviewed", null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_claims",
        help_text="The editor or contributor working on it now.",
    )
    # Statement (A), speaker (B) and quoted words (C), kept current by
    # database triggers (migration 0004) so every writer keeps it right.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        permissions = [
            ("publish_claim", "Can publish and unpublish claims"),
            ("assign_claim", "Can assign claims to members of the desk"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="claim_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ClaimKind.values), name="claim_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="numeric") | models.Q(quantity__isnull=False),
                name="claim_numeric_has_quantity",
                violation_error_message="A numeric claim needs its quantity.",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__isnull=True) | ~models.Q(unit=""),
                name="claim_quantity_has_unit",
                violation_error_message="A quantity needs its unit.",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="claim_version_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(statement=""), name="claim_statement_not_empty"
            ),
            models.CheckConstraint(
                condition=models.lookups.LessThanOrEqual(Length("statement"), STATEMENT_MAX),
                name="claim_statement_length",
                violation_error_message=f"A statement is {STATEMENT_MAX} characters at most.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="media")
                | models.Q(
                    media_type="",
                    media_url="",
                    media_archive_url="",
                    media_original_url="",
                    media_context="",
                ),
                name="claim_media_fields_for_media",
                violation_error_message="Only a claim about media describes its media.",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_qualifier="") | models.Q(quantity__isnull=False),
                name="claim_qualifier_has_quantity",
                violation_error_message="Only a quantity has a qualifier.",
            ),
            models.CheckConstraint(
                condition=models.Q(media_authenticity="")
                | models.Q(kind="media", media_authenticity__in=MediaAuthenticity.values),
                name="claim_media_authenticity_for_media",
                violation_error_message="Only a claim about media has a media authenticity rating.",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="claim_status_idx"),
            models.Index(fields=["claim_date"], name="claim_date_idx"),
            models.Index(fields=["updated_at", "id"], name="claim_updated_idx"),
            models.Index(
                fields=["published_at"],
                name="claim_published_idx",
                condition=models.Q(published_at__isnull=False),
            ),
            GinIndex(fields=["search_vector"], name="claim_search_idx"),
            # Similar claims (pg_trgm) on the reader pages.
            GinIndex(
                fields=["statement"], name="claim_statement_trgm_idx", opclasses=["gin_trgm_ops"]
            ),
            models.Index(*LIST_ORDER, name="claim_list_order_idx", condition=_PUBLISHED),
            models.Index(
                models.F("status"), *LIST_ORDER, name="claim_status_order_idx", condition=_PUBLISHED
            ),
            models.Index(
                models.F("speaker"),
                *LIST_ORDER,
                name="claim_speaker_order_idx",
                condition=_PUBLISHED,
            ),
            models.Index(*REVIEWED_ORDER, name="claim_reviewed_order_idx", condition=_PUBLISHED),
            models.Index(
                models.F("status"),
                *REVIEWED_ORDER,
                name="claim_status_reviewed_idx",
                condition=_PUBLISHED,
            ),
            # The admin's claim list, drafts included: its default order (newest
            # added) and "last reviewed", each read forwards or backwards
            # (factcheck.admin_lists.IndexOrderChangeList adds the id tie-break).
            models.Index(fields=["created_at", "id"], name="claim_created_idx"),
            models.Index(fields=["status_changed_at", "id"], name="claim_status_changed_idx"),
        ]

    # What a verdict judges: once a claim is published or carries a verdict,
    # these change only through a correction entry in the ledger
    # (claims.services.correct_claim), and every entry commits to them.
    CHECKABLE_FIELDS = (
        "statement",
        "short_form",
        "speaker",
        "claim_date",
        "kind",
        "quantity",
        "unit",
        "quantity_qualifier",
        "media_authenticity",
        *MEDIA_FIELDS,
    )

    def __str__(self) -> str:
        return self.statement

    def save(self, *args, **kwargs) -> None:
        # Every face that writes a claim's statement saves it here (the admin, the API,
        # the seeds, a claim drafted from a source): one home for the rule that a blank
        # language is detected from the statement. The editor's language is kept; an
        # unsure detection leaves it blank. (The ClaimReview importer COPYs its rows and
        # takes the review's language: claims.imports.load.)
        update_fields = kwargs.get("update_fields")
        if not self.language and (update_fields is None or "statement" in update_fields):
            self.language = detect(self.statement)
            if self.language and update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "language"}
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def short_statement(self) -> str:
        """The claim in few words, for ClaimReview's claimReviewed and share titles: the
        short form, else the statement (short, or recorded before short forms)."""
        return self.short_form or self.statement

    @property
    def quantity_text(self) -> str:
        """The quantity as readers read it ("nearly 7 tonnes"); empty without one."""
        if self.quantity is None:
            return ""
        return quantity_phrase(self.quantity, self.unit, self.quantity_qualifier)

    def clean(self) -> None:
        """The field rules the constraints below enforce, reported on their fields."""
        errors = {}
        if self.kind == ClaimKind.NUMERIC and self.quantity is None:
            errors["quantity"] = "A numeric claim needs its quantity."
        if self.quantity is not None and not self.unit:
            errors["unit"] = "A quantity needs its unit."
        if self.media_authenticity and self.kind != ClaimKind.MEDIA:
            errors["media_authenticity"] = (
                "Only a claim about media (kind “media”) has a media authenticity rating."
            )
        if self.kind != ClaimKind.MEDIA:
            for name in MEDIA_FIELDS:
                if getattr(self, name):
                    errors[name] = "Only a claim about media (kind “media”) describes its media."
        elif self.media_authenticity and not self.media_type:
            errors["media_type"] = (
                "Say what the rated media is (video, image or audio): the MediaReview names it."
            )
        if len(self.statement) > SHORT_FORM_MAX and not self.short_form.strip():
            errors["short_form"] = (
                f"The statement is {len(self.statement)} characters long: give a short form of "
                f"{SHORT_FORM_MAX} or fewer, for ClaimReview and share titles."
            )
        if self.unit and unit_of(self.unit) is None:
            errors["unit"] = f"{self.unit!r} is not a unit of the list; pick one."
        if self.quantity_qualifier and self.quantity is None:
            errors["quantity_qualifier"] = "Only a quantity has a qualifier."
        if errors:
            raise ValidationError(errors)

    @property
    def has_verdict(self) -> bool:
        return self.status not in WORKFLOW_STATUSES

    @property
    def latest_verdict(self) -> Review | None:
        """The ledger entry that set the current verdict, or None when there is none now.

        Reads the claim's ledger as `public_detail()` prefetches it (newest first),
        so a page or a serializer asks for it without a query of its own.
        """
        if not self.has_verdict:
            return None
        return next((e for e in self.reviews.all() if e.action == ReviewAction.REVIEW), None)

    @property
    def is_locked(self) -> bool:
        """Its checkable fields change only through a correction in the ledger."""
        return self.is_published or self.has_verdict

    @property
    def etag(self) -> str:
        """Changes with every ledger entry (version) and every edit (updated_at).

        A verdict form or API client sends back the tag it loaded, so a verdict
        is never recorded against wording it did not see.
        """
        return Claim.etag_of(self.pk, self.version, self.updated_at)

    @staticmethod
    def etag_of(pk: int, version: int, updated_at: datetime) -> str:
        """`etag` from its three parts, for a row read without its model."""
        return f'"claim-{pk}-v{version}-{int(updated_at.timestamp() * 1_000_000)}"'


class QuoteKind(models.TextChoices):
    DIRECT = "direct", "Direct quote"
    REPORTED = "reported", "Reported in the source's words"


class Quote(models.Model):
    """Verbatim words as printed in a source, anchored to its snapshot.

    A direct quote is the speaker's own words as the source quotes them; a
    reported passage is the source's own wording of what the speaker said
    or did. Readers are told which is which.

    The anchor (exact, prefix, suffix, start, end) is computed by
    `claims.services.anchor_quote`, never typed; a database trigger refuses
    any row whose exact text is not at its offsets in the snapshot.
    """

    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="quotes")
    speaker = models.ForeignKey(Speaker, on_delete=models.PROTECT, related_name="quotes")
    Kind = QuoteKind
    kind = models.CharField(max_length=20, choices=QuoteKind, default=QuoteKind.DIRECT)
    exact = models.TextField(help_text="The words exactly as printed in the snapshot.")
    prefix = models.TextField(blank=True)
    suffix = models.TextField(blank=True)
    start = models.PositiveIntegerField(help_text="Offset of the first character (0-based).")
    end = models.PositiveIntegerField(help_text="Offset just past the last character.")
    language = models.CharField(
        max_length=LANGUAGE_MAX,
        choices=Language.choices,
        blank=True,
        help_text="The language of the words as printed; detected when left blank.",
    )
    # The words stay as printed (and anchored); a translation sits beside them.
    translation = models.TextField(
        blank=True, help_text="The words translated for readers, when they are in another language."
    )
    translation_language = models.CharField(
        max_length=LANGUAGE_MAX, choices=Language.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "start"]
        indexes = [
            # Likely duplicates of a claim being entered are looked for among quotes too.
            GinIndex(fields=["exact"], name="quote_exact_trgm_idx", opclasses=["gin_trgm_ops"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="quote_span"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=QuoteKind.values), name="quote_kind_valid"
            ),
            models.UniqueConstraint(fields=["source", "start", "end"], name="quote_span_unique"),
            models.CheckConstraint(
                condition=models.Q(translation="") | ~models.Q(translation_language=""),
                name="quote_translation_language",
                violation_error_message="Say which language the translation is in.",
            ),
        ]

    def __str__(self) -> str:
        return f"“{self.exact}”"

    def save(self, *args, **kwargs) -> None:
        # Every quote is saved here, anchored by the services or by the admin's form:
        # a blank language is detected from the words and the text around them (the
        # editor's is kept; an unsure detection leaves it blank), as Claim.save does.
        update_fields = kwargs.get("update_fields")
        if not self.language and (update_fields is None or "exact" in update_fields):
            self.language = detect_quote(self.exact, self.prefix, self.suffix)
            if self.language and update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "language"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The translation's rules, reported on its fields (the constraint holds the first)."""
        if self.translation.strip() and not self.translation_language:
            raise ValidationError(
                {"translation_language": "Say which language the translation is in."}
            )
        if self.translation_language and self.translation_language == self.language:
            raise ValidationError(
                {"translation_language": "A translation is in another language than the words."}
            )

    @property
    def selectors(self) -> list[dict]:
        """The anchor as W3C Web Annotation selectors."""
        return [
            {
                "type": "TextQuoteSelector",
                "exact": self.exact,
                "prefix": self.prefix,
                "suffix": self.suffix,
            },
            {"type": "TextPositionSelector", "start": self.start, "end": self.end},
        ]


class Relay(models.TextChoices):
    """How a source came by the words when it did not hear them itself."""

    REPORTED_BY = "reported_by", "as reported by"
    ACCORDING_TO = "according_to", "according to"
    POSTED_BY = "posted_by", "in a post by"


class Appearance(models.Model):
    """A claim appearing in a source, optionally through a quote printed there.

    A claim repeated in several sources is one claim with several
    appearances, never duplicate claims. Who said it is the claim's speaker
    (or the quote's); the source's outlet published it; when the source only
    passes on what another outlet or account relayed ("according to The New
    York Times", "in a post by Mario Nawfal"), the appearance names that
    intermediary, so a reporter is never recorded as a speaker.
    """

    Relay = Relay

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="appearances")
    source = models.ForeignKey(
        "sources.Source", on_delete=models.PROTECT, related_name="appearances"
    )
    quote = models.ForeignKey(
        Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="appearances"
    )
    relay = models.CharField(
        "relayed",
        max_length=20,
        choices=Relay,
        blank=True,
        help_text="When the source passes on what someone else reported or posted.",
    )
    relayed_by = models.CharField(
        "intermediary",
        max_length=200,
        blank=True,
        help_text="The outlet or account the source got it from: The New York Times, Mario Nawfal…",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claim", "created_at", "pk"]
        # A source's claims, a page at a time in the order they were linked.
        indexes = [models.Index(fields=["source", "id"], name="appearance_source_order_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "quote"],
                condition=models.Q(quote__isnull=False),
                name="appearance_claim_quote_unique",
            ),
            models.UniqueConstraint(
                fields=["claim", "source"],
                condition=models.Q(quote__isnull=True),
                name="appearance_claim_source_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(relay="", relayed_by="")
                | (models.Q(relay__in=Relay.values) & ~models.Q(relayed_by="")),
                name="appearance_relay_names_intermediary",
                violation_error_message="Name the intermediary together with how it relayed "
                "the claim, or neither.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} in {self.source}"

    @property
    def relay_text(self) -> str:
        """“according to The New York Times”, or "" when the source did not relay it."""
        return f"{self.get_relay_display()} {self.relayed_by}" if self.relay else ""

    def clean(self) -> None:
        if bool(self.relay) != bool(self.relayed_by.strip()):
            field = "relayed_by" if self.relay else "relay"
            raise ValidationError(
                {field: "Name the intermediary together with how it relayed the claim."}
            )
        if (
            self.quote_id
            and self.source_id
            and self.quote is not None
            and self.quote.source_id != self.source_id
        ):
            raise ValidationError({"quote": "The quote must come from the appearance's source."})


class ReviewAction(models.TextChoices):
    REVIEW = "review", "Verdict"
    PUBLISH = "publish", "Published"
    UNPUBLISH = "unpublish", "Unpublished"
    CORRECTION = "correction", "Correction"


class CorrectionClass(models.TextChoices):
    """How much a correction of a claim's checkable fields changes its meaning."""

    TYPO = "typo", "Typo"
    CLARIFICATION = "clarification", "Clarification"
    SUBSTANTIVE = "substantive", "Substantive"

    @property
    def withdraws_verdict(self) -> bool:
        return self is CorrectionClass.SUBSTANTIVE

    @property
    def description(self) -> str:
        return CORRECTION_CLASS_DESCRIPTIONS[self]


CORRECTION_CLASS_DESCRIPTIONS = {
    CorrectionClass.TYPO: "Wording only; the meaning is unchanged and the verdict stands.",
    CorrectionClass.CLARIFICATION: "Clearer wording or attribution; the verdict stands.",
    CorrectionClass.SUBSTANTIVE: "The meaning changed: the verdict is withdrawn and the claim "
    "is back in review until an editor records a new one.",
}


class Review(models.Model):
    """One entry of the append-only review ledger.

    Rows are never updated or deleted: the app's database role may only
    read and insert them, and PostgreSQL triggers refuse changes from any
    role. Each entry commits to the claim's checkable content at that
    moment (`claim_content`), to its evidence (with each source's snapshot
    hash) and to the previous entry's hash; the entries are also the leaves
    of a Merkle tree whose signed checkpoints live outside the database.
    What exactly is hashed is defined in `claims.ledger.entries` and
    documented in docs/ledger-format.md.
    """

    Action = ReviewAction
    CorrectionClass = CorrectionClass

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    # No index of its own: review_claim_version and review_claim_seq_idx start with it.
    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="reviews", db_index=False
    )
    claim_version = models.PositiveIntegerField(
        help_text="The claim's version once this entry is applied."
    )
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.REVIEW)
    status_before = models.CharField(max_length=20, choices=Status.choices)
    status_after = models.CharField(max_length=20, choices=Status.choices)
    explanation = models.TextField(
        blank=True, help_text="Markdown, shown to readers; for a correction, why it was made."
    )
    note = models.TextField(blank=True, help_text="Internal note for the desk.")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    # The second editor who signed a verdict off (settings.VERDICT_SIGN_OFF): the
    # entry's body commits to it, so who approved a verdict is as fixed as who wrote it.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="approved_reviews",
        null=True,
        blank=True,
        editable=False,
        db_index=False,
    )
    evidence = models.ManyToManyField(
        "sources.Source", through="ReviewEvidence", related_name="cited_by_reviews", blank=True
    )
    claim_content = models.JSONField(
        editable=False,
        help_text="The claim's checkable fields as this entry judged or set them.",
    )
    correction_class = models.CharField(
        max_length=20, choices=CorrectionClass, blank=True, editable=False
    )
    changes = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text='For a correction: {field: {"from": ..., "to": ...}}.',
    )
    # Random, so that the digests standing in for a draft's content or an
    # internal note in the public export cannot be confirmed by guessing.
    salt = models.CharField(max_length=32, editable=False)
    note_salt = models.CharField(max_length=32, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["-sequence"]
        # The ledger is written only by claims.ledger.entries.append_entry.
        default_permissions = ("view",)
        permissions = [("record_review", "Can record a verdict in the review ledger")]
        constraints = [
            models.UniqueConstraint(fields=["claim", "claim_version"], name="review_claim_version"),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="review_sequence"),
            models.CheckConstraint(
                condition=models.Q(action__in=ReviewAction.values), name="review_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status_before__in=Status.values)
                & models.Q(status_after__in=Status.values),
                name="review_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(entry_hash__regex=r"^[0-9a-f]{64}$")
                & models.Q(previous_hash__regex=r"^[0-9a-f]{64}$"),
                name="review_hash_format",
            ),
            models.CheckConstraint(
                condition=models.Q(salt__regex=r"^[0-9a-f]{32}$")
                & models.Q(note_salt__regex=r"^[0-9a-f]{32}$"),
                name="review_salt_format",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(action=ReviewAction.CORRECTION)
                    & models.Q(correction_class__in=CorrectionClass.values)
                )
                | (~models.Q(action=ReviewAction.CORRECTION) & models.Q(correction_class="")),
                name="review_correction_class",
                violation_error_message="A correction, and only a correction, has a class.",
            ),
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | (
                    models.Q(action=ReviewAction.REVIEW) & ~models.Q(approved_by=models.F("editor"))
                ),
                name="review_approved_by_another",
                violation_error_message="Only a verdict is approved, and by another editor.",
            ),
        ]
        indexes = [
            models.Index(fields=["claim", "-sequence"], name="review_claim_seq_idx"),
            # The corrections page and feed: verdicts and corrections, newest first.
            models.Index(
                fields=["-sequence"],
                name="review_public_change_idx",
                condition=models.Q(action__in=["review", "correction"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.summary}"

    @property
    def summary(self) -> str:
        """What the entry did, in words: "Not yet verified → False", "Published"."""
        if self.action == ReviewAction.CORRECTION:
            return f"{self.get_correction_class_display()} correction"
        if self.action != ReviewAction.REVIEW:
            return self.get_action_display()
        return f"{self.get_status_before_display()} → {self.get_status_after_display()}"

    @property
    def leaf_index(self) -> int:
        """Its position in the Merkle tree (0-based, as RFC 6962 counts)."""
        return self.sequence - 1


class ReviewEvidence(models.Model):
    """A source cited as evidence by a ledger entry; append-only like the entry."""

    review = models.ForeignKey(Review, on_delete=models.PROTECT, related_name="evidence_links")
    source = models.ForeignKey(
        "sources.Source", on_delete=models.PROTECT, related_name="evidence_links"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["review", "position"]
        default_permissions = ("view",)
        verbose_name_plural = "review evidence"
        constraints = [
            models.UniqueConstraint(fields=["review", "source"], name="evidence_once_per_review"),
            models.UniqueConstraint(fields=["review", "position"], name="evidence_position"),
        ]

    def __str__(self) -> str:
        return f"{self.source} (evidence for #{self.review.sequence})"


class CandidateStatus(models.TextChoices):
    NEW = "new", "New"
    DRAFTED = "drafted", "Drafted as a claim"
    DISMISSED = "dismissed", "Dismissed"


class CandidateSentence(models.Model):
    """A sentence of a source that may hold a claim worth checking (claims.candidates),
    with its check-worthiness score and the features that made it, for the editor to
    turn into a claim or dismiss. Derived from the source's snapshot: recomputed at
    will, so it goes with its source."""

    Status = CandidateStatus

    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, related_name="candidate_sentences"
    )
    start = models.PositiveIntegerField(help_text="Offset of the sentence in the snapshot.")
    end = models.PositiveIntegerField()
    text = models.TextField()
    # Decimal, not float: scores are compared, ranked and exported exactly.
    score = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        help_text="Check-worthiness, 0 to 1: higher is more worth it.",
    )
    features = models.JSONField(
        default=list, help_text='What scored it: [{"feature", "weight", "evidence"}].'
    )
    status = models.CharField(max_length=10, choices=CandidateStatus, default=CandidateStatus.NEW)
    claim = models.ForeignKey(
        Claim,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="candidate_sentences",
        help_text="The claim drafted from it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["source", "-score", "start"]
        indexes = [models.Index(fields=["source", "-score"], name="candidate_source_score_idx")]
        constraints = [
            models.UniqueConstraint(fields=["source", "start"], name="candidate_once_per_start"),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="candidate_span"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0) & models.Q(score__lte=1),
                name="candidate_score_range",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted as an appearance"
    DISMISSED = "dismissed", "Dismissed"


class RepeatSuggestion(models.Model):
    """A passage of a new source that repeats a claim the desk has published a verdict
    on (claims.repeats): an appearance suggested to the editor, who accepts it (the
    appearance is recorded) or dismisses it."""

    Status = SuggestionStatus

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="repeat_suggestions")
    source = models.ForeignKey(
        "sources.Source", on_delete=models.CASCADE, related_name="repeat_suggestions"
    )
    start = models.PositiveIntegerField(help_text="Offset of the passage in the snapshot.")
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="The passage, as the snapshot holds it.")
    score = models.DecimalField(
        max_digits=5, decimal_places=4, help_text="How closely it matches the claim, 0 to 1."
    )
    status = models.CharField(
        max_length=10, choices=SuggestionStatus, default=SuggestionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    appearance = models.OneToOneField(
        "Appearance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suggested_by",
        help_text="The appearance recorded when it was accepted.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="repeat_status_idx"),
            models.Index(fields=["source"], name="repeat_source_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "source", "start"], name="repeat_once_per_passage"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="repeat_span"
            ),
            models.CheckConstraint(
                condition=models.Q(status=SuggestionStatus.PENDING, decided_at__isnull=True)
                | (~models.Q(status=SuggestionStatus.PENDING) & models.Q(decided_at__isnull=False)),
                name="repeat_decided_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text[:60]} (repeats {self.claim})"


class VerdictProposal(models.Model):
    """A verdict waiting for a second editor's approval (settings.VERDICT_SIGN_OFF).

    Written once and never changed, like the ledger: the app's database role may
    only read and insert it. What became of it is its `ProposalDecision`, also
    written once; a proposal without one is pending. Approving writes the verdict's
    ledger entry, which names the proposer as its editor and the approver as
    `approved_by`.
    """

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="proposals")
    claim_version = models.PositiveIntegerField(help_text="The claim version the proposer saw.")
    # What the proposer judged: approval applies the verdict only to the same content
    # and status (a publication in between changes neither; a correction does).
    claim_content = models.JSONField(editable=False)
    status_before = models.CharField(max_length=20, choices=Status.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    explanation = models.TextField(help_text="Markdown, shown to readers once approved.")
    note = models.TextField(blank=True, help_text="Internal note for the desk.")
    evidence = models.ManyToManyField(
        "sources.Source", through="ProposalEvidence", related_name="proposals", blank=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="verdict_proposals"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["claim", "-created_at"], name="proposal_claim_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=sorted(VERDICT_STATUSES)),
                name="proposal_is_a_verdict",
                violation_error_message="Only a verdict waits for a second editor.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} for {self.claim} by {self.proposed_by}"


class ProposalEvidence(models.Model):
    """A source a proposed verdict cites, in order; written once, like the proposal."""

    proposal = models.ForeignKey(
        VerdictProposal, on_delete=models.PROTECT, related_name="evidence_links"
    )
    source = models.ForeignKey(
        "sources.Source", on_delete=models.PROTECT, related_name="proposal_links"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["proposal", "position"]
        default_permissions = ("view",)
        verbose_name_plural = "proposal evidence"
        constraints = [
            models.UniqueConstraint(fields=["proposal", "source"], name="proposal_evidence_once"),
            models.UniqueConstraint(
                fields=["proposal", "position"], name="proposal_evidence_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} (evidence proposed with {self.proposal})"


class ProposalDecision(models.Model):
    """What became of a proposed verdict: approved (by another editor, with the ledger
    entry it wrote), rejected (with the reason, for the proposer) or withdrawn by
    the proposer. One per proposal, written once."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Sent back"
        WITHDRAWN = "withdrawn", "Withdrawn"

    proposal = models.OneToOneField(
        VerdictProposal, on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposal_decisions"
    )
    reason = models.TextField(blank=True, help_text="Why it was sent back, for the proposer.")
    entry = models.OneToOneField(
        Review,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval",
        help_text="The ledger entry the approval wrote.",
    )
    decided_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(outcome="approved") & models.Q(entry__isnull=False))
                | (~models.Q(outcome="approved") & models.Q(entry__isnull=True)),
                name="decision_approval_has_entry",
                violation_error_message="An approval, and only an approval, writes an entry.",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="rejected") | ~models.Q(reason=""),
                name="decision_rejection_has_reason",
                violation_error_message="Say why the verdict is sent back.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} by {self.decided_by}"


class LedgerTreeHash(models.Model):
    """A stored hash of the ledger's Merkle tree (RFC 6962), append-only.

    Indexed as Go's checksum database indexes its tree (`tlog`): each leaf's
    hash and every complete subtree's, in the order they were completed, so
    that any root, inclusion proof or consistency proof needs only
    O(log n) of them. Written with each entry by `claims.ledger.tree`;
    `verify_ledger` recomputes them from the entries.
    """

    index = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["index"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"tree hash {self.index}: {bytes(self.hash).hex()}"


# --- Other fact-checkers' work ------------------------------------------------------


def normalized_rating_words(text: str) -> str:
    """A publisher's rating words as RatingWord matches them: case, spacing and the
    punctuation around them do not matter ("Pants on Fire!" is "pants on fire")."""
    return " ".join(text.casefold().split()).strip(" .!?¡¿:;\"'«»“”")


class RatingWord(models.Model):
    """The desk's reading of a publisher's rating words: an editable map, used where
    other fact-checkers' ratings are compared with the desk's scale. The
    publisher's own words are always kept and shown; this only says which
    status of the desk's scale they come closest to (docs/imports.md)."""

    words = models.CharField(
        max_length=200, unique=True, help_text="Lower case, as normalized_rating_words gives."
    )
    status = models.CharField(
        max_length=20,
        choices=[(value, label) for value, label in Status.choices if value in VERDICT_STATUSES],
        help_text="The verdict of the desk's scale these words come closest to.",
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why, when it is not obvious.")

    class Meta:
        ordering = ["words"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=sorted(VERDICT_STATUSES)),
                name="rating_word_status_is_verdict",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.words} → {self.get_status_display()}"

    def save(self, *args, **kwargs):
        self.words = normalized_rating_words(self.words)
        super().save(*args, **kwargs)


def rating_word_statuses() -> dict[str, str]:
    """The whole map, normalized words -> status: a few hundred rows, read per use."""
    return dict(RatingWord.objects.values_list("words", "status"))


class ExternalReview(models.Model):
    """A review of a claim published by another organisation: their words and their
    rating, never the desk's verdict. It is not in the ledger and never changes the
    claim's status; readers see it apart ("Also checked by"), and the ClaimReview
    DataFeed leaves it out. One review per URL, whoever imports it and how often."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="external_reviews")
    url = models.CharField(
        "URL",
        max_length=2000,
        unique=True,
        help_text="The review's own address (a URN such as urn:liar:2635 where the data "
        "set gives none).",
    )
    # Text, not limited: what a publisher writes is kept whole, however long.
    publisher_name = models.TextField()
    publisher_site = models.TextField(blank=True)
    date_published = models.DateField(null=True, blank=True)
    claim_text = models.TextField(help_text="The claim in the publisher's words.")
    claimant = models.TextField(blank=True)
    rating_text = models.TextField(help_text="The publisher's rating, verbatim.")
    rating_value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    best_rating = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    worst_rating = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    language = models.TextField(blank=True)
    appearances = ArrayField(
        models.TextField(),
        default=list,
        blank=True,
        help_text="Where the publisher says the claim appeared.",
    )
    extra = models.JSONField(default=dict, blank=True, help_text="Kept from the source file.")
    imported_from = models.TextField(blank=True, help_text="The format and file it came from.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["claim", "-date_published", "pk"]
        indexes = [
            models.Index(fields=["claim", "date_published"], name="external_review_claim_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(rating_text="") & ~models.Q(publisher_name=""),
                name="external_review_has_rating_and_publisher",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publisher_name}: {self.rating_text}"

    @property
    def scale_text(self) -> str:
        """ "2 of 5" when the publisher gave a number on a scale, else ""."""
        if self.rating_value is None or self.best_rating is None:
            return ""
        return f"{_plain_number(self.rating_value)} of {_plain_number(self.best_rating)}"


def _plain_number(value) -> str:
    return format(value.normalize(), "f")


# --- The publisher's own pages, and readers' tips ----------------------------------


class SitePageSlug(models.TextChoices):
    """The pages a fact-checker publishes about itself; each has one fixed address."""

    ABOUT = "about", "About"
    METHODOLOGY = "methodology", "Methodology"
    RATING_SCALE = "rating-scale", "Rating scale"
    CONTACT = "contact", "Contact"


class SitePage(models.Model):
    """A page about the desk (methodology, rating scale, about, contact), written by
    editors in Markdown. The set is fixed: the reader pages and the footer link each
    one by its slug, so pages are edited, never added or removed."""

    Slug = SitePageSlug

    slug = models.CharField(max_length=20, choices=SitePageSlug, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Markdown. Headings start at ### (the page's title is its only top heading); "
        "raw HTML is removed."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="Who saved it last.",
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = "site page"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slug__in=SitePageSlug.values), name="sitepage_slug_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


# What a reader may send as a tip: one claim, not an article (as a statement).
TIP_TEXT_MAX = STATEMENT_MAX
TIP_WHERE_MAX = 500


class TipStatus(models.TextChoices):
    NEW = "new", "New"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class TipGroup(models.Model):
    """Readers' tips about one claim: every tip whose words match an open group's
    (claims.tips, the one home of the rule) is counted in it, so the desk sees one
    line per claim asked about, with how many readers asked."""

    Status = TipStatus

    text = models.TextField("claim", help_text="The first tip's words, as sent.")
    # The words as claims.tips.normalize gives them: what tips are matched on.
    normalized = models.TextField(editable=False)
    tip_count = models.PositiveIntegerField("tips", default=1, editable=False)
    first_received_at = models.DateTimeField("first received", default=timezone.now, editable=False)
    last_received_at = models.DateTimeField("last received", default=timezone.now, editable=False)
    status = models.CharField(
        max_length=10, choices=TipStatus, default=TipStatus.NEW, editable=False
    )
    claim = models.ForeignKey(
        Claim,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tip_groups",
        help_text="The claim the desk recorded from these tips, if any.",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-last_received_at", "-id"]
        verbose_name = "reader tip"
        verbose_name_plural = "reader tips"
        indexes = [
            # Tips are matched against open groups by trigram similarity (claims.tips).
            GinIndex(
                fields=["normalized"],
                name="tipgroup_normalized_trgm_idx",
                opclasses=["gin_trgm_ops"],
                condition=models.Q(status=TipStatus.NEW),
            ),
            # The desk's queue: a status, newest first.
            models.Index(fields=["status", "-last_received_at"], name="tipgroup_queue_idx"),
        ]
        constraints = [
            # One open group per exact wording, whatever arrives at once. Hashed: a
            # thousand characters of some scripts pass a b-tree entry's size limit.
            models.UniqueConstraint(
                MD5("normalized"),
                condition=models.Q(status=TipStatus.NEW),
                name="tipgroup_one_open_per_text",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TipStatus.values), name="tipgroup_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(tip_count__gte=1), name="tipgroup_count"),
            models.CheckConstraint(
                condition=models.Q(status=TipStatus.NEW, handled_at__isnull=True)
                | (~models.Q(status=TipStatus.NEW) & models.Q(handled_at__isnull=False)),
                name="tipgroup_handled_when_not_new",
            ),
            models.CheckConstraint(
                condition=models.Q(claim__isnull=True) | models.Q(status=TipStatus.ACCEPTED),
                name="tipgroup_claim_when_accepted",
                violation_error_message="Only an accepted tip links to a claim.",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class Tip(models.Model):
    """One reader's tip, as sent. The sender's address is never stored: the throttle
    counts it in the cache, for a while, under a keyed hash (claims.site_pages)."""

    group = models.ForeignKey(TipGroup, on_delete=models.CASCADE, related_name="tips")
    text = models.TextField("what was said", max_length=TIP_TEXT_MAX)
    where_seen = models.CharField("where seen", max_length=TIP_WHERE_MAX, blank=True)
    email = models.EmailField(blank=True, help_text="Only to answer this reader about this tip.")
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["group", "received_at"], name="tip_group_received_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    ~models.Q(text=""),
                    models.lookups.LessThanOrEqual(Length("text"), TIP_TEXT_MAX),
                ),
                name="tip_text_length",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


import claims.webhooks.models  # noqa: E402, F401 - the webhooks' models are this app's


class CdnPurgeCursor(models.Model):
    """How far down the ledger the CDN has been told what changed (claims.cdn)."""

    name = models.CharField(max_length=40, primary_key=True)
    # The last ledger entry whose claims' keys were purged.
    sequence = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: purged to #{self.sequence}"
