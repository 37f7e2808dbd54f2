from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, slugify

from claims import candidates as candidate_claims
from claims.duplicates import add_as_appearance
from claims.forms import DraftClaimForm
from claims.models import Appearance, CandidateSentence, Claim, Quote
from claims.services import draft_claim_from_quote
from claims.source_pipeline import process_source_text
from factcheck.admin_history import EditHistoryMixin
from factcheck.admin_lists import LargeTableAdmin, ReadOnlyAdmin
from sources import ingest
from sources.models import Source


class SnapshotField(forms.CharField):
    """The pasted text as given: no stripping, and the CRLF line endings that
    browsers add to every textarea turned back into the LF that was pasted."""

    widget = forms.Textarea

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n")


class SourceAddForm(forms.ModelForm):
    """A new source's text is pasted or uploaded, exactly one of the two.

    An uploaded file is reduced to text by `sources.ingest`; an HTML page's
    title, author, date and outlet fill the fields the editor left empty.
    The slug is made from the title when left empty.
    """

    snapshot = SnapshotField(
        label="Paste the text",
        required=False,
        help_text="The archived text, exactly as retrieved.",
    )
    upload = forms.FileField(
        label="Or upload a file",
        required=False,
        help_text=(
            "A .txt file (UTF-8), archived exactly as it is, or an .html/.htm page, "
            "reduced to its article text. At most "
            f"{ingest.MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        ),
    )

    class Meta:
        model = Source
        fields = [
            "title",
            "slug",
            "kind",
            "outlet",
            "author",
            "url",
            "published_on",
            "original_retrieved_at",
            "language",
            "snapshot",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An editor pasting or uploading a page has just retrieved it; one archiving an
        # older copy corrects the time, or empties it when nobody knows.
        if "original_retrieved_at" in self.fields:
            self.fields["original_retrieved_at"].initial = timezone.now
        # An uploaded page may supply the title; the slug is then made from it.
        for name in ("title", "slug"):
            if name in self.fields:
                self.fields[name].required = False
        help_texts = {
            "title": "Leave empty to use the title of an uploaded HTML page.",
            "slug": "Leave empty to make one from the title.",
        }
        for name, help_text in help_texts.items():
            if name in self.fields:
                self.fields[name].help_text = help_text

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        pasted = cleaned.get("snapshot") or ""
        upload = cleaned.get("upload")
        if "upload" in self.errors:  # an empty file, say: already explained on the field
            return cleaned
        if pasted and not pasted.strip():
            self.add_error("snapshot", "The pasted text is only white space.")
            return cleaned
        if pasted and upload:
            raise forms.ValidationError("Paste the text or upload a file, not both.")
        if not pasted and not upload:
            raise forms.ValidationError(
                "Paste the text or upload a file: one of the two is needed."
            )
        if upload:
            try:
                extracted = ingest.text_from_upload(upload.name, _read_capped(upload))
            except ValueError as error:
                self.add_error("upload", str(error))
                return cleaned
            extracted.fill(cleaned, keep=set(self.errors))
        self._fill_title_and_slug(cleaned)
        return cleaned

    def _fill_title_and_slug(self, cleaned):
        if "title" in self.errors or "slug" in self.errors:
            return
        title = cleaned.get("title") or ""
        if not title:
            self.add_error("title", "Give the source a title: the text does not carry one.")
            return
        if not cleaned.get("slug"):
            cleaned["slug"] = _unique_slug(title)


def _read_capped(upload) -> bytes:
    """The file's bytes, read no further than one byte past the size limit."""
    upload.seek(0)
    return upload.read(ingest.MAX_UPLOAD_BYTES + 1)


def _unique_slug(title: str) -> str:
    max_length = Source._meta.get_field("slug").max_length
    assert max_length is not None, "a slug field has a maximum length"
    base = slugify(title)[:max_length].strip("-") or "source"
    slug, number = base, 2
    while Source.objects.filter(slug=slug).exists():
        suffix = f"-{number}"
        slug = base[: max_length - len(suffix)].rstrip("-") + suffix
        number += 1
    return slug


class QuoteInline(ReadOnlyAdmin, admin.TabularInline):
    """The quotes anchored in a source, read-only: quotes are added on their own page."""

    model = Quote
    fk_name = "source"
    template = "admin/sources/source/quotes_inline.html"
    extra = 0
    can_delete = False
    verbose_name = "quote anchored in this source"
    verbose_name_plural = "quotes anchored in this source"
    fields: ClassVar[tuple[str, ...]] = (
        "words",
        "language",
        "speaker",
        "kind",
        "start",
        "end",
        "claims",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("speaker")
            .prefetch_related(
                Prefetch(
                    "appearances",
                    queryset=Appearance.objects.select_related("claim").order_by("claim__pk"),
                )
            )
        )

    def _url(self, obj, view: str = "change") -> str:
        opts = obj._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_{view}",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )

    @admin.display(description="Exact words")
    def words(self, quote):
        return format_html('<a href="{}">{}</a>', self._url(quote), str(quote))

    @admin.display(description="Claims it backs")
    def claims(self, quote):
        claims = [appearance.claim for appearance in quote.appearances.all()]
        if not claims:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}" title="{}">{}</a></li>',
                (
                    (self._url(claim), claim.statement, Truncator(claim.statement).chars(100))
                    for claim in claims
                ),
            ),
        )


