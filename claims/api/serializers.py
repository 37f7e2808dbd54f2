"""The API's shapes: lean list items, full details, and write shapes. Reads never
query (the views fetch what a serializer shows); writes check what the database
would refuse and answer 400 naming the field; the ledger's rules stay in
`claims.services`."""

from __future__ import annotations

import base64
import binascii
import copy
import json
from datetime import date
from pathlib import PurePath
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from claims import duplicates, services, timeline
from claims.api.common import sees_drafts
from claims.api.duplicates import PossibleDuplicates
from claims.claimreview import claim_url
from claims.languages import Language
from claims.markdown import render_markdown
from claims.models import (
    MEDIA_FIELDS,
    Appearance,
    Claim,
    MediaAuthenticity,
    MediaType,
    Quote,
    Relay,
    Speaker,
    Topic,
)
from claims.quantities import UNITS, QuantityQualifier
from claims.ratings import BEST_RATING, WORST_RATING, Group, Rating, Status, get_rating
from claims.timeline import when
from sources.ingest import SUPPORTED_EXTENSIONS, text_from_upload
from sources.models import Source

# --- Helpers -----------------------------------------------------------------

LANGUAGE_HELP = (
    "ISO 639-1 (en, es, ...); empty when not known: detected from the text if not given."
)


def language_field(help_text: str = LANGUAGE_HELP, **kwargs: Any) -> serializers.ChoiceField:
    """One of the desk's languages, or empty. Declared: a read-only model field loses
    allow_blank, and the schema would then refuse the empty language of a text whose
    language is not known."""
    return serializers.ChoiceField(
        choices=Language.choices, allow_blank=True, help_text=help_text, **kwargs
    )


def _drf_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """A Django ValidationError as DRF's, with "__all__" named non_field_errors."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {
                ("non_field_errors" if key == "__all__" else key): messages
                for key, messages in error.message_dict.items()
            }
        )
    return serializers.ValidationError({"non_field_errors": error.messages})


def model_clean(instance: models.Model, attrs: dict, *, exclude: tuple[str, ...] = ()) -> None:
    """Run the model's own validation (fields and constraints) on `instance` with
    `attrs` applied, so the database never has to refuse a write (a 500)."""
    candidate = copy.copy(instance)
    for name, value in attrs.items():
        field = candidate._meta.get_field(name)
        if not field.many_to_many:
            setattr(candidate, name, value)
    try:
        candidate.full_clean(exclude=list(exclude), validate_unique=False)
    except DjangoValidationError as error:
        raise _drf_errors(error) from None


class LookupField(serializers.SlugRelatedField):
    """A related object named by slug (or username). A value no object can have
    (NUL bytes, which PostgreSQL refuses) is a 400, not a database error."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class _EncodedInForm(str):
    """A form or multipart value that is a JSON object or array: not an item of a list."""


class FormListField(serializers.ListField):
    """A list; in a form or multipart body each item is its own field (`aliases=A&aliases=B`,
    or DRF's `aliases[0]=A`). A form value that is itself a JSON object or array (`{}`,
    `["A"]`: a client encoding the whole list, or something else, in one field) is a 400
    on the field, never stored as one item. JSON bodies are checked by DRF: a list or 400."""

    default_error_messages = {
        "encoded": "Not a list: send each item as its own form field, or send JSON.",
    }

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary) and isinstance(value, list):
            for item in value:
                if isinstance(item, str) and _is_json_container(item):
                    return _EncodedInForm(item)
        return value

    def to_internal_value(self, data):
        if isinstance(data, _EncodedInForm):
            self.fail("encoded")
        return super().to_internal_value(data)


def _is_json_container(text: str) -> bool:
    if text.strip()[:1] not in {"{", "["}:
        return False
    try:
        return isinstance(json.loads(text), (dict, list))
    except ValueError:
        return False


# --- The rating scale --------------------------------------------------------


