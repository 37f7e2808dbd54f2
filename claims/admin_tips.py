"""The admin of the publisher's pages and of readers' tips.

Site pages: the fixed set the reader pages link (claims.site_pages), edited, never
added or deleted here; each save records who made it.

Reader tips: the desk's queue, one line per group of tips about one claim
(claims.tips), newest first or most asked first, with its tips below, read-only as
readers sent them. A group is accepted (optionally with the claim it became: link
the claim and save) or dismissed, by the list's actions.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from claims import tips
from claims.models import SitePage, SitePageSlug, Tip, TipGroup, TipStatus

_PAGE_URLS = {
    SitePageSlug.ABOUT: "site:about",
    SitePageSlug.METHODOLOGY: "site:methodology",
    SitePageSlug.RATING_SCALE: "site:rating-scale",
    SitePageSlug.CONTACT: "site:contact",
}


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "updated_at", "updated_by"]
    fields = ["slug", "title", "body", "updated_at", "updated_by"]
    readonly_fields = ["slug", "updated_at", "updated_by"]
    list_select_related = ["updated_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def view_on_site(self, obj: SitePage) -> str:
        return reverse(_PAGE_URLS[SitePageSlug(obj.slug)])

    def save_model(self, request: HttpRequest, obj: SitePage, form: Any, change: bool) -> None:
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class TipInline(admin.TabularInline):
    model = Tip
    extra = 0
    can_delete = False
    fields = ["received_at", "text", "where_seen", "email"]
    readonly_fields = ["received_at", "text", "where_seen", "email"]
    verbose_name_plural = "tips in this group, as readers sent them"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TipGroupForm(forms.ModelForm):
    class Meta:
        model = TipGroup
        fields = ["claim"]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        group = self.instance
        # Linking a claim to an open group is accepting it; the constraints
        # (checked next) see the group as it will be saved.
        if self.cleaned_data.get("claim") and group.status == TipStatus.NEW:
            group.status = TipStatus.ACCEPTED
            group.handled_at = timezone.now()
        return cleaned


@admin.register(TipGroup)
class TipGroupAdmin(admin.ModelAdmin):
    form = TipGroupForm
    list_display = [
        "summary",
        "tip_count",
        "last_received_at",
        "first_received_at",
        "status",
        "claim_link",
        "handled_by",
    ]
    list_filter = ["status"]
    search_fields = ["text"]
    ordering = ["-last_received_at", "-id"]
    sortable_by = ["tip_count", "last_received_at", "first_received_at"]
    list_select_related = ["claim", "handled_by"]
    list_per_page = 50
    actions = ["accept", "dismiss"]
    autocomplete_fields = ["claim"]
    fields = [
        "text",
        "tip_count",
        "first_received_at",
        "last_received_at",
        "status",
        "handled_by",
        "handled_at",
        "claim",
    ]
    readonly_fields = [
        "text",
        "tip_count",
        "first_received_at",
        "last_received_at",
        "status",
        "handled_by",
        "handled_at",
    ]
    inlines = [TipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tips come from readers, through the form

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        if "claim" in form.base_fields:
            form.base_fields[
                "claim"
            ].help_text = (
                "The claim the desk recorded from these tips. Linking one accepts the group."
            )
        return form

    def save_model(self, request: HttpRequest, obj: TipGroup, form: Any, change: bool) -> None:
        just_handled = bool(obj.handled_at) and obj.handled_by_id is None
        if just_handled:
            obj.handled_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        if just_handled:
            tips.reply_after_commit([obj.pk])

    @admin.display(description="claim asked about", ordering="text")
    def summary(self, obj: TipGroup) -> str:
        return Truncator(obj.text).chars(120)

    @admin.display(description="became")
    def claim_link(self, obj: TipGroup) -> str:
        if obj.claim is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:claims_claim_change", args=[obj.claim.pk]),
            Truncator(obj.claim.statement).chars(60),
        )

    def _handle(self, request: HttpRequest, queryset: QuerySet, status: str, done: str) -> None:
        changed = tips.handle(queryset, status, request.user)
        skipped = queryset.count() - changed
        message = f"{changed} group{'s' if changed != 1 else ''} of tips {done}."
        if skipped:
            message += f" {skipped} already handled, left as they were."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(
        description="Accept the selected tips (the desk takes them up)", permissions=["change"]
    )
    def accept(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._handle(request, queryset, TipStatus.ACCEPTED, "accepted")

    @admin.action(description="Dismiss the selected tips", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._handle(request, queryset, TipStatus.DISMISSED, "dismissed")
