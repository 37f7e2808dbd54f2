"""The desk's "Repeats to review": passages of new sources that repeat a claim the desk
has published a verdict on (claims.repeats), newest first, pending ones by default.
Each row is accepted (the claim's appearance in the source is recorded) or dismissed,
by its own buttons or by the list's actions for several at once. Whoever may record
an appearance decides (claims.repeats.DECIDE_PERMISSION); the rows themselves are
written by the monitor only, never added or edited here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from claims import repeats
from claims.admin import SourceFilter  # claims.admin imports this module at its end
from claims.models import Claim, RepeatSuggestion, SuggestionStatus
from factcheck.admin_lists import LargeTableAdmin, RelatedTextFilter

# Characters of the source shown on each side of the passage on a suggestion's page.
CONTEXT_CHARS = 300
# A suggestion's page, all read-only.
SHOWN = (
    "claim_link",
    "source_link",
    "in_context",
    "score",
    "created_at",
    "status",
    "decided_by",
    "decided_at",
    "appearance",
)


class DecisionFilter(admin.SimpleListFilter):
    """Pending suggestions unless another decision (or all) is chosen."""

    title = "decision"
    parameter_name = "decision"

    def lookups(self, request, model_admin):
        return [*SuggestionStatus.choices, ("all", "All")]

    def value(self) -> str:
        return super().value() or SuggestionStatus.PENDING

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ClaimFilter(RelatedTextFilter):
    title = "claim"
    parameter_name = "claim"
    field_path = "claim"
    related_model = Claim
    search_fields = ("statement",)
    label_field = "statement"


@admin.register(RepeatSuggestion)
class RepeatSuggestionAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = ["passage", "claim_link", "source_link", "score", "created_at", "decision"]
    list_display_links = ["passage"]
    list_filter = [DecisionFilter, ClaimFilter, SourceFilter]
    list_select_related = ["claim", "source", "decided_by"]
    list_per_page = 50
    # Served by the index on (status, created_at) read backwards.
    ordering = ["-created_at", "-pk"]
    sortable_by: ClassVar[list[str]] = []
    actions = ["accept", "dismiss"]
    fields = SHOWN
    readonly_fields = SHOWN

    # --- who may do what: whoever records appearances decides ----------------------

    def _may_decide(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(repeats.DECIDE_PERMISSION)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_decide(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_decide(request) or super().has_view_permission(request, obj)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return self._may_decide(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the monitor finds them (claims.repeats.scan_source)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided by the buttons and actions, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a dismissed suggestion is kept: it is never suggested again

    # --- the list --------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[RepeatSuggestion]:
        # The source's text and the claim's search vector are not shown in the list.
        return super().get_queryset(request).defer("source__snapshot", "claim__search_vector")

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        return shown if self._may_decide(request) else shown[:-1] + ["status"]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        if request.method == "POST" and "decide" in request.POST:
            return self._decide_one(request)
        context = {"title": "Repeats to review", **(extra_context or {})}
        return super().changelist_view(request, context)

    @admin.display(description="passage")
    def passage(self, obj: RepeatSuggestion) -> str:
        return Truncator(obj.text).chars(400)

    @admin.display(description="repeats the claim")
    def claim_link(self, obj: RepeatSuggestion) -> str:
        return format_html(
            '<a href="{}">{}</a> <span class="quiet">({})</span>',
            reverse("admin:claims_claim_change", args=[obj.claim_id]),
            Truncator(obj.claim.statement).chars(160),
            obj.claim.get_status_display(),
        )

    @admin.display(description="in the source")
    def source_link(self, obj: RepeatSuggestion) -> str:
        source = obj.source
        return format_html(
            '<a href="{}">{}</a>{}',
            reverse("admin:sources_source_change", args=[source.pk]),
            Truncator(source.title).chars(100),
            format_html(", {}", source.published_on) if source.published_on else "",
        )

    @admin.display(description="decision")
    def decision(self, obj: RepeatSuggestion) -> str:
        if obj.status == SuggestionStatus.PENDING:
            return format_html(
                '<button type="submit" class="button" name="decide" value="accept:{0}">'
                "Accept</button> "
                '<button type="submit" class="button" name="decide" value="dismiss:{0}">'
                "Dismiss</button>",
                obj.pk,
            )
        return self._decided(obj)

    @staticmethod
    def _decided(obj: RepeatSuggestion) -> str:
        who = obj.decided_by.get_username() if obj.decided_by else "a former member of the desk"
        return format_html(
            "{} by {}, {}", obj.get_status_display(), who, f"{obj.decided_at:%Y-%m-%d %H:%M}"
        )

    @admin.display(description="the passage in its source")
    def in_context(self, obj: RepeatSuggestion) -> str:
        snapshot = obj.source.snapshot
        before = max(0, obj.start - CONTEXT_CHARS)
        after = obj.end + CONTEXT_CHARS
        return format_html(
            '<p class="repeat-context">{}{}<mark>{}</mark>{}{}</p>',
            "…" if before else "",
            snapshot[before : obj.start],
            snapshot[obj.start : obj.end],
            snapshot[obj.end : after],
            "…" if after < len(snapshot) else "",
        )

    # --- deciding ---------------------------------------------------------------------

    def _decide_one(self, request: HttpRequest) -> HttpResponse:
        """A row's Accept or Dismiss button (a submit button of the list's form)."""
        if not self._may_decide(request):
            raise PermissionDenied
        verb, _, pk = request.POST["decide"].partition(":")
        if verb not in ("accept", "dismiss") or not pk.isdigit():
            messages.error(request, "That is not a decision about a suggestion.")
            return HttpResponseRedirect(request.get_full_path())
        suggestion = get_object_or_404(
            RepeatSuggestion.objects.select_related("claim", "source").defer("source__snapshot"),
            pk=int(pk),
        )
        self._decide(request, [suggestion], verb)
        return HttpResponseRedirect(request.get_full_path())

    def _decide(self, request, suggestions: list[RepeatSuggestion], verb: str) -> None:
        done, refused = 0, []
        for suggestion in suggestions:
            try:
                if verb == "accept":
                    repeats.accept_suggestion(suggestion, request.user)
                else:
                    repeats.dismiss_suggestion(suggestion, request.user)
            except (ValidationError, PermissionDenied) as exc:
                refused.append(
                    f"“{Truncator(suggestion.text).chars(60)}”: {' '.join(_messages(exc))}"
                )
            else:
                done += 1
        if done:
            what = "accepted as an appearance" if verb == "accept" else "dismissed"
            plural = "s" if done != 1 else ""
            self.message_user(request, f"{done} suggestion{plural} {what}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(
        description="Accept the selected repeats (record each as an appearance)",
        permissions=["decide"],
    )
    def accept(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, _pending_first(queryset), "accept")

    @admin.action(description="Dismiss the selected repeats", permissions=["decide"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._decide(request, _pending_first(queryset), "dismiss")


def _pending_first(queryset: QuerySet) -> list[RepeatSuggestion]:
    """The selected suggestions, the pending ones only (the decided ones keep their
    first decision), with what the decision needs."""
    return list(
        queryset.filter(status=SuggestionStatus.PENDING)
        .select_related("claim", "source")
        .defer("source__snapshot", "claim__search_vector")
        .order_by("pk")
    )


def _messages(error: ValidationError | PermissionDenied) -> list[str]:
    if isinstance(error, ValidationError):
        return list(error.messages)
    return [str(error) or "Not allowed."]
