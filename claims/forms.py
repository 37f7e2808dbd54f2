"""Forms of the desk's workflow; each hands its data to a service in claims.services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple

from claims.models import Review
from claims.ratings import Status
from sources.models import Source


class ReviewForm(forms.Form):
    """A verdict as the editor types it, with the claim version they loaded."""

    # No preselected status: a verdict is chosen, never left at a default.
    status = forms.ChoiceField(choices=[("", "---------"), *Status.choices], label="New status")
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        strip=False,
        help_text="Markdown, shown to readers. Required for a verdict: say what the evidence "
        "shows and how you weighed it.",
    )
    evidence = forms.ModelMultipleChoiceField(
        queryset=Source.objects.all(),
        required=False,
        label="Evidence sources",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Note to the desk",
        help_text="Internal; kept in the ledger, not shown to readers.",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The claim as loaded (Claim.etag): an edit to its wording since then is a conflict too.
    expected_etag = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, admin_site=admin.site, **kwargs):
        super().__init__(*args, **kwargs)
        evidence = self.fields["evidence"]
        evidence.widget = AutocompleteSelectMultiple(Review._meta.get_field("evidence"), admin_site)
        evidence.widget.choices = evidence.choices


class UnpublishForm(forms.Form):
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why is it withdrawn from readers?",
        help_text="Recorded in the ledger; readers' links to it will stop working.",
    )
