"""Forms of the desk's workflow; each hands its data to a service in claims.services."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import cast

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.html import format_html

from claims import timeline
from claims.duplicates import Match
from claims.duplicates import check as check_duplicates
from claims.ledger.entries import canonical_quantity
from claims.models import (
    SHORT_FORM_MAX,
    STATEMENT_MAX,
    Claim,
    ClaimKind,
    CorrectionClass,
    Quote,
    Review,
    Speaker,
)
from claims.quantities import UNIT_CHOICES, UNITS
from claims.ratings import Status
from claims.services import check_claim_edit
from sources.models import Source


def _desk_note(widget: forms.Widget) -> forms.CharField:
    """A ledger entry's internal note (Review.note), as the desk's forms ask for it."""
    return forms.CharField(
        widget=widget,
        required=False,
        label="Note to the desk",
        help_text="Internal; kept in the ledger, not shown to readers.",
    )


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
    note = _desk_note(forms.Textarea(attrs={"rows": 2}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The claim as loaded (Claim.etag): an edit to its wording since then is a conflict too.
    expected_etag = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, admin_site=admin.site, **kwargs):
        super().__init__(*args, **kwargs)
        evidence = cast("forms.ModelMultipleChoiceField[Source]", self.fields["evidence"])
        evidence.widget = AutocompleteSelectMultiple(Review._meta.get_field("evidence"), admin_site)
        evidence.widget.choices = evidence.choices


class UnpublishForm(forms.Form):
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why is it withdrawn from readers?",
        help_text="Recorded in the ledger; readers' links to it will stop working.",
    )


def unit_field(current: str) -> forms.ChoiceField:
    """The unit picker: the list's units (claims.quantities), and the claim's own unit
    when it was recorded as free text before the list, so that saving keeps it."""
    choices: list = [("", "---------"), *UNIT_CHOICES]
    if current and current not in UNITS:
        choices.append(("Recorded before the list", [(current, current)]))
    return forms.ChoiceField(
        choices=choices,
        required=False,
        label="Unit",
        help_text="ISO 4217 for money, UCUM for counts and measures.",
    )


# A claim's place in time (claims.timeline), editable even once it is published or
# rated: superseding is not a correction.
IN_TIME_FIELDS = ("holds_as_of", "superseded_by")


class LikelyDuplicatesMixin:
    """What a form that creates a claim shows of its likely duplicates (claims.duplicates)
    in the box admin/claims/claim/_duplicates.html, and the refusal that keeps it from
    saving until the editor answers the box."""

    duplicates: list[Match] = []
    other_figures: list[Match] = []

    def refuse_likely_duplicates(self, statement: str, *, language: str, box_is: str) -> None:
        found = check_duplicates(statement, language=language)
        self.duplicates, self.other_figures = found.duplicates, found.other_figures
        if self.duplicates:
            raise forms.ValidationError(
                "This claim may be in the ledger already: see the possible duplicates "
                f"{box_is}. Nothing was saved.",
                code="possible_duplicates",
            )


class ClaimAdminForm(LikelyDuplicatesMixin, forms.ModelForm):
    """The claim's own admin form: refuses, in words, a direct edit of the checkable
    fields of a claim that was published or rated while the form was open; a new
    claim with likely duplicates (claims.duplicates) until the editor says it is none
    of them; and a place in time that breaks the chain's rules (claims.timeline)."""

    # Ticked in the possible duplicates' box (admin/claims/claim/_duplicates.html).
    confirm_new = forms.BooleanField(required=False, label="Save as a new claim anyway")

    class Meta:
        model = Claim
        # ClaimAdmin's fieldsets choose the fields; these are the editable ones.
        fields = [
            *Claim.CHECKABLE_FIELDS,
            "slug",
            "language",
            "topics",
            "assignee",
            *IN_TIME_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "unit" in self.fields:
            self.fields["unit"] = unit_field(self.instance.unit)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            # Locks the claim's row until the admin's transaction ends, so it cannot
            # be published or rated between this check and the save.
            try:
                check_claim_edit(claim=self.instance, changed=self.changed_data)
            except PermissionDenied as exc:
                raise forms.ValidationError(
                    f"{exc} Nothing was saved; reload the page to edit what may still be "
                    "edited (your text is kept below).",
                    code="locked",
                ) from exc
        self._check_in_time(self.cleaned_data)
        if self.instance.pk is None and not self.errors and not self.cleaned_data["confirm_new"]:
            self.refuse_likely_duplicates(
                self.cleaned_data.get("statement") or "",
                language=self.cleaned_data.get("language") or "",
                box_is="above",
            )
        return cleaned

    def _check_in_time(self, cleaned: dict) -> None:
        """The chain's rules, when the claim's place in time or its date changed."""
        if not {*IN_TIME_FIELDS, "claim_date"} & set(self.changed_data):
            return
        claim = copy.copy(self.instance)
        if "claim_date" in cleaned:
            claim.claim_date = cleaned["claim_date"]
        try:
            timeline.check_in_time(
                claim,
                superseded_by=cleaned.get("superseded_by", self.instance.superseded_by),
                holds_as_of=cleaned.get("holds_as_of", self.instance.holds_as_of),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)


def _correction_class_label(correction: CorrectionClass):
    return format_html(
        '<strong>{}</strong> <span class="correction-class-description">{}</span>',
        correction.label,
        correction.description,
    )


class CorrectionForm(forms.Form):
    """A correction of a published or rated claim's checkable fields, as the editor
    types it: the fields prefilled with the claim's current values, the class and
    the reason, and the claim version they loaded."""

    # No preselected class: what a correction does to the verdict is decided, never defaulted.
    correction_class = forms.ChoiceField(
        choices=[(c.value, _correction_class_label(c)) for c in CorrectionClass],
        widget=forms.RadioSelect,
        label="Class",
    )
    reason = forms.CharField(
        widget=admin_widgets.AdminTextareaWidget(attrs={"rows": 4}),
        label="Reason",
        help_text="Markdown, published with the claim: readers see it. Say what was wrong "
        "and what the claim says now.",
    )
    note = _desk_note(admin_widgets.AdminTextareaWidget(attrs={"rows": 2}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    # What the editor fixes first, then what kind of fix it is and why.
    sections = [
        ("The claim as it should read", Claim.CHECKABLE_FIELDS),
        ("The correction", ("correction_class", "reason", "note")),
    ]
    field_order = [name for _, names in sections for name in names]

    def __init__(self, data=None, *, claim: Claim, admin_site=admin.site, **kwargs):
        # Ids of its own: the claim's form and the review form share the page.
        kwargs.setdefault("auto_id", "correction_%s")
        initial = {**self.values_of(claim), "expected_version": claim.version}
        self.claim = claim
        super().__init__(data, initial=initial, **kwargs)
        for name in Claim.CHECKABLE_FIELDS:
            self.fields[name] = self._model_field(name, admin_site)
        self.fields["unit"] = unit_field(claim.unit)
        self.order_fields(self.field_order)

    @staticmethod
    def _model_field(name: str, admin_site: admin.AdminSite) -> forms.Field:
        model_field = Claim._meta.get_field(name)
        assert isinstance(model_field, models.Field), f"{name} is not a field of its own"
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "statement": admin_widgets.AdminTextareaWidget(attrs={"rows": 3}),
            "speaker": AutocompleteSelect(model_field, admin_site),
            "claim_date": admin_widgets.AdminDateWidget,
            "media_context": admin_widgets.AdminTextareaWidget(attrs={"rows": 2}),
        }
        widget = widgets.get(name)
        form_field = model_field.formfield(widget=widget) if widget else model_field.formfield()
        assert form_field is not None, f"{name} has no form field"
        return form_field

    @staticmethod
    def values_of(claim: Claim) -> dict:
        """The claim's checkable fields as this form's initial values."""
        values = {name: getattr(claim, name) for name in Claim.CHECKABLE_FIELDS}
        values["speaker"] = claim.speaker_id
        if claim.quantity is not None:  # 50000000, not 50000000.0000
            values["quantity"] = Decimal(canonical_quantity(claim.quantity))
        return values

    @staticmethod
    def as_data(value) -> str:
        """A field value as the form posts it (for data rebuilt after a conflict)."""
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return canonical_quantity(value)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    @staticmethod
    def content_value(name: str, value):
        """A field value as ledger entries record it (claims.ledger.entries.claim_content),
        speakers by id: what a correction's "from" and "to" are compared with."""
        if isinstance(value, dict) and name == "speaker":
            return value["id"]
        if name == "speaker":
            return getattr(value, "pk", value)
        if name == "quantity":
            return canonical_quantity(Decimal(value)) if value not in (None, "") else None
        if name == "claim_date":
            return value.isoformat() if isinstance(value, date) else value or None
        if name == "statement":  # the form strips what the editor sends
            return value.strip()
        return value

    def changes(self) -> dict:
        """The checkable fields the editor changed, with their new values (for correct_claim)."""
        current = self.values_of(self.claim)
        changed = {
            name: self.cleaned_data[name]
            for name in Claim.CHECKABLE_FIELDS
            if self.content_value(name, self.cleaned_data[name])
            != self.content_value(name, current[name])
        }
        if "statement" in changed:
            # The editor saw the short form beside the statement: as it stands is their word.
            changed.setdefault("short_form", self.cleaned_data["short_form"])
        return changed


class DraftClaimForm(LikelyDuplicatesMixin, forms.Form):
    """A claim drafted from words an editor selected (or pasted) in a source's text:
    claims.services.draft_claim_from_quote anchors them and links the draft to them."""

    words = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        strip=False,
        label="The words, exactly as the source prints them",
        help_text="Select them in the source's text, or paste them.",
    )
    speaker = forms.ModelChoiceField(queryset=Speaker.objects.all(), label="Who said it")
    quote_kind = forms.ChoiceField(
        choices=Quote.Kind.choices,
        label="These words are",
        help_text="A direct quote is the speaker's own words; a reported passage is the "
        "source's wording of what the speaker said or did.",
    )
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=STATEMENT_MAX,
        label="The claim, in neutral words",
        help_text="Checkable on its own; left empty, the words above are the draft's "
        "statement, to reword before it is published.",
    )
    short_form = forms.CharField(
        required=False,
        max_length=SHORT_FORM_MAX,
        help_text=f"Required when the statement is longer than {SHORT_FORM_MAX} characters.",
    )
    kind = forms.ChoiceField(choices=[("", "---------"), *ClaimKind.choices])

    def __init__(self, *args, admin_site=admin.site, **kwargs):
        super().__init__(*args, **kwargs)
        # A select of every speaker would list them all into the page (20,000 at scale).
        speaker = cast("forms.ModelChoiceField[Speaker]", self.fields["speaker"])
        speaker.widget = AutocompleteSelect(Claim._meta.get_field("speaker"), admin_site)
        speaker.widget.choices = speaker.choices  # as the field gives a widget it is made with

    def clean(self):
        cleaned = super().clean()
        # The box's two ways on (admin/claims/claim/_duplicates.html): the editor said it
        # is none of them, or chose the claim the words are an appearance of.
        answered = self.data.get("confirm_new") or self.data.get("appearance_for")
        if not self.errors and not answered:
            words = self.cleaned_data["statement"] or self.cleaned_data["words"]
            self.refuse_likely_duplicates(words, language="", box_is="below")
        return cleaned
