"""The forms of the claim page's review screen (ClaimAdmin.record_review_view).

The verdict itself is claims.forms.ReviewForm, handed to
claims.services.record_review; here are what the screen adds around it: ticking
the claim's own sources as evidence, and a new source added in place, made
by the sources admin's own form (sources.admin.SourceAddForm: pasted text or an
uploaded file, the same checks) and cited by the same submission.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin

from claims.forms import ReviewForm
from claims.models import Appearance, Claim
from sources.admin import SourceAddForm
from sources.models import Source

NEW_SOURCE_PREFIX = "new_source"


class DeskReviewForm(ReviewForm):
    """A verdict, with the claim's own sources offered as ticks beside it."""

    cite = forms.ModelMultipleChoiceField(
        queryset=Source.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Cite the claim's sources",
    )

    def __init__(self, *args: Any, claim: Claim, admin_site=admin.site, **kwargs: Any):
        super().__init__(*args, admin_site=admin_site, **kwargs)
        self.fields["evidence"].label = "Other evidence sources"
        cite = cast("forms.ModelMultipleChoiceField[Source]", self.fields["cite"])
        cite.queryset = Source.objects.filter(
            pk__in=Appearance.objects.filter(claim=claim).values("source_id")
        )

    def cited(self, new_source: Source | None = None) -> list[Source]:
        """Every source the editor cites: ticked, picked, then the one added in place."""
        sources = [*self.cleaned_data["cite"], *self.cleaned_data["evidence"]]
        return [*sources, new_source] if new_source is not None else sources

    def ticked(self) -> set[str]:
        """The claim's sources ticked in what was sent (for showing the form again)."""
        return {str(value) for value in self["cite"].value() or []}


class NewSourceForm(SourceAddForm):
    """A source added from the review screen: its title, address, outlet and kind, and
    the text to archive, pasted or uploaded (no page is fetched). The slug is made
    from the title."""

    class Meta(SourceAddForm.Meta):
        fields = ["title", "slug", "kind", "outlet", "url", "snapshot"]

    # What the editor types when they mean to add a source; the kind has a default.
    typed = ("title", "outlet", "url", "snapshot")

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("prefix", NEW_SOURCE_PREFIX)
        super().__init__(*args, **kwargs)
        self.fields["url"].help_text = "Where the document is published, if anywhere."
        self.fields["upload"].help_text = (
            "A .txt or .html file instead of pasted text. "
            + "After a preview or an error, choose it again: browsers do not send a file twice."
        )

    @property
    def is_used(self) -> bool:
        """Whether the editor filled it in at all: an untouched form adds nothing."""
        if not self.is_bound:
            return False
        typed = any((self.data.get(self.add_prefix(name)) or "").strip() for name in self.typed)
        return typed or bool(self.files.get(self.add_prefix("upload")))

    def shown_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("title", "url", "outlet", "kind", "snapshot", "upload")]