class ClaimStatusSerializer(serializers.Serializer):
    """A claim's status with its place on the scale (from claims.ratings)."""

    value = serializers.ChoiceField(choices=Status.choices)
    label = serializers.CharField()
    group = serializers.ChoiceField(
        choices=[(group.value, group.value) for group in Group],
        help_text="workflow (not a verdict), scale (an ordered verdict) or off_scale.",
    )
    rating_value = serializers.IntegerField(
        allow_null=True,
        help_text=f"{WORST_RATING} (false) to {BEST_RATING} (true) on the scale; null otherwise.",
    )
    scale_position = serializers.CharField(
        help_text=f'"2 of {BEST_RATING}" on the scale, "" otherwise.'
    )
    best_rating = serializers.IntegerField(
        allow_null=True, help_text=f"{BEST_RATING} on the scale."
    )
    worst_rating = serializers.IntegerField(
        allow_null=True, help_text=f"{WORST_RATING} on the scale."
    )


def status_data(value: str) -> dict:
    return get_rating(value).as_data()


@extend_schema_field(ClaimStatusSerializer)
class StatusField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: str) -> dict:
        return status_data(value)


class RatingSerializer(serializers.Serializer):
    """One status of the scale."""

    value = serializers.CharField()
    label = serializers.CharField()
    group = serializers.ChoiceField(choices=[(group.value, group.value) for group in Group])
    rating_value = serializers.IntegerField(allow_null=True)
    scale_position = serializers.CharField()
    is_verdict = serializers.BooleanField(
        help_text="A finding about the claim, as opposed to a workflow state."
    )
    description = serializers.CharField()
    claimreview_rating = serializers.SerializerMethodField(
        help_text="The schema.org Rating published in ClaimReview; null for workflow states."
    )

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": {}})
    def get_claimreview_rating(self, rating: Rating) -> dict | None:
        return rating.claimreview_rating()


# --- Speakers and topics -----------------------------------------------------


class SpeakerRefSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:speaker-detail", lookup_field="slug")

    class Meta:
        model = Speaker
        fields = ["slug", "name", "kind", "role", "affiliation", "url"]
        read_only_fields = fields


class SpeakerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:speaker-detail", lookup_field="slug")
    aliases = FormListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="Other names the speaker goes by.",
    )

    class Meta:
        model = Speaker
        fields = [
            "slug",
            "url",
            "name",
            "kind",
            "role",
            "affiliation",
            "aliases",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        model_clean(self.instance or Speaker(), attrs)
        return attrs


class TopicSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:topic-detail", lookup_field="slug")
    claim_count = serializers.SerializerMethodField(
        help_text="Claims on this topic that you may see (published ones for readers)."
    )

    class Meta:
        model = Topic
        fields = ["slug", "url", "name", "claim_count"]

    def get_claim_count(self, topic: Topic) -> int:
        return getattr(topic, "claim_count", 0)


# --- Sources -----------------------------------------------------------------


def document_url() -> serializers.CharField:
    """A string, not format "uri": the document may have no address ("")."""
    return serializers.CharField(
        read_only=True, help_text="The document's own address (a URL); empty when it has none."
    )


ORIGINAL_RETRIEVED_HELP = "When the text was taken from the original document; null when unknown."
SOURCE_FIELDS = [
    "slug",
    "api_url",
    "title",
    "outlet",
    "author",
    "url",
    "published_on",
    "kind",
    "language",
    "snapshot_sha256",
    "original_retrieved_at",
    "retrieved_at",
    "created_at",
    "updated_at",
]


class SourceListSerializer(serializers.ModelSerializer):
    api_url = serializers.HyperlinkedIdentityField(
        view_name="api:source-detail", lookup_field="slug"
    )
    url = document_url()
    language = language_field(read_only=True)

    class Meta:
        model = Source
        fields = SOURCE_FIELDS
        read_only_fields = fields
        extra_kwargs = {
            "snapshot_sha256": {"help_text": "SHA-256 (hex) of the snapshot's UTF-8 bytes."},
            "original_retrieved_at": {"help_text": ORIGINAL_RETRIEVED_HELP},
            "retrieved_at": {
                "help_text": "When the snapshot was archived here (for the seeds, when they "
                "were loaded), not when it was taken from the original."
            },
        }


class SourceRefSerializer(SourceListSerializer):
    """A source named in a claim: its slug, title, own address and API address."""

    class Meta(SourceListSerializer.Meta):
        fields = ["slug", "title", "url", "api_url"]
        read_only_fields = fields


class SourceDetailSerializer(SourceListSerializer):
    class Meta(SourceListSerializer.Meta):
        fields = [*SOURCE_FIELDS, "snapshot"]
        read_only_fields = fields


class SourceWriteSerializer(serializers.ModelSerializer):
    """A source with its snapshot: the text, or a .txt/.html file (base64) the
    program reduces to its text. The snapshot is set once, at creation."""

    snapshot = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The archived text; set once."
    )
    file_name = serializers.CharField(
        required=False, write_only=True, help_text="Instead of `snapshot`: .txt, .html or .htm."
    )
    file_content = serializers.CharField(
        required=False, write_only=True, trim_whitespace=False, help_text="The file, base64."
    )
    title = serializers.CharField(
        max_length=300, required=False, help_text="Required, unless an HTML file gives one."
    )
    language = language_field(required=False)

    class Meta:
        model = Source
        fields = [
            "slug",
            "title",
            "outlet",
            "author",
            "url",
            "published_on",
            "kind",
            "language",
            "original_retrieved_at",
            "snapshot",
            "file_name",
            "file_content",
        ]
        extra_kwargs = {"original_retrieved_at": {"help_text": ORIGINAL_RETRIEVED_HELP}}

    def validate(self, attrs):
        file_name = attrs.pop("file_name", None)
        file_content = attrs.pop("file_content", None)
        if self.instance is not None:
            self._refuse_snapshot_change(self.instance, attrs, file_name, file_content)
        else:
            self._snapshot_for_create(attrs, file_name, file_content)
        model_clean(self.instance or Source(), attrs, exclude=("snapshot_sha256",))
        return attrs

    @staticmethod
    def _refuse_snapshot_change(source: Source, attrs, file_name, file_content) -> None:
        immutable = (
            "The snapshot cannot be changed once stored: a newer version of a document "
            "is a new source."
        )
        if file_name is not None or file_content is not None:
            raise serializers.ValidationError({"snapshot": immutable})
        if "snapshot" in attrs:
            if attrs["snapshot"] != source.snapshot:
                raise serializers.ValidationError({"snapshot": immutable})
            del attrs["snapshot"]

    def _snapshot_for_create(self, attrs, file_name, file_content) -> None:
        if file_name is not None or file_content is not None:
            if "snapshot" in attrs:
                raise serializers.ValidationError(
                    {"snapshot": "Send the text or a file (file_name, file_content), not both."}
                )
            if not file_name:
                raise serializers.ValidationError({"file_name": "Name the uploaded file."})
            if not file_content:
                raise serializers.ValidationError({"file_content": "The file is empty."})
            if PurePath(file_name).suffix.lower() not in SUPPORTED_EXTENSIONS:
                raise serializers.ValidationError(
                    {"file_name": "Upload a .txt file (UTF-8) or an .html/.htm page."}
                )
            try:
                data = base64.b64decode(file_content, validate=True)
            except (binascii.Error, ValueError):
                raise serializers.ValidationError({"file_content": "This is not base64."}) from None
            try:
                extracted = text_from_upload(file_name, data)
            except ValueError as error:
                raise serializers.ValidationError({"file_content": str(error)}) from None
            extracted.fill(attrs)
        elif "snapshot" not in attrs:
            raise serializers.ValidationError(
                {"snapshot": "Send the archived text, or a file as file_name and file_content."}
            )
        if not attrs.get("title"):
            raise serializers.ValidationError({"title": "This field is required."})


# --- Quotes and appearances --------------------------------------------------


QUOTE_LANGUAGE_FIELDS = ["language", "translation", "translation_language"]
QUOTE_LANGUAGE_HELP = (
    "The language of the words as printed (ISO 639-1); detected from them when not "
    "given, empty when not known."
)
TRANSLATION_HELP = (
    "The words translated for readers; the original words stay in `exact`, anchored in "
    "the source. Empty when there is none."
)
TRANSLATION_LANGUAGE_HELP = "The translation's language (ISO 639-1): required with a translation."


class QuoteSerializer(serializers.ModelSerializer):
    api_url = serializers.HyperlinkedIdentityField(view_name="api:quote-detail")
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    speaker = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    selectors = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="The anchor as W3C Web Annotation selectors "
        "(TextQuoteSelector, TextPositionSelector).",
    )
    language = language_field(QUOTE_LANGUAGE_HELP, read_only=True)
    translation_language = language_field(TRANSLATION_LANGUAGE_HELP, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id",
            "api_url",
            "source",
            "speaker",
            "kind",
            "exact",
            "prefix",
            "suffix",
            "start",
            "end",
            "selectors",
            *QUOTE_LANGUAGE_FIELDS,
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"translation": {"help_text": TRANSLATION_HELP}}


