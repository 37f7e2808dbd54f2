from django import forms
from django.contrib import admin
from django.db.models import Count

from claims.models import Appearance, Claim, Quote, Review, ReviewEvidence, Speaker, Topic
from claims.services import locate_quote


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "role", "affiliation", "claim_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "role", "affiliation", "aliases"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(claim_count=Count("claims", distinct=True))

    @admin.display(description="Claims", ordering="claim_count")
    def claim_count(self, obj):
        return obj.claim_count


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class AppearanceInline(admin.TabularInline):
    model = Appearance
    extra = 0
    raw_id_fields = ["source", "quote"]


@admin.register(Claim)
class ClaimAdmin(admin.ModelAdmin):
    list_display = [
        "statement",
        "speaker",
        "kind",
        "status",
        "claim_date",
        "appearance_count",
        "updated_at",
    ]
    list_filter = ["status", "kind", "topics", "speaker"]
    list_select_related = ["speaker"]
    search_fields = ["statement", "slug", "speaker__name"]
    prepopulated_fields = {"slug": ["statement"]}
    autocomplete_fields = ["speaker"]
    filter_horizontal = ["topics"]
    readonly_fields = ["status", "version", "status_changed_at", "created_at", "updated_at"]
    inlines = [AppearanceInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(appearance_count=Count("appearances", distinct=True))
        )

    @admin.display(description="Appearances", ordering="appearance_count")
    def appearance_count(self, obj):
        return obj.appearance_count


class QuoteForm(forms.ModelForm):
    """Editors type the words; the program finds them and stores the anchor."""

    words = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The words as printed in the source. Typographic and straight quote marks "
        "are interchangeable; the words themselves must match.",
    )
    context_before = forms.CharField(
        required=False,
        help_text="Only if the words occur more than once: the words just before the one you mean.",
    )

    class Meta:
        model = Quote
        fields = ["source", "speaker", "kind"]

    def clean(self):
        cleaned = super().clean()
        source, speaker = cleaned.get("source"), cleaned.get("speaker")
        if source and speaker and cleaned.get("words"):
            anchor = locate_quote(
                source=source,
                words=cleaned["words"],
                context_before=cleaned.get("context_before", ""),
            )
            duplicate = Quote.objects.filter(
                source=source, start=anchor.start, end=anchor.end
            ).first()
            if duplicate is not None:
                raise forms.ValidationError(
                    {"words": f"These words are already anchored in this source as {duplicate}."}
                )
            for name in ("exact", "prefix", "suffix", "start", "end"):
                setattr(self.instance, name, getattr(anchor, name))
        return cleaned


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "speaker", "kind", "source", "start", "end"]
    list_filter = ["kind", "speaker", "source"]
    list_select_related = ["speaker", "source"]
    search_fields = ["exact", "speaker__name", "source__title"]
    autocomplete_fields = ["speaker", "source"]
    readonly_fields = ["exact", "prefix", "suffix", "start", "end", "created_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = QuoteForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["source", "speaker", "kind", "words", "context_before"]
        return ["source", "speaker", "kind", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # An anchored quote's place in its source never changes; a new span is a new quote.
        if obj is not None:
            return ["source", *self.readonly_fields]
        return []


@admin.register(Appearance)
class AppearanceAdmin(admin.ModelAdmin):
    list_display = ["claim", "source", "quote", "created_at"]
    list_select_related = ["claim", "source", "quote"]
    list_filter = ["source"]
    search_fields = ["claim__statement", "source__title", "quote__exact"]
    raw_id_fields = ["claim", "source", "quote"]


class LedgerReadOnly:
    """The ledger is written only by the review service; the admin reads it, never edits it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReviewEvidenceInline(LedgerReadOnly, admin.TabularInline):
    model = ReviewEvidence
    fields = ["position", "source"]
    readonly_fields = fields
    extra = 0


@admin.register(Review)
class ReviewAdmin(LedgerReadOnly, admin.ModelAdmin):
    list_display = [
        "sequence",
        "claim",
        "status_before",
        "status_after",
        "editor",
        "created_at",
        "short_hash",
    ]
    list_filter = ["status_after", "action", "editor"]
    list_select_related = ["claim", "editor"]
    search_fields = ["claim__statement", "explanation", "entry_hash"]
    date_hierarchy = "created_at"
    inlines = [ReviewEvidenceInline]

    @admin.display(description="Hash")
    def short_hash(self, obj):
        return obj.entry_hash[:12]