@admin.register(Source)
class SourceAdmin(EditHistoryMixin, LargeTableAdmin, admin.ModelAdmin):
    list_display = ["title", "outlet", "kind", "published_on", "retrieved_at", "quote_count"]
    # No outlet menu (one entry per outlet): the search box finds an outlet.
    list_filter = ["kind", "retrieved_at"]
    search_fields = ["title", "outlet", "author", "url", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    # Its menu reads every source's date: tens of thousands, not the claims' million.
    date_hierarchy = "retrieved_at"
    readonly_fields = ["snapshot_sha256", "retrieved_at", "created_at", "updated_at"]
    inlines = [QuoteInline]

    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "kind",
                    "outlet",
                    "author",
                    "url",
                    "published_on",
                    "original_retrieved_at",
                    "language",
                ]
            },
        ),
        (
            "Text",
            {
                "fields": ["snapshot", "upload"],
                "description": (
                    "Paste the text or upload a file, exactly one of the two. "
                    "The snapshot is archived as given and can never be edited; its SHA-256 "
                    "and the time it was archived here are set by the program."
                ),
            },
        ),
    ]

    def get_inlines(self, request, obj):
        # A new source has no quotes yet: they are anchored once its text is stored.
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SourceAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # the text is set once, when the source is added
            process_source_text(obj)

    # Served by the index on (retrieved_at, id) read backwards; autocomplete pages
    # need an order too.
    ordering = ["-retrieved_at", "-pk"]
    # Sorting by the number of quotes would count every source's quotes.
    sortable_by = ["retrieved_at"]

    def get_queryset(self, request):
        # Counted for the rows of the page only (a JOIN ... GROUP BY counts every source's).
        quotes = Quote.objects.filter(source=OuterRef("pk")).order_by().values("source")
        count = Subquery(quotes.annotate(n=Count("*")).values("n"))
        return super().get_queryset(request).annotate(quote_count=Coalesce(count, 0))

    @admin.display(description="Quotes")
    def quote_count(self, obj):
        return obj.quote_count

    def get_urls(self):
        draft = path(
            "<path:object_id>/draft-claim/",
            self.admin_site.admin_view(self.draft_claim_view),
            name="sources_source_draft_claim",
        )
        dismiss = path(
            "<path:object_id>/candidates/<int:candidate_id>/dismiss/",
            self.admin_site.admin_view(self.dismiss_candidate_view),
            name="sources_source_dismiss_candidate",
        )
        return [draft, dismiss, *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            # Ranked, with what scored them: one query whatever their number.
            shown = candidate_claims.ranked_new(obj)
            context["candidates"] = shown[: candidate_claims.SHOWN]
            context["more_candidates"] = shown[candidate_claims.SHOWN :]
            context["candidate_count"] = len(shown)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _candidate(self, request, source: Source) -> CandidateSentence | None:
        """The candidate sentence of `source` named by `?candidate=`, if any."""
        raw = request.GET.get("candidate")
        if raw is None:
            return None
        return _candidate_of(source, int(raw) if raw.isascii() and raw.isdigit() else -1)

    def dismiss_candidate_view(self, request, object_id, candidate_id):
        """Dismiss a candidate claim: the editor sees nothing in it to check."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        source = self.get_object(request, unquote(object_id))
        if source is None:
            raise Http404("No such source.")
        candidate = _candidate_of(source, candidate_id)
        candidate_claims.dismiss(candidate, user=request.user)
        self.message_user(
            request,
            f"Dismissed “{Truncator(candidate.text).chars(80)}”: it is no longer offered "
            "as a candidate claim.",
            messages.SUCCESS,
        )
        change = reverse("admin:sources_source_change", args=[source.pk])
        return HttpResponseRedirect(f"{change}#candidates")

    def _appearance_instead(self, request, source, form, candidate):
        """The words anchored as a quote of `source` and the chosen existing claim
        appearing through them; a redirect to that claim, or None with the refusal on
        the form."""
        claim = Claim.objects.filter(pk=_number(request.POST["appearance_for"])).first()
        if claim is None:
            raise Http404("No such claim.")
        data = form.cleaned_data
        try:
            add_as_appearance(
                claim=claim,
                source=source,
                speaker=data["speaker"],
                words=data["words"],
                quote_kind=data["quote_kind"],
                editor=request.user,
                context_before=candidate_claims.context_before(candidate, source, data["words"])
                if candidate
                else "",
            )
        except ValidationError as error:
            _show_on(form, error)
            return None
        if candidate is not None:
            candidate_claims.mark_drafted(candidate, claim)
        self.message_user(
            request,
            f"“{claim.short_statement}” now appears in this source through the words you "
            "chose: a repeat is an appearance of the claim, not a new claim.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[claim.pk]))

    def draft_claim_view(self, request, object_id):
        """Draft a claim from words of this source's text: the words anchored as a quote,
        the draft appearing through it (claims.services.draft_claim_from_quote)."""
        source = self.get_object(request, unquote(object_id))
        if source is None:
            raise Http404("No such source.")
        if not request.user.has_perm("claims.add_claim"):
            raise PermissionDenied("Drafting claims is for the desk.")
        # From a candidate claim (the source's page): its sentence is the words, and the
        # candidate is marked drafted with the claim once it is saved. The form posts
        # back to this address, `?candidate=` included.
        candidate = self._candidate(request, source)
        form = DraftClaimForm(
            request.POST if request.method == "POST" else None,
            initial={"words": candidate.text} if candidate else None,
            admin_site=self.admin_site,
        )
        if form.is_bound and "appearance_for" in request.POST and form.is_valid():
            # A likely duplicate the editor chose (claims.duplicates): the words become
            # its appearance, not a new claim.
            recorded = self._appearance_instead(request, source, form, candidate)
            if recorded is not None:
                return recorded
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                claim = draft_claim_from_quote(
                    source=source,
                    speaker=data["speaker"],
                    words=data["words"],
                    statement=data["statement"],
                    short_form=data["short_form"],
                    kind=data["kind"],
                    quote_kind=data["quote_kind"],
                    editor=request.user,
                    context_before=candidate_claims.context_before(candidate, source, data["words"])
                    if candidate
                    else "",
                )
            except ValidationError as error:
                _show_on(form, error)
            else:
                if candidate is not None:
                    candidate_claims.mark_drafted(candidate, claim)
                self.message_user(
                    request,
                    f"Draft claim “{claim.short_statement}” created: it appears in this source "
                    "through the words you chose. Word it neutrally before it is published.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[claim.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Draft a claim from this source",
            "source": source,
            "original": source,
            "candidate": candidate,
            "form": form,
            "opts": self.opts,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request,
            "admin/sources/source/draft_claim.html",
            context,
            status=400 if form.errors else 200,
        )

    def get_readonly_fields(self, request, obj=None):
        # The snapshot is archived evidence: set once, never edited (the database refuses too).
        if obj is not None:
            return [*self.readonly_fields, "snapshot"]
        return []


def _candidate_of(source: Source, number: int) -> CandidateSentence:
    # Beyond a bigint no row has the id (and PostgreSQL would refuse the query).
    found = (
        CandidateSentence.objects.filter(source=source, pk=number).first()
        if 0 < number < 2**63
        else None
    )
    if found is None:
        raise Http404("No such candidate claim in this source.")
    return found


def _number(raw: str) -> int:
    """A posted id as a number PostgreSQL can compare (-1, which no row has, otherwise)."""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63 else -1


def _show_on(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form's fields, or above them for the fields the form
    does not ask for (a numeric claim's quantity, say)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_of_field in error.message_dict.items():
        target = field if field in form.fields else None
        for message in messages_of_field:
            form.add_error(target, message)