class QuoteRefSerializer(QuoteSerializer):
    class Meta(QuoteSerializer.Meta):
        fields = [
            "id",
            "exact",
            "prefix",
            "suffix",
            "start",
            "end",
            "kind",
            "speaker",
            "selectors",
            *QUOTE_LANGUAGE_FIELDS,
        ]
        read_only_fields = fields


class QuoteCreateSerializer(serializers.Serializer):
    """The words to find in the source's snapshot; `claims.services.anchor_quote`
    stores the anchor."""

    source = LookupField(slug_field="slug", queryset=Source.objects.all())
    speaker = LookupField(slug_field="slug", queryset=Speaker.objects.all())
    words = serializers.CharField(help_text="As printed; quote marks and spaces may differ.")
    kind = serializers.ChoiceField(choices=Quote.Kind.choices, default=Quote.Kind.DIRECT)
    context_before = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    language = language_field(QUOTE_LANGUAGE_HELP, required=False, default="")
    translation = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=TRANSLATION_HELP
    )
    translation_language = language_field(TRANSLATION_LANGUAGE_HELP, required=False, default="")


RELAY_HELP = (
    "How the source came by the claim when it only passes on what an intermediary "
    "reported or posted: `reported_by` (as reported by), `according_to`, `posted_by` "
    "(in a post by); empty when the source heard or saw it itself."
)
RELAYED_BY_HELP = (
    "The intermediary's name (The New York Times, Mario Nawfal): given with `relay`, "
    "empty without it."
)


class AppearanceSerializer(serializers.ModelSerializer):
    api_url = serializers.HyperlinkedIdentityField(view_name="api:appearance-detail")
    claim = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    source = SourceRefSerializer(read_only=True)
    quote = QuoteRefSerializer(read_only=True, allow_null=True)
    # Declared: read-only model fields lose allow_blank, and the schema would then
    # refuse the empty relay of an appearance its source heard itself.
    relay = serializers.ChoiceField(
        choices=Relay.choices, allow_blank=True, read_only=True, help_text=RELAY_HELP
    )

    class Meta:
        model = Appearance
        fields = ["id", "api_url", "claim", "source", "quote", "relay", "relayed_by", "created_at"]
        read_only_fields = fields
        extra_kwargs = {"relayed_by": {"help_text": RELAYED_BY_HELP}}


class ClaimAppearanceSerializer(AppearanceSerializer):
    class Meta(AppearanceSerializer.Meta):
        fields = ["id", "source", "quote", "relay", "relayed_by", "created_at"]
        read_only_fields = fields


class AppearanceCreateSerializer(serializers.Serializer):
    """Written through `claims.services.add_appearance`; a claim the requester may not
    see is not found."""

    claim = LookupField(slug_field="slug", queryset=Claim.objects.all())
    source = LookupField(slug_field="slug", queryset=Source.objects.all())
    quote = serializers.PrimaryKeyRelatedField(
        queryset=Quote.objects.all(), allow_null=True, required=False, default=None
    )
    # Both or neither: the rule is Appearance.clean's, which the service runs.
    relay = serializers.ChoiceField(
        choices=Relay.choices, allow_blank=True, required=False, default="", help_text=RELAY_HELP
    )
    relayed_by = serializers.CharField(
        max_length=Appearance._meta.get_field("relayed_by").max_length,
        allow_blank=True,
        required=False,
        default="",
        help_text=RELAYED_BY_HELP,
    )

    def get_fields(self):
        fields = super().get_fields()
        if request := self.context.get("request"):
            # Readers may name only the claims they can see (drafts are the desk's).
            fields["claim"].queryset = Claim.objects.visible_to(request.user)  # type: ignore[attr-defined]  # a RelatedField, typed as Field
        return fields


# --- Claims ------------------------------------------------------------------


CLAIM_LANGUAGE_HELP = (
    "The statement's language (ISO 639-1); detected from it when not given, empty when not known."
)


