import copy
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst

from claims import dashboard, sign_off
from claims.forms import ClaimAdminForm, CorrectionForm, ReviewForm, UnpublishForm
from claims.ledger.verification import verify_ledger
from claims.markdown import render_markdown
from claims.models import (
    MEDIA_FIELDS,
    STATEMENT_MAX,
    Appearance,
    Claim,
    ExternalReview,
    Quote,
    RatingWord,
    Review,
    ReviewEvidence,
    Speaker,
    Topic,
    VerdictProposal,
    normalized_rating_words,
    rating_word_statuses,
)
from claims.ratings import RATINGS, Status
from claims.review_screen import DeskReviewForm, NewSourceForm
from claims.search import search_query
from claims.services import (
    ASSIGN_PERMISSION,
    PUBLISH_PERMISSION,
    RECORD_REVIEW_PERMISSION,
    VersionConflict,
    assign_claim,
    check_claim_edit,
    correct_claim,
    find_quote,
    needs_sign_off,
    publish_claim,
    record_review,
    unpublish_claim,
)
from claims.source_pipeline import process_source_text
from claims.templatetags.ledger import status_badge
from factcheck.admin_history import EditHistoryMixin
from factcheck.admin_lists import LargeTableAdmin, ReadOnlyAdmin, RelatedTextFilter
from sources.models import Source


def count_of(model, field: str):
    """How many `model` rows point at each listed row through `field`: a subquery that
    PostgreSQL runs for the rows of the page only, where a JOIN ... GROUP BY would
    count the whole table before a page could be cut."""
    rows = model._default_manager.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("*")).values("n")), 0)


