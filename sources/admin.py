from django import forms
from django.contrib import admin
from django.db.models import Count

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


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "outlet", "kind", "published_on", "retrieved_at", "quote_count"]
    list_filter = ["kind", "outlet", "retrieved_at"]
    search_fields = ["title", "outlet", "author", "url", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "retrieved_at"
    readonly_fields = ["snapshot_sha256", "retrieved_at", "created_at", "updated_at"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "snapshot":
            return SnapshotField(label="Snapshot", help_text=db_field.help_text)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(quote_count=Count("quotes", distinct=True))

    @admin.display(description="Quotes", ordering="quote_count")
    def quote_count(self, obj):
        return obj.quote_count

    def get_readonly_fields(self, request, obj=None):
        # The snapshot is archived evidence: set once, never edited (the database refuses too).
        if obj is not None:
            return [*self.readonly_fields, "snapshot"]
        return self.readonly_fields