class ClaimListSerializer(serializers.ModelSerializer):
    api_url = serializers.HyperlinkedIdentityField(
        view_name="api:claim-detail", lookup_field="slug"
    )
    speaker = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    speaker_name = serializers.CharField(source="speaker.name", read_only=True)
    topics = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    status = StatusField()
    published = serializers.BooleanField(source="is_published", read_only=True)
    language = language_field(CLAIM_LANGUAGE_HELP, read_only=True)

    class Meta:
        model = Claim
        fields = [
            "slug",
            "api_url",
            "statement",
            "speaker",
            "speaker_name",
            "topics",
            "kind",
            "language",
            "claim_date",
            "status",
            "version",
            "published",
            "published_at",
            "status_changed_at",
            "updated_at",
        ]
        read_only_fields = fields


class ClaimDetailSerializer(serializers.ModelSerializer):
    """Everything a claim's page shows. Expects `Claim.objects.public_detail()`."""

    api_url = serializers.HyperlinkedIdentityField(
        view_name="api:claim-detail", lookup_field="slug"
    )
    page_url = serializers.SerializerMethodField(
        help_text="The claim's public page (SITE_URL's, or this server's when it is unset)."
    )
    speaker = SpeakerRefSerializer(read_only=True)
    topics = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    status = StatusField()
    published = serializers.BooleanField(source="is_published", read_only=True)
    explanation = serializers.SerializerMethodField(
        help_text="The latest verdict's explanation (Markdown); null without a verdict."
    )
    explanation_html = serializers.SerializerMethodField(
        help_text="The same explanation as sanitised HTML."
    )
    evidence = serializers.SerializerMethodField(
        help_text="The sources the latest verdict cites, in its order."
    )
    appearances = ClaimAppearanceSerializer(many=True, read_only=True)
    media_authenticity = serializers.ChoiceField(
        choices=MediaAuthenticity.choices,
        allow_blank=True,
        read_only=True,
        help_text="For claims about media: what the media itself is; empty otherwise.",
    )
    media_type = serializers.ChoiceField(
        choices=MediaType.choices,
        allow_blank=True,
        read_only=True,
        help_text="For claims about media: video, image or audio; empty otherwise.",
    )
    quantity_qualifier = serializers.ChoiceField(
        choices=QuantityQualifier.choices,
        allow_blank=True,
        read_only=True,
        help_text="How exact the quantity is; empty: exactly.",
    )
    assignee = serializers.SerializerMethodField(
        help_text="Username of the desk member working on it (desk members only; null otherwise)."
    )
    language = language_field(CLAIM_LANGUAGE_HELP, read_only=True)
    superseded_by = serializers.SerializerMethodField(
        help_text="The slug of the newer claim that replaces this one (claims in time); null "
        "when none does, or when it is a draft you may not see."
    )
    supersedes = serializers.SerializerMethodField(
        help_text="The slugs of the older claims this one replaces, oldest first."
    )

    class Meta:
        model = Claim
        fields = [
            "slug",
            "api_url",
            "page_url",
            "statement",
            "short_form",
            "speaker",
            "topics",
            "kind",
            "language",
            "quantity",
            "unit",
            "quantity_qualifier",
            "claim_date",
            "holds_as_of",
            "superseded_by",
            "supersedes",
            "media_authenticity",
            *MEDIA_FIELDS,
            "status",
            "version",
            "published",
            "published_at",
            "status_changed_at",
            "explanation",
            "explanation_html",
            "evidence",
            "appearances",
            "assignee",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_page_url(self, claim: Claim) -> str:
        return claim_url(claim, self.context.get("request"))

    def get_explanation(self, claim: Claim) -> str | None:
        verdict = claim.latest_verdict
        return verdict.explanation if verdict else None

    def get_explanation_html(self, claim: Claim) -> str | None:
        verdict = claim.latest_verdict
        return str(render_markdown(verdict.explanation)) if verdict else None

    @extend_schema_field(SourceRefSerializer(many=True))
    def get_evidence(self, claim: Claim) -> Any:
        verdict = claim.latest_verdict
        if verdict is None:
            return []
        # The API's detail reads the verdict's evidence itself (claims.api.resources).
        links = getattr(claim, "cited_evidence", None)
        if links is None:
            links = verdict.evidence_links.all()
        sources = [link.source for link in links]
        return SourceRefSerializer(sources, many=True, context=self.context).data

    def get_assignee(self, claim: Claim) -> str | None:
        request = self.context.get("request")
        if claim.assignee is None or request is None or not sees_drafts(request):
            return None
        return claim.assignee.get_username()

    def _shown(self, claim: Claim) -> bool:
        request = self.context.get("request")
        return claim.is_published or (request is not None and sees_drafts(request))

    def get_superseded_by(self, claim: Claim) -> str | None:
        newer = claim.superseded_by
        return newer.slug if newer is not None and self._shown(newer) else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_supersedes(self, claim: Claim) -> list[str]:
        olders = [older for older in claim.supersedes.all() if self._shown(older)]
        # As claims.api.fast orders them: by the date they hold as of, undated last.
        olders.sort(key=lambda c: (when(c) is None, when(c) or date.min, c.pk))
        return [older.slug for older in olders]


class ClaimWriteSerializer(serializers.ModelSerializer):
    """A claim's own fields; status, version and publication are the ledger's."""

    unit = serializers.ChoiceField(
        choices=list(UNITS),
        allow_blank=True,
        required=False,
        help_text="ISO 4217 for money (USD), UCUM for the rest (t, {person}); "
        "see docs/api.md for the list.",
    )

    speaker = LookupField(slug_field="slug", queryset=Speaker.objects.all())
    topics = LookupField(slug_field="slug", queryset=Topic.objects.all(), many=True, required=False)
    assignee = LookupField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True, is_staff=True),
        allow_null=True,
        required=False,
        help_text="A desk member's username; only editors assign others.",
    )
    language = language_field(CLAIM_LANGUAGE_HELP, required=False)
    superseded_by = LookupField(
        slug_field="slug",
        queryset=Claim.objects.all(),
        allow_null=True,
        required=False,
        help_text="The slug of a newer claim that replaces this one (claims in time: it must "
        "hold later, and no chain may loop); null: none does. Not a correction.",
    )
    confirm_new = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="On creation: true creates the claim even if it likely repeats claims in the "
        "ledger (otherwise 409 `possible_duplicates`, listing them).",
    )

    class Meta:
        model = Claim
        fields = [
            "slug",
            "statement",
            "short_form",
            "speaker",
            "claim_date",
            "holds_as_of",
            "superseded_by",
            "kind",
            "language",
            "quantity",
            "unit",
            "quantity_qualifier",
            "topics",
            "media_authenticity",
            *MEDIA_FIELDS,
            "assignee",
            "confirm_new",
        ]

    def validate(self, attrs):
        confirm_new = attrs.pop("confirm_new", False)
        # The model's clean() and constraints hold the field rules (numeric claims
        # need a quantity, ...); they are checked against the stored values too.
        fields = {name: value for name, value in attrs.items() if name != "assignee"}
        model_clean(self.instance or Claim(), fields, exclude=("assignee",))
        self._check_in_time(attrs)
        if self.instance is None and not confirm_new:
            found = duplicates.check(attrs["statement"], language=attrs.get("language") or "")
            if found.duplicates:
                raise PossibleDuplicates(found.duplicates, self.context.get("request"))
        return attrs

    def _check_in_time(self, attrs) -> None:
        """The chain's rules (claims.timeline), when the claim's place in time changes."""
        current = self.instance or Claim()
        moved = [
            name
            for name in ("superseded_by", "holds_as_of", "claim_date")
            if name in attrs and attrs[name] != getattr(current, name)
        ]
        if not moved:
            return
        claim = copy.copy(current)
        claim.claim_date = attrs.get("claim_date", current.claim_date)
        try:
            timeline.check_in_time(
                claim,
                superseded_by=attrs.get("superseded_by", current.superseded_by),
                holds_as_of=attrs.get("holds_as_of", current.holds_as_of),
            )
        except DjangoValidationError as error:
            raise _drf_errors(error) from None

    def create(self, validated_data):
        assign = "assignee" in validated_data
        assignee = validated_data.pop("assignee", None)
        claim = super().create(validated_data)
        if assign:
            services.assign_claim(claim=claim, assignee=assignee, by=self.context["request"].user)
        return claim

    def update(self, instance, validated_data):
        assign = "assignee" in validated_data
        assignee = validated_data.pop("assignee", None)
        services.check_claim_edit(
            claim=instance,
            changed=[
                name
                for name, value in validated_data.items()
                if name in Claim.CHECKABLE_FIELDS and getattr(instance, name) != value
            ],
        )
        claim = super().update(instance, validated_data)
        if assign and assignee != instance.assignee:
            services.assign_claim(claim=claim, assignee=assignee, by=self.context["request"].user)
        return claim