@admin.register(Speaker)
class SpeakerAdmin(EditHistoryMixin, LargeTableAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "role", "affiliation", "claim_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "role", "affiliation", "aliases"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name", "pk"]
    # Sorting by the number of claims would count every speaker's claims.
    sortable_by = ["name", "kind"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(claim_count=count_of(Claim, "speaker"))

    @admin.display(description="Claims")
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
    autocomplete_fields = ["source", "quote"]
    verbose_name_plural = "appearances (where the claim was made, and through which quote)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "quote__speaker")


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(rating.value, rating.label) for rating in RATINGS]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class PublishedFilter(admin.SimpleListFilter):
    title = "publication"
    parameter_name = "published"

    def lookups(self, request, model_admin):
        return [("yes", "Published"), ("no", "Draft")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.published()
        if self.value() == "no":
            return queryset.drafts()
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    # The desk's members by name, at most this many; anyone else by id (?assignee=ID).
    shown = 30

    def lookups(self, request, model_admin):
        # The desk's accounts, not "everyone with a claim", which reads every claim.
        desk = get_user_model().objects.filter(is_staff=True, is_active=True)
        return [
            ("me", "Assigned to me"),
            ("none", "Unassigned"),
            *(
                (str(user.pk), user.get_username())
                for user in desk.order_by("username")[: self.shown]
            ),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class QueueFilter(admin.SimpleListFilter):
    """The desk's queues, as the dashboard counts them (claims.dashboard.QUEUES)."""

    title = "desk queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(queue.key, queue.label()) for queue in dashboard.QUEUES]

    def queryset(self, request, queryset):
        queue = dashboard.BY_KEY.get(self.value() or "")
        if queue is None:
            return queryset
        return queue.select(queryset, request.user, dashboard.now())


class SpeakerFilter(RelatedTextFilter):
    title = "speaker"
    parameter_name = "speaker"
    field_path = "speaker"
    related_model = Speaker


class SourceFilter(RelatedTextFilter):
    title = "source"
    parameter_name = "source"
    field_path = "source"
    related_model = Source
    search_fields = ("title",)
    label_field = "title"


class ClaimSourceFilter(SourceFilter):
    """Claims that appear in the sources typed (by title) or chosen (by id)."""

    def queryset(self, request, queryset):
        if not (self.value() or "").strip():
            return queryset
        appearances = super().queryset(request, Appearance.objects.all())
        # A semi-join: no DISTINCT over the claims, so the page is still cut early.
        return queryset.filter(pk__in=appearances.values("claim_id"))


class UserFilter(RelatedTextFilter):
    related_model = get_user_model()
    search_fields = ("username", "first_name", "last_name")
    label_field = "username"


# A claim page shows this many of the claim's newest ledger entries, and links to the rest.
LEDGER_SHOWN = 50

STATEMENT_TOO_LONG = (
    "The statement is %(show_value)d characters long; a statement is at most "
    "%(limit_value)d characters. Keep it to the checkable claim, a sentence or two, "
    "and put the context in the short form, the appearances or the explanation."
)
assert str(STATEMENT_MAX) not in STATEMENT_TOO_LONG  # the limit comes from the field

# What an account that may not write to the ledger is told (the 403 page adds whom to ask).
EDITORS_ONLY = "{} is for the desk's editors; your account is not in the Editors group."


def _folded_unless_used(fieldsets, claim):
    """The number's and the media's fields folded away (a <details>, no script) on a
    claim they do not apply to: most claims are neither, and the review screen's
    page is long enough. A claim that has such values keeps them in view; a new
    claim shows them all, its kind not chosen yet."""
    if claim is None:
        return fieldsets
    uses = {
        "Number": claim.kind == Claim.Kind.NUMERIC or claim.quantity is not None,
        "The media": claim.kind == Claim.Kind.MEDIA or bool(claim.media_authenticity),
    }
    folded = []
    for name, options in fieldsets:
        if name in uses and not uses[name] and "collapse" not in options.get("classes", []):
            options = {**options, "classes": [*options.get("classes", []), "collapse"]}
        folded.append((name, options))
    return folded


@admin.register(Claim)
class ClaimAdmin(EditHistoryMixin, LargeTableAdmin, admin.ModelAdmin):
    list_display = [
        "statement_short",
        "speaker",
        "status_badge",
        "is_published",
        "assignee",
        "status_changed_at",
        "appearance_count",
    ]
    list_display_links = ["statement_short"]
    list_filter = [
        QueueFilter,
        StatusFilter,
        PublishedFilter,
        AssigneeFilter,
        "kind",
        "topics",
        SpeakerFilter,
        ClaimSourceFilter,
        # A range, not the date hierarchy, which reads every claim's date for its menu.
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["speaker", "assignee"]
    list_per_page = 50
    # Served by an index on (created_at, id) read backwards.
    ordering = ["-created_at", "-pk"]
    # Only the columns an index serves: any other sort reads and sorts every claim.
    sortable_by = ["status_changed_at"]
    search_fields = ["statement"]  # replaced by full-text search below
    search_help_text = (
        "Full-text search over statements, speakers and quoted words: "
        '"exact phrase", -excluded, either OR other.'
    )
    prepopulated_fields = {"slug": ["statement"]}
    # Pickers that ask for a few rows as one types, never a list of every row.
    autocomplete_fields = ["speaker", "assignee", "topics", "superseded_by"]
    readonly_fields = [
        "status_badge",
        "version",
        "published_at",
        "status_changed_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "statement",
                    "short_form",
                    "slug",
                    "speaker",
                    "claim_date",
                    "kind",
                    "language",
                ]
            },
        ),
        (
            "Number",
            {
                "fields": ["quantity", "unit", "quantity_qualifier"],
                "description": "For numeric claims: the number, its unit and how exact it is.",
            },
        ),
        (
            "The media",
            {
                "fields": ["media_type", "media_authenticity", *MEDIA_FIELDS[1:]],
                "description": "For claims about an image, video or audio: the media itself "
                "and what it is, published as a MediaReview beside the verdict.",
            },
        ),
        ("Filing", {"fields": ["topics", "assignee"]}),
        (
            "In time",
            {
                "fields": ["holds_as_of", "superseded_by"],
                "description": "When a figure or a state changes (a bounty raised, a toll "
                "revised), the newer claim supersedes the older: each keeps its own verdict, "
                "and the claim pages show the chain. Not a correction: no ledger entry.",
            },
        ),
        (
            "Verification (changed only through the ledger below)",
            {
                "classes": ["collapse"],
                "fields": [
                    "status_badge",
                    "published_at",
                    "status_changed_at",
                    "version",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]
    inlines = [AppearanceInline]
    actions = ["assign_to_me", "mark_in_review", "publish", "unpublish"]
    change_form_template = "admin/claims/claim/change_form.html"
    form = ClaimAdminForm

    class Media:
        css = {"all": ["claims/status.css"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            # The list's columns, and a locked claim's read-only speaker, from this query
            # (a queryset that selects related rows already skips list_select_related).
            .select_related(*self.list_select_related)
            .annotate(appearance_count=count_of(Appearance, "claim"))
        )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        query = search_query(search_term)
        return queryset.filter(Q(search_vector=query) | Q(slug=search_term.strip())), False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "statement" and field is not None:
            # No maxlength on the textarea: a browser would cut a pasted statement at
            # the limit without a word, mid-sentence. The form says how long it is.
            field.widget.attrs.pop("maxlength", None)
            field.error_messages["max_length"] = STATEMENT_TOO_LONG
        return field

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Giving work to others is the editors' call (claims.services.assign_claim).
        if not request.user.has_perm(ASSIGN_PERMISSION):
            fields.append("assignee")
        if self._checkable_fields_locked(request, obj):
            fields.extend(Claim.CHECKABLE_FIELDS)
        return fields

    @staticmethod
    def _checkable_fields_locked(request, obj) -> bool:
        """Whether the form leaves out the checkable fields: a published or rated
        claim's change only through a correction (`correct_view`)."""
        if obj is None or not obj.is_locked:
            return False
        # A form opened while the claim was still an unrated draft sends them back:
        # they stay in the form, so that a change among them is refused in words
        # (ClaimAdminForm) instead of being dropped in silence.
        return not (
            request.method == "POST"
            and any(name in request.POST for name in Claim.CHECKABLE_FIELDS)
        )

    def get_prepopulated_fields(self, request, obj=None):
        # The slug follows the statement only while both are in the form.
        readonly = set(self.get_readonly_fields(request, obj))
        return {
            name: sources
            for name, sources in super().get_prepopulated_fields(request, obj).items()
            if name not in readonly and not readonly.intersection(sources)
        }

    def get_fieldsets(self, request, obj=None):
        fieldsets = _folded_unless_used(super().get_fieldsets(request, obj), obj)
        if obj is None or not obj.is_locked:
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "description": self._locked_note(request, obj)}), *rest]

    def _locked_note(self, request, obj):
        why = " and ".join(
            word
            for word, applies in (("published", obj.is_published), ("rated", obj.has_verdict))
            if applies
        )
        fields = (
            "the statement, speaker, date, kind, quantity, unit and media rating change only "
            "through a correction recorded in the ledger"
        )
        if self.has_record_review_permission(request):
            return format_html(
                '<span class="locked-note" id="locked-note">{}: {}. Editors: '
                '<a href="#correct">Correct this claim</a>, below.</span>',
                capfirst(why),
                fields,
            )
        return format_html(
            '<span class="locked-note" id="locked-note">{}: {}; ask an editor to correct '
            "it.</span>",
            capfirst(why),
            fields,
        )

    def save_model(self, request, obj, form, change):
        # ClaimAdminForm has refused such an edit in words already; this is the last
        # check before the write (PostgreSQL's trigger would refuse it with a 500).
        check_claim_edit(claim=obj, changed=form.changed_data)
        for match in getattr(form, "other_figures", []):
            # Not duplicates (their numbers differ), perhaps this claim at another time.
            self.message_user(
                request,
                format_html(
                    "A claim with the same words and other figures exists: "
                    '<a href="{}">{}</a>. If one replaces the other, link them in time '
                    "(“Superseded by” on the older one).",
                    reverse("admin:claims_claim_change", args=[match.claim.pk]),
                    match.claim.statement,
                ),
                messages.INFO,
            )
        assignee_changed = "assignee" in form.changed_data
        new_assignee = obj.assignee
        if assignee_changed and change:
            obj.assignee = Claim.objects.only("assignee").get(pk=obj.pk).assignee
        elif assignee_changed:
            obj.assignee = None
        super().save_model(request, obj, form, change)
        if assignee_changed:
            assign_claim(claim=obj, assignee=new_assignee, by=request.user)

    # List columns

    @admin.display(description="Statement")
    def statement_short(self, obj):
        return Truncator(obj.statement).chars(110)

    @admin.display(description="Status")
    def status_badge(self, obj):
        return status_badge(obj.status)

    @admin.display(description="Published", boolean=True)
    def is_published(self, obj):
        return obj.is_published

    @admin.display(description="Appearances")
    def appearance_count(self, obj):
        return obj.appearance_count

    # Actions: each goes through the same service as the claim page.

    def _each(self, request, queryset, act, done: str):
        succeeded, failures = 0, []
        for claim in queryset.order_by("pk"):
            try:
                act(claim)
                succeeded += 1
            except (ValidationError, VersionConflict, PermissionDenied) as exc:
                failures.append(f"{Truncator(claim.statement).chars(60)}: {_message(exc)}")
        if succeeded:
            self.message_user(request, f"{done}: {succeeded} claim(s).", messages.SUCCESS)
        for failure in failures:
            self.message_user(request, failure, messages.WARNING)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda claim: assign_claim(claim=claim, assignee=request.user, by=request.user),
            "Assigned to you",
        )

    @admin.action(description="Mark in review", permissions=["record_review"])
    def mark_in_review(self, request, queryset):
        self._each(
            request,
            queryset.exclude(status=Status.IN_REVIEW),
            lambda claim: record_review(
                claim=claim,
                editor=request.user,
                status=Status.IN_REVIEW,
                explanation="",
                expected_version=claim.version,
            ),
            "Marked in review",
        )

    @admin.action(description="Publish", permissions=["publish"])
    def publish(self, request, queryset):
        self._each(
            request,
            queryset.drafts(),
            lambda claim: publish_claim(
                claim=claim, editor=request.user, expected_version=claim.version
            ),
            "Published",
        )

    @admin.action(description="Unpublish…", permissions=["publish"])
    def unpublish(self, request, queryset):
        form = UnpublishForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._each(
                request,
                queryset.published(),
                lambda claim: unpublish_claim(
                    claim=claim,
                    editor=request.user,
                    expected_version=claim.version,
                    explanation=form.cleaned_data["explanation"],
                ),
                "Unpublished",
            )
            return None
        return TemplateResponse(
            request,
            "admin/claims/claim/unpublish.html",
            {
                **self.admin_site.each_context(request),
                "title": "Unpublish claims",
                "opts": self.opts,
                "claims": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def has_record_review_permission(self, request):
        return request.user.has_perm(RECORD_REVIEW_PERMISSION)

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    # The claim page: the ledger, and the forms that append to it.

    def get_urls(self):
        return [
            path(
                "<path:object_id>/record-review/",
                self.admin_site.admin_view(self.record_review_view),
                name="claims_claim_record_review",
            ),
            path(
                "<path:object_id>/proposals/<int:proposal_id>/",
                self.admin_site.admin_view(self.proposal_decision_view),
                name="claims_claim_decide_proposal",
            ),
            path(
                "<path:object_id>/publication/",
                self.admin_site.admin_view(self.publication_view),
                name="claims_claim_publication",
            ),
            path(
                "<path:object_id>/correct/",
                self.admin_site.admin_view(self.correct_view),
                name="claims_claim_correct",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        claim = self.get_object(request, unquote(object_id))
        extra = extra_context or {}
        if claim is not None:
            extra = {**self._desk_context(request, claim), **extra}
        return super().change_view(request, object_id, form_url, extra)

    def render_change_form(self, request, context, *args, **kwargs):
        for form in ("review_form", "correction_form"):
            if context.get(form) is not None:
                context["media"] = context["media"] + context[form].media
        if context.get("review_form") is not None and context.get("claim") is not None:
            context["claim_sources"] = _claim_sources(self._appearances_shown(context))
        return super().render_change_form(request, context, *args, **kwargs)

    @staticmethod
    def _appearances_shown(context) -> Any:
        """The claim's appearances as its inline lists them (with their sources and
        quotes): the review screen shows the same rows, without reading them twice."""
        for inline in context.get("inline_admin_formsets", []):
            if isinstance(inline.opts, AppearanceInline):
                return inline.formset.get_queryset()
        return AppearanceInline.model.objects.filter(claim=context["claim"]).select_related(
            "source", "quote__speaker"
        )

    def _desk_context(
        self,
        request,
        claim,
        review_form=None,
        conflict=None,
        correction_form=None,
        correction_conflict=None,
    ):
        entries = (
            claim.reviews.select_related("editor", "approved_by")
            .prefetch_related(
                Prefetch(
                    "evidence_links",
                    queryset=ReviewEvidence.objects.select_related("source").order_by("position"),
                )
            )
            .order_by("-sequence")[: LEDGER_SHOWN + 1]
        )
        can_review = self.has_record_review_permission(request)
        if review_form is None and can_review:
            review_form = DeskReviewForm(
                initial={"expected_version": claim.version, "expected_etag": claim.etag},
                claim=claim,
                admin_site=self.admin_site,
            )
        if correction_form is None and can_review and claim.is_locked:
            correction_form = CorrectionForm(claim=claim, admin_site=self.admin_site)
        proposal = sign_off.pending_for(claim)
        return {
            "claim": claim,
            "pending_proposal": proposal,
            "proposal_stale": sign_off.stale_because(proposal, claim) if proposal else "",
            "sign_off_required": settings.VERDICT_SIGN_OFF,
            # The newest LEDGER_SHOWN, and whether there are more (the ledger list has them all).
            "ledger_entries": SimpleLazyObject(lambda: _with_change_rows(entries)[:LEDGER_SHOWN]),
            "ledger_more": SimpleLazyObject(lambda: len(entries) > LEDGER_SHOWN),
            "ledger_url": reverse("admin:claims_review_changelist")
            + f"?claim__id__exact={claim.pk}",
            "review_form": review_form if can_review else None,
            "new_source_form": self._new_source_form(request) if can_review else None,
            "can_publish": self.has_publish_permission(request),
            "can_correct": can_review,
            "unpublish_form": UnpublishForm(),
            "conflict": conflict,
            "correction_form": correction_form if can_review else None,
            "correction_conflict": correction_conflict,
        }

    def record_review_view(self, request, object_id):
        """The review screen's form, posted (editors only; a GET goes to the screen).

        "Preview" shows the claim page again with the explanation rendered, and
        records nothing. Otherwise the verdict is recorded through the review
        service, citing the sources ticked and picked and the one added in place,
        which is created in the same transaction: refused, nothing of it is kept.
        Then back to the top of the claim page, where the message says what was
        recorded; or the claim page again with what was wrong (400), or what
        someone else changed meanwhile (409), every word typed kept.
        """
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_record_review_permission(request):
            raise PermissionDenied(EDITORS_ONLY.format("Recording a verdict"))
        change_url = reverse("admin:claims_claim_change", args=[claim.pk])
        if request.method != "POST":
            return HttpResponseRedirect(f"{change_url}#record-review")
        form = DeskReviewForm(request.POST, claim=claim, admin_site=self.admin_site)
        new_source = self._new_source_form(request, bound=True)
        adding = new_source is not None and new_source.is_used
        # Both validated, so that the errors of both are shown at once.
        review_ok = form.is_valid()
        source_ok = new_source.is_valid() if adding and new_source is not None else True
        if "preview" in request.POST:
            preview = render_markdown(form.data.get("explanation", ""))
            return self._review_screen(request, claim, form, new_source, preview=preview)
        conflict = None
        if review_ok and source_ok:
            conflict = _edited_since_loaded(claim, form)
            if conflict is None:
                proposing = "propose" in request.POST or needs_sign_off(form.cleaned_data["status"])
                try:
                    written, source = self._record_verdict(
                        request, claim, form, new_source if adding else None, propose=proposing
                    )
                except VersionConflict as exc:
                    conflict = str(exc)
                    claim.refresh_from_db()
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    added = f" The new source “{source.title}” is cited." if source else ""
                    if isinstance(written, VerdictProposal):
                        done = (
                            f"Proposed “{written.get_status_display()}” for a second editor's "
                            "approval: it reaches the ledger and readers once another editor "
                            f"approves it.{added}"
                        )
                    else:
                        done = f"Recorded ledger entry #{written.sequence}: {written.summary}."
                        done += added
                    self.message_user(request, done, messages.SUCCESS)
                    return HttpResponseRedirect(change_url)
            if conflict is not None:
                form = self._review_form_after_conflict(request, claim)
        return self._review_screen(
            request, claim, form, new_source, conflict=conflict, status=409 if conflict else 400
        )

    def _record_verdict(
        self,
        request,
        claim: Claim,
        form: DeskReviewForm,
        new_source: NewSourceForm | None,
        *,
        propose: bool = False,
    ) -> tuple[Review | VerdictProposal, Source | None]:
        # A savepoint: a refused verdict takes the source added for it along.
        with transaction.atomic():
            source = new_source.save() if new_source is not None else None
            if source is not None:
                process_source_text(source)
            write = sign_off.propose_verdict if propose else record_review
            written = write(
                claim=claim,
                editor=request.user,
                status=form.cleaned_data["status"],
                explanation=form.cleaned_data["explanation"],
                evidence=form.cited(source),
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["expected_version"],
            )
        return written, source

    def proposal_decision_view(self, request, object_id, proposal_id):
        """Approve, send back or withdraw the claim's proposed verdict (a POST from the
        review screen); then back to the claim, the message saying what happened or
        why nothing did. The rules are claims.sign_off's."""
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_record_review_permission(request):
            raise PermissionDenied(EDITORS_ONLY.format("Deciding a proposed verdict"))
        change_url = reverse("admin:claims_claim_change", args=[claim.pk])
        if request.method != "POST":
            return HttpResponseRedirect(f"{change_url}#record-review")
        proposal = sign_off.proposals().filter(claim=claim, pk=proposal_id).first()
        if proposal is None:
            raise Http404("No such proposed verdict for this claim.")
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                entry = sign_off.approve_proposal(proposal=proposal, editor=request.user)
                done = (
                    f"Approved: ledger entry #{entry.sequence}, {entry.summary}, by "
                    f"{proposal.proposed_by} and approved by you."
                )
            elif decision == "send_back":
                sign_off.send_back_proposal(
                    proposal=proposal, editor=request.user, reason=request.POST.get("reason", "")
                )
                done = f"Sent back to {proposal.proposed_by}, with your reason."
            elif decision == "withdraw":
                sign_off.withdraw_proposal(proposal=proposal, editor=request.user)
                done = "Your proposed verdict is withdrawn."
            else:
                return HttpResponseBadRequest("Unknown decision.")
        except (PermissionDenied, ValidationError) as refused:
            reason = " ".join(refused.messages) if isinstance(refused, ValidationError) else refused
            self.message_user(request, f"Nothing was changed: {reason}", messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def _new_source_form(self, request, *, bound: bool = False) -> NewSourceForm | None:
        """The review screen's "add a source" form, for those who may add sources."""
        if not request.user.has_perm("sources.add_source"):
            return None
        return NewSourceForm(request.POST, request.FILES) if bound else NewSourceForm()

    def _review_screen(self, request, claim, form, new_source, *, status=200, **extra):
        """The claim page, as a GET shows it, with the review form as it was sent."""
        as_shown = copy.copy(request)
        # The claim's own form and inlines are shown, not bound to the review's POST.
        as_shown.method = "GET"
        response = self.change_view(
            as_shown,
            str(claim.pk),
            extra_context={
                "review_form": form,
                "new_source_form": new_source,
                "review_preview": extra.get("preview"),
                "conflict": extra.get("conflict"),
            },
        )
        response.status_code = status
        return response

    def correct_view(self, request, object_id):
        """Change a published or rated claim's checkable fields, as a correction entry."""

        def write(claim: Claim, form: CorrectionForm) -> Review:
            return correct_claim(
                claim=claim,
                editor=request.user,
                expected_version=form.cleaned_data["expected_version"],
                correction_class=form.cleaned_data["correction_class"],
                reason=form.cleaned_data["reason"],
                changes=form.changes(),
                note=form.cleaned_data["note"],
            )

        return self._desk_form_view(
            request,
            object_id,
            section="correct",
            template="admin/claims/claim/correct.html",
            title="Correct this claim",
            refused="Correcting a published or rated claim",
            form_name="correction_form",
            conflict_name="correction_conflict",
            bind=lambda claim, data: CorrectionForm(data, claim=claim, admin_site=self.admin_site),
            write=write,
            form_after_conflict=lambda claim, form: self._correction_form_after_conflict(
                request, form, claim
            ),
        )

    def _desk_form_view[FormT: forms.Form](
        self,
        request,
        object_id,
        *,
        section: str,
        template: str,
        title: str,
        refused: str,
        form_name: str,
        conflict_name: str,
        bind: Callable[[Claim, QueryDict], FormT],
        write: Callable[[Claim, FormT], Review],
        form_after_conflict: Callable[[Claim, FormT], FormT],
        edited_meanwhile: Callable[[Claim, FormT], str | None] | None = None,
    ):
        """A desk form of the claim page, posted (editors only; a GET goes to its
        `section` of the claim page).

        The entry `write` appends, then back to the ledger; or the form again, on
        `template` with the claim's ledger: 400 with what was wrong, 409 when
        someone else changed the claim first (`edited_meanwhile` says so before the
        write, VersionConflict during it), the form then rebuilt against the claim
        as it is now by `form_after_conflict`, every word the editor typed kept.
        """
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_record_review_permission(request):
            raise PermissionDenied(EDITORS_ONLY.format(refused))
        change_url = reverse("admin:claims_claim_change", args=[claim.pk])
        if request.method != "POST":
            return HttpResponseRedirect(f"{change_url}#{section}")
        form = bind(claim, request.POST)
        conflict = None
        if form.is_valid() and edited_meanwhile and (conflict := edited_meanwhile(claim, form)):
            form = form_after_conflict(claim, form)
        elif form.is_valid():
            try:
                entry = write(claim, form)
            except VersionConflict as exc:
                conflict = str(exc)
                claim.refresh_from_db()
                form = form_after_conflict(claim, form)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                self.message_user(
                    request,
                    f"Recorded ledger entry #{entry.sequence}: {entry.summary}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url + "#ledger")
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                **self._desk_context(request, claim, **{form_name: form, conflict_name: conflict}),
                "title": title,
                "opts": self.opts,
                "original": claim,
                "media": self.media + form.media,
            },
            status=409 if conflict else 400,
        )

    def _review_form_after_conflict(self, request, claim: Claim) -> DeskReviewForm:
        """The editor's verdict again, against the claim as it is now: every word they
        typed is kept; re-sending it is a decision taken with the other change in view."""
        data = request.POST.copy()
        data["expected_version"] = claim.version
        data["expected_etag"] = claim.etag
        form = DeskReviewForm(data, claim=claim, admin_site=self.admin_site)
        form.is_valid()
        return form

    def _correction_form_after_conflict(self, request, form, claim):
        """The editor's form again, against the claim as it is now.

        Every word they typed is kept. A field that someone else corrected
        meanwhile and that they had left as it was takes its new value, so that
        sending again does not undo the other correction; a field both of them
        changed keeps theirs, with a note saying what it reads now.
        """
        loaded = form.cleaned_data["expected_version"]
        data = request.POST.copy()
        data["expected_version"] = claim.version
        current = CorrectionForm.values_of(claim)
        # field: (value as the editor loaded it, the entry)
        corrected_meanwhile: dict[str, tuple[Any, Review]] = {}
        for entry in (
            claim.reviews.filter(claim_version__gt=loaded, action=Review.Action.CORRECTION)
            .select_related("editor")
            .order_by("sequence")
        ):
            for name, change in entry.changes.items():
                loaded_value = corrected_meanwhile.get(name, (change["from"], None))[0]
                corrected_meanwhile[name] = (loaded_value, entry)
        both = {}
        for name, (loaded_value, entry) in corrected_meanwhile.items():
            if name not in form.fields:
                continue
            typed = CorrectionForm.content_value(name, form.cleaned_data[name])
            if typed == CorrectionForm.content_value(name, loaded_value):
                data[name] = CorrectionForm.as_data(current[name])
            elif typed != CorrectionForm.content_value(name, current[name]):
                both[name] = entry
        form = CorrectionForm(data, claim=claim, admin_site=self.admin_site)
        form.is_valid()
        for name, entry in both.items():
            form.add_error(
                name,
                f"{entry.editor} corrected this too (ledger entry #{entry.sequence}); "
                f"it now reads: {_shown(name, entry.changes[name]['to']) or '(empty)'}. "
                "Yours is kept: check it is still what you mean.",
            )
        return form

    def publication_view(self, request, object_id):
        claim = self.get_object(request, unquote(object_id))
        if claim is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_publish_permission(request):
            raise PermissionDenied(EDITORS_ONLY.format("Publishing or unpublishing a claim"))
        change_url = reverse("admin:claims_claim_change", args=[claim.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        try:
            expected_version = int(request.POST.get("expected_version", ""))
        except ValueError:
            return HttpResponseBadRequest("expected_version is missing")
        try:
            if request.POST.get("action") == "publish":
                entry = publish_claim(
                    claim=claim, editor=request.user, expected_version=expected_version
                )
            else:
                entry = unpublish_claim(
                    claim=claim,
                    editor=request.user,
                    expected_version=expected_version,
                    explanation=request.POST.get("explanation", ""),
                )
        except (ValidationError, VersionConflict) as exc:
            self.message_user(request, _message(exc), messages.ERROR)
        else:
            self.message_user(
                request, f"Ledger entry #{entry.sequence}: {entry.summary}.", messages.SUCCESS
            )
        return HttpResponseRedirect(change_url + "#ledger")


def _edited_since_loaded(claim: Claim, form: ReviewForm) -> str | None:
    """Same version, yet edited: the wording (or speaker, or figures) changed under
    the editor since they loaded the claim (its etag). Their verdict might not fit
    the words now stored."""
    loaded = form.data.get("expected_etag", "")
    if loaded and loaded != claim.etag and form.cleaned_data["expected_version"] == claim.version:
        return (
            "The claim was edited since you loaded it (its wording, speaker or figures may "
            "have changed; see its History). Check the statement above still says what you "
            "reviewed."
        )
    return None


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _claim_field(name: str) -> "models.Field[Any, Any]":
    field = Claim._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a field of its own"
    return field


def _shown(name: str, value) -> str:
    """A checkable field's value as a ledger entry records it (claim_content), in words."""
    if value is None or value == "":
        return ""
    if isinstance(value, dict):  # the speaker, by the name the entry recorded
        return str(value.get("name", value))
    if name in ("kind", "media_authenticity", "media_type", "quantity_qualifier"):
        return str(dict(_claim_field(name).flatchoices).get(value, value))
    if name == "quantity":  # 50,000,000: a missing zero shows
        try:
            return f"{Decimal(value):,}"
        except (InvalidOperation, TypeError):
            return str(value)
    return str(value)


def _with_change_rows(entries) -> list[Review]:
    """The ledger's entries, each correction with its changes in words (`change_rows`)."""
    order = {name: position for position, name in enumerate(Claim.CHECKABLE_FIELDS)}
    entries = list(entries)
    for entry in entries:
        entry.change_rows = [
            {
                "field": name,
                "label": capfirst(_claim_field(name).verbose_name) if name in order else name,
                "before": _shown(name, change.get("from")),
                "after": _shown(name, change.get("to")),
            }
            for name, change in sorted(
                (entry.changes or {}).items(), key=lambda item: order.get(item[0], len(order))
            )
        ]
    return entries


def _claim_sources(appearances) -> list[dict[str, Any]]:
    """The sources of the claim's appearances, each with the appearances (and their
    quotes) it holds: what the review screen shows beside the verdict."""
    by_source: dict[int, dict[str, Any]] = {}
    for appearance in appearances:
        entry = by_source.setdefault(
            appearance.source_id, {"source": appearance.source, "appearances": []}
        )
        entry["appearances"].append(appearance)
    return list(by_source.values())


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# The words' language (detected when left blank: Quote.save) and a translation beside
# them; editable on a quote's page, unlike its anchor.
QUOTE_LANGUAGE_FIELDS = ["language", "translation", "translation_language"]


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
        fields = ["source", "speaker", "kind", *QUOTE_LANGUAGE_FIELDS]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        source, speaker = cleaned.get("source"), cleaned.get("speaker")
        if source and speaker and cleaned.get("words"):
            anchor, existing = find_quote(
                source=source,
                speaker=speaker,
                words=cleaned["words"],
                context_before=cleaned.get("context_before", ""),
            )
            # The service would hand the existing quote back; an add form cannot.
            if existing is not None:
                raise forms.ValidationError(
                    {"words": f"These words are already anchored in this source as {existing}."}
                )
            for name in ("exact", "prefix", "suffix", "start", "end"):
                setattr(self.instance, name, getattr(anchor, name))
        return cleaned


@admin.register(Quote)
class QuoteAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = ["__str__", "speaker", "kind", "language", "source", "start", "end"]
    list_filter = ["kind", SpeakerFilter, SourceFilter]
    list_select_related = ["speaker", "source"]
    # Newest first, by the primary key (Meta's order sorts by each source's own order).
    ordering = ["-pk"]
    sortable_by: ClassVar[list[str]] = []
    search_fields = ["exact", "speaker__name", "source__title"]
    autocomplete_fields = ["speaker", "source"]
    readonly_fields = ["exact", "prefix", "suffix", "start", "end", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = QuoteForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["source", "speaker", "kind", "words", "context_before", *QUOTE_LANGUAGE_FIELDS]
        return ["source", "speaker", "kind", *self.readonly_fields, *QUOTE_LANGUAGE_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        # An anchored quote's place in its source never changes; a new span is a new quote.
        if obj is not None:
            return ["source", *self.readonly_fields]
        return []


@admin.register(Appearance)
class AppearanceAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = ["claim", "source", "relayed", "quote", "created_at"]
    list_select_related = ["claim", "source", "quote"]
    list_filter = [SourceFilter]
    search_fields = ["claim__statement"]  # replaced by the claims' full-text search below
    search_help_text = "Full-text search over the claims' statements, speakers and quoted words."
    raw_id_fields = ["claim", "source", "quote"]
    ordering = ["-pk"]
    sortable_by: ClassVar[list[str]] = []

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(claim__search_vector=search_query(search_term)), False

    @admin.display(description="relayed")
    def relayed(self, appearance: Appearance) -> str:
        return appearance.relay_text or "—"


@admin.register(ExternalReview)
class ExternalReviewAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Other fact-checkers' reviews, as imported (manage.py import_reviews): their words,
    kept verbatim; an editor moves one to another claim or corrects an import."""

    list_display = [
        "publisher_name",
        "rating_text_short",
        "desk_reading",
        "claim",
        "date_published",
    ]
    list_select_related = ["claim"]
    search_fields = ["url", "publisher_name", "claim_text", "claimant"]
    search_help_text = "Searches the review's URL, publisher, wording and claimant."
    raw_id_fields = ["claim"]
    ordering = ["-pk"]
    sortable_by: ClassVar[list[str]] = []
    readonly_fields = ["desk_reading", "imported_from", "created_at", "updated_at"]

    @admin.display(description="rating")
    def rating_text_short(self, review: ExternalReview) -> str:
        return Truncator(review.rating_text).chars(80)

    @admin.display(description="desk's reading")
    def desk_reading(self, review: ExternalReview) -> str:
        """What the rating words map to on the desk's scale (RatingWord), if anything."""
        status = rating_word_statuses().get(normalized_rating_words(review.rating_text))
        return dict(Status.choices)[status] if status else "—"


@admin.register(RatingWord)
class RatingWordAdmin(admin.ModelAdmin):
    """The map from publishers' rating words to the desk's scale (docs/imports.md)."""

    list_display = ["words", "status", "note"]
    list_editable = ["status", "note"]
    list_filter = ["status"]
    search_fields = ["words"]
    ordering = ["words"]


class ReviewEvidenceInline(ReadOnlyAdmin, admin.TabularInline):
    model = ReviewEvidence
    fields: ClassVar[tuple[str, ...]] = ("position", "source")
    readonly_fields = fields
    extra = 0


class EditorFilter(UserFilter):
    title = "editor"
    parameter_name = "editor"
    field_path = "editor"


HEX_PREFIX = re.compile(r"[0-9a-f]{8,64}")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin, LargeTableAdmin, admin.ModelAdmin):
    list_display = [
        "sequence",
        "claim",
        "status_before",
        "status_after",
        "editor",
        "created_at",
        "short_hash",
    ]
    list_filter = [
        "status_after",
        "action",
        EditorFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["claim", "editor"]
    search_fields = ["entry_hash"]  # replaced below
    search_help_text = (
        "The start of an entry's hash (at least 8 hex digits), or words of the claim "
        "(full-text search over statements, speakers and quoted words)."
    )
    sortable_by = ["sequence", "created_at"]
    inlines = [ReviewEvidenceInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lower()
        if not term:
            return queryset, False
        if HEX_PREFIX.fullmatch(term):
            # Every hash that starts with `term` sorts in [term, term + "g") under any
            # collation (hex digits only), a range the unique index serves (0012).
            return queryset.filter(entry_hash__gte=term, entry_hash__lt=f"{term}g"), False
        return queryset.filter(claim__search_vector=search_query(term)), False

    @admin.display(description="Hash")
    def short_hash(self, obj):
        return obj.entry_hash[:12]

    def get_urls(self):
        return [
            path(
                "verify/",
                self.admin_site.admin_view(self.verify_view),
                name="claims_review_verify",
            ),
            *super().get_urls(),
        ]

    def verify_view(self, request):
        """Walk the whole chain now, as `manage.py verify_ledger` does."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = verify_ledger()
        return TemplateResponse(
            request,
            "admin/claims/review/verify.html",
            {
                **self.admin_site.each_context(request),
                "title": "Ledger verification",
                "opts": self.opts,
                "report": report,
            },
            status=200 if report.ok else 409,
        )


# --- API tokens: each member of the desk their own; superusers every one -------------

from rest_framework.authtoken.admin import TokenAdmin as RestTokenAdmin  # noqa: E402
from rest_framework.authtoken.models import Token, TokenProxy  # noqa: E402

from claims.roles import is_desk_member  # noqa: E402

ROTATE_CONFIRMATION = "I understand: tools using my current token stop working at once."


class OwnTokenForm(forms.Form):
    """Creating a token needs no more than the button; replacing one, a confirmation."""

    confirm = forms.BooleanField(required=False, label=ROTATE_CONFIRMATION)

    def __init__(self, *args, has_token: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_token = has_token

    def clean(self):
        cleaned = super().clean() or {}
        if self.has_token and not cleaned.get("confirm"):
            self.add_error("confirm", "Tick this to replace your token: the old one stops working.")
        return cleaned


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class DeskTokenAdmin(RestTokenAdmin):
    """The Tokens page: superusers (and whoever holds the token permissions) list and
    manage every token, as Django REST framework's admin does; every other member of
    the desk is sent to the page of their own token, and sees no one else's."""

    def _sees_all(self, request) -> bool:
        return request.user.has_perm("authtoken.view_tokenproxy")

    def has_module_permission(self, request):
        return is_desk_member(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if self._sees_all(request):
            return super().has_view_permission(request, obj)
        return is_desk_member(request.user) and (obj is None or obj.user_id == request.user.pk)

    def changelist_view(self, request, extra_context=None):
        if not self._sees_all(request):
            return HttpResponseRedirect(reverse("admin:authtoken_tokenproxy_own"))
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "own/",
                self.admin_site.admin_view(self.own_token_view),
                name="authtoken_tokenproxy_own",
            ),
            *super().get_urls(),
        ]

    def own_token_view(self, request):
        """The user's own API token, and a button (POST) to create or replace it."""
        if not is_desk_member(request.user):
            raise PermissionDenied("API tokens are for members of the desk.")
        token = Token.objects.filter(user=request.user).first()
        form = OwnTokenForm(
            request.POST if request.method == "POST" else None, has_token=token is not None
        )
        if form.is_bound and form.is_valid():
            replaced = token is not None
            # One token per user (its primary key is the key): the old row goes first.
            Token.objects.filter(user=request.user).delete()
            token = Token.objects.create(user=request.user)
            self.message_user(
                request,
                "Your new API token is below; the old one no longer works."
                if replaced
                else "Your API token is below.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.path)
        return TemplateResponse(
            request,
            "admin/authtoken/own_token.html",
            {
                **self.admin_site.each_context(request),
                "title": "Your API token",
                "opts": self.opts,
                "token": token,
                "form": form,
                "sees_all": self._sees_all(request),
            },
            status=400 if form.is_bound else 200,
        )


# --- Webhooks (claims/webhooks, docs/webhooks.md) ----------------------------------

import json  # noqa: E402

from claims.webhooks import worker as webhook_worker  # noqa: E402
from claims.webhooks.models import (  # noqa: E402
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    all_events,
    ledger_tip,
    new_secret,
)


class WebhookSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=all_events,
        help_text="docs/webhooks.md says which ledger entries are which event.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["url", "description", "events", "active"]


def _deliveries_in(status: str):
    rows = WebhookDelivery.objects.filter(subscription=OuterRef("pk"), status=status)
    return Coalesce(
        Subquery(rows.order_by().values("subscription").annotate(n=Count("*")).values("n")), 0
    )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Editors add subscribers, choose their events, and hand them the signing secret."""

    form = WebhookSubscriptionForm
    list_display = [
        "__str__",
        "url",
        "event_list",
        "active",
        "pending_count",
        "failed_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["active"]
    list_select_related = ["created_by"]
    search_fields = ["url", "description"]
    actions = ["rotate_secret"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=_deliveries_in(DeliveryStatus.PENDING),
                failed_count=_deliveries_in(DeliveryStatus.FAILED),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # The secret is made when the subscription is saved: shown from then on.
        if obj is None:
            return []
        return ["signing_secret", "cursor", "created_by", "created_at"]

    @admin.display(description="Events")
    def event_list(self, obj):
        return ", ".join(obj.events)

    @admin.display(description="Pending", ordering="pending_count")
    def pending_count(self, obj):
        return obj.pending_count

    @admin.display(description="Failed", ordering="failed_count")
    def failed_count(self, obj):
        return obj.failed_count

    @admin.display(description="Signing secret")
    def signing_secret(self, obj):
        return format_html(
            "<code>{}</code><div class='help'>Give it to the subscriber, privately: it verifies "
            "each request's <code>webhook-signature</code> with it (Standard Webhooks).</div>",
            obj.secret,
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.save()
            return
        fields = ["url", "description", "events", "active", "updated_at"]
        if "active" in form.changed_data and obj.active:
            # Back on: from the ledger's tip on, not what was recorded while it was off.
            obj.cursor = ledger_tip()
            fields.append("cursor")
        # Not the cursor otherwise: the worker moves it meanwhile.
        obj.save(update_fields=fields)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            "The subscription's signing secret is below: give it to the subscriber.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:claims_webhooksubscription_change", args=[obj.pk])
        )

    @admin.action(description="Generate a new signing secret", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            subscription.secret = new_secret()
            subscription.save(update_fields=["secret", "updated_at"])
        self.message_user(
            request,
            f"New secrets for {len(queryset)} subscription(s): deliveries are signed with them "
            "from now on. Give each to its subscriber.",
            messages.WARNING,
        )


class WebhookAttemptInline(ReadOnlyAdmin, admin.TabularInline):
    model = WebhookAttempt
    fields: ClassVar[tuple[str, ...]] = (
        "number",
        "started_at",
        "duration_ms",
        "status_code",
        "response_excerpt",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin, LargeTableAdmin, admin.ModelAdmin):
    """The delivery log: written by the worker, read here; "retry now" re-queues."""

    list_display = [
        "id",
        "subscription",
        "event",
        "entry",
        "claim_slug",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    ]
    list_filter = ["status", "event", "subscription"]
    list_select_related = ["subscription", "review"]
    sortable_by = ["id"]
    search_fields = ["subscription__url"]  # replaced below
    search_help_text = "A ledger entry's sequence number, or words of the subscriber's URL."
    fields: ClassVar[tuple[str, ...]] = (
        "subscription",
        "event",
        "entry",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "webhook_id",
        "payload",
    )
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["retry_now"]

    def has_retry_permission(self, request):
        """Whoever manages the subscriptions may send their deliveries again."""
        return request.user.has_perm("claims.change_webhooksubscription")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(review__sequence=int(term)), False
        return queryset.filter(
            Q(subscription__url__icontains=term) | Q(subscription__description__icontains=term)
        ), False

    @admin.display(description="Ledger entry", ordering="review__sequence")
    def entry(self, obj):
        return f"#{obj.review.sequence}"

    @admin.display(description="Claim")
    def claim_slug(self, obj):
        try:
            return json.loads(obj.body)["data"]["claim"]["slug"]
        except (ValueError, KeyError, TypeError):
            return "—"

    @admin.display(description="webhook-id")
    def webhook_id(self, obj):
        return obj.message_id

    @admin.display(description="Body (signed, as sent)")
    def payload(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html("<pre>{}</pre>", text)

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request, queryset):
        queued = webhook_worker.retry_now(queryset)
        skipped = len(queryset) - queued
        message = (
            f"{queued} deliver{'y' if queued == 1 else 'ies'} queued: the worker sends them next."
        )
        if skipped:
            message += f" {skipped} already delivered, left as they are."
        self.message_user(request, message, messages.SUCCESS)


import claims.admin_repeats  # noqa: E402, F401 - the repeats to review
import claims.admin_tips  # noqa: E402, F401 - the site pages and reader tips admin
