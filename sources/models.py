from __future__ import annotations

import pghistory
from django.db import models
from django.utils import timezone

from claims.languages import LANGUAGE_MAX, Language


class SnapshotSha256(models.Func):
    """SHA-256 (hex) of a text's UTF-8 bytes, computed by PostgreSQL.

    `factcheck_sha256_hex` is created by sources' first migration.
    """

    function = "factcheck_sha256_hex"
    output_field = models.CharField(max_length=64)


class SourceKind(models.TextChoices):
    ARTICLE = "article", "News article"
    SOCIAL_POST = "social_post", "Social media post"
    STATEMENT = "statement", "Official statement"
    REPORT = "report", "Report"
    TRANSCRIPT = "transcript", "Transcript"
    VIDEO = "video", "Video"
    DATASET = "dataset", "Data set"
    OTHER = "other", "Other"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # The snapshot never changes (a trigger refuses it); copying it into every
    # history row would only repeat it.
    exclude=["snapshot", "snapshot_sha256"],
)
class Source(models.Model):
    """A document where words appeared or where evidence lives.

    The archived text snapshot is what quotes are anchored in; it cannot be
    changed once stored (a database trigger refuses it), and its SHA-256 is a
    generated column, so nobody can type a hash that does not match the text.
    A newer version of a document is a new Source.
    """

    Kind = SourceKind

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=300)
    outlet = models.CharField(
        max_length=200, blank=True, help_text="Publisher or outlet, when known."
    )
    author = models.CharField(max_length=200, blank=True)
    url = models.URLField(
        "URL", max_length=2000, blank=True, help_text="Leave empty when the document has none."
    )
    published_on = models.DateField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ARTICLE)
    snapshot = models.TextField(help_text="The archived text, exactly as retrieved.")
    language = models.CharField(
        max_length=LANGUAGE_MAX,
        choices=Language.choices,
        blank=True,
        help_text="The language of the text; detected from it when left blank.",
    )
    snapshot_sha256 = models.GeneratedField(
        expression=SnapshotSha256("snapshot"),
        output_field=models.CharField(max_length=64),
        db_persist=True,
        verbose_name="snapshot SHA-256",
    )
    # When the text was stored here (the seeds: when they were loaded), which is not
    # when anyone fetched it from the original: that is original_retrieved_at.
    retrieved_at = models.DateTimeField("archived here", default=timezone.now, editable=False)
    original_retrieved_at = models.DateTimeField(
        "retrieved from the original",
        null=True,
        blank=True,
        help_text="When the text was taken from the original document; empty when unknown.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-retrieved_at", "pk"]
        # The sources list, a page at a time, newest retrieved first.
        indexes = [
            models.Index(
                models.F("retrieved_at").desc(), models.F("id"), name="source_list_order_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=SourceKind.values), name="source_kind_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(snapshot=""),
                name="source_snapshot_not_empty",
            ),
            # Two Source rows for one URL would split its quotes and appearances.
            models.UniqueConstraint(
                fields=["url"], condition=~models.Q(url=""), name="source_url_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title
