"""Ledger format 2: entries bound to the words they judged, corrections, a Merkle tree.

- Each entry now commits to the claim's checkable content (`claim_content`),
  and a correction entry to its class and what changed; the body is salted
  so its digest can stand in for it in the public export.
- `LedgerTreeHash` stores the RFC 6962 Merkle tree of the entries, for
  signed checkpoints and proofs.
- The seeded chain is rebuilt in format 2. No deployment existed before
  this format, so rebuilding is honest: every entry is bound to its claim's
  content as it stands, which nobody could have changed since.
- The TRUNCATE guard no longer has a setting a session can flip; the tree's
  table gets the same append-only triggers as the ledger; a trigger refuses
  a change of a published or rated claim's checkable fields unless the
  claim's latest ledger entry (a correction) committed to exactly the new
  values.
"""

import hashlib
import json
import secrets
from datetime import UTC

from django.db import migrations, models

# --- Ledger format 2, frozen as it was when this migration was written -------------
# Copied from claims/ledger/ (entries.py, verifier.py) rather than imported, so that
# a later change there can never change what this migration writes; a later format
# gets a migration of its own. docs/ledger-format.md specifies the same bytes.

GENESIS_HASH = "0" * 64


def canonical_json(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def claim_content(claim) -> dict:
    quantity = None
    if claim.quantity is not None:
        quantity = format(claim.quantity.normalize(), "f")
        quantity = "0" if quantity in {"-0", ""} else quantity
    return {
        "statement": claim.statement,
        "speaker": {"id": claim.speaker_id, "name": claim.speaker.name},
        "claim_date": claim.claim_date.isoformat() if claim.claim_date else None,
        "kind": claim.kind,
        "quantity": quantity,
        "unit": claim.unit,
        "media_authenticity": claim.media_authenticity,
    }


def entry_header_bytes(review, evidence) -> bytes:
    """The canonical header of a format-2 entry (no corrections existed before it)."""
    body = {
        "salt": review.salt,
        "claim": {"id": review.claim_id, **review.claim_content},
        "claim_version": review.claim_version,
        "action": review.action,
        "status_before": review.status_before,
        "status_after": review.status_after,
        "explanation": review.explanation,
        "evidence": [{"source": pk, "sha256": sha} for pk, sha in evidence],
        "editor": review.editor_id,
        "correction": None,
        "note_sha256": sha256_hex(canonical_json({"note": review.note, "salt": review.note_salt})),
    }
    created = review.created_at.astimezone(UTC)
    return canonical_json(
        {
            "v": 2,
            "sequence": review.sequence,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond:06d}Z",
            "previous_hash": review.previous_hash,
            "body_sha256": sha256_hex(canonical_json(body)),
        }
    )


def stored_hash_index(level: int, n: int) -> int:
    """Go tlog's storage index of the tree hash (level, n)."""
    for _ in range(level):
        n = 2 * n + 1
    index = 0
    while n > 0:
        index += n
        n >>= 1
    return index + level


def stored_hashes(n: int, data: bytes, stored: dict) -> list[bytes]:
    """The RFC 6962 tree hashes appending leaf n completes: its own, then its subtrees'."""
    current = hashlib.sha256(b"\x00" + data).digest()
    hashes = [current]
    completed = ((n + 1) & -(n + 1)).bit_length() - 1
    for level in range(completed):
        left = stored[stored_hash_index(level, (n >> level) - 1)]
        current = hashlib.sha256(b"\x01" + left + current).digest()
        hashes.append(current)
    return hashes


GUARDS = """
CREATE OR REPLACE FUNCTION factcheck_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the review ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER claims_ledgertreehash_append_only
    BEFORE UPDATE OR DELETE ON claims_ledgertreehash
    FOR EACH ROW EXECUTE FUNCTION factcheck_ledger_refuse_change();
CREATE TRIGGER claims_ledgertreehash_no_truncate
    BEFORE TRUNCATE ON claims_ledgertreehash
    FOR EACH STATEMENT EXECUTE FUNCTION factcheck_ledger_refuse_change();

-- 'unverified' and 'in_review' are the workflow statuses of claims/ratings.py:
-- a draft in one of them has no verdict and is edited freely.
CREATE FUNCTION factcheck_claim_content_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    committed jsonb;
BEGIN
    IF OLD.published_at IS NULL AND OLD.status IN ('unverified', 'in_review') THEN
        RETURN NEW;
    END IF;
    IF NEW.statement IS NOT DISTINCT FROM OLD.statement
       AND NEW.speaker_id IS NOT DISTINCT FROM OLD.speaker_id
       AND NEW.claim_date IS NOT DISTINCT FROM OLD.claim_date
       AND NEW.kind IS NOT DISTINCT FROM OLD.kind
       AND NEW.quantity IS NOT DISTINCT FROM OLD.quantity
       AND NEW.unit IS NOT DISTINCT FROM OLD.unit
       AND NEW.media_authenticity IS NOT DISTINCT FROM OLD.media_authenticity THEN
        RETURN NEW;
    END IF;
    SELECT claim_content INTO committed FROM claims_review
        WHERE claim_id = NEW.id ORDER BY sequence DESC LIMIT 1;
    IF committed IS NOT NULL
       AND NEW.statement = committed->>'statement'
       AND NEW.speaker_id = (committed->'speaker'->>'id')::bigint
       AND NEW.claim_date IS NOT DISTINCT FROM (committed->>'claim_date')::date
       AND NEW.kind = committed->>'kind'
       AND NEW.quantity IS NOT DISTINCT FROM (committed->>'quantity')::numeric
       AND NEW.unit = committed->>'unit'
       AND NEW.media_authenticity = committed->>'media_authenticity' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'claim % is published or rated: its checkable fields change only through '
        'a correction entry in the ledger', NEW.slug
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER claims_claim_content_guard
    BEFORE UPDATE ON claims_claim
    FOR EACH ROW EXECUTE FUNCTION factcheck_claim_content_guard();
"""

UNGUARDS = """
DROP TRIGGER claims_claim_content_guard ON claims_claim;
DROP FUNCTION factcheck_claim_content_guard();
DROP TRIGGER claims_ledgertreehash_no_truncate ON claims_ledgertreehash;
DROP TRIGGER claims_ledgertreehash_append_only ON claims_ledgertreehash;
"""


def rebuild_chain(apps, schema_editor):
    Review = apps.get_model("claims", "Review")
    LedgerTreeHash = apps.get_model("claims", "LedgerTreeHash")
    stored: dict[int, bytes] = {}

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE claims_review DISABLE TRIGGER USER")
    previous = GENESIS_HASH
    reviews = (
        Review.objects.order_by("sequence")
        .select_related("claim__speaker")
        .prefetch_related("evidence_links__source")
    )
    for review in reviews:
        review.salt = secrets.token_hex(16)
        review.note_salt = secrets.token_hex(16)
        review.claim_content = claim_content(review.claim)
        review.previous_hash = previous
        evidence = [
            (link.source_id, link.source.snapshot_sha256)
            for link in sorted(review.evidence_links.all(), key=lambda link: link.position)
        ]
        header = entry_header_bytes(review, evidence)
        review.entry_hash = sha256_hex(header)
        review.save(
            update_fields=["salt", "note_salt", "claim_content", "previous_hash", "entry_hash"]
        )
        leaf = review.sequence - 1
        first = stored_hash_index(0, leaf)
        for offset, value in enumerate(stored_hashes(leaf, header, stored)):
            stored[first + offset] = value
            LedgerTreeHash.objects.create(index=first + offset, hash=value)
        previous = review.entry_hash
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE claims_review ENABLE TRIGGER USER")


class Migration(migrations.Migration):
    dependencies = [("claims", "0006_media_authenticity_similarity")]

    operations = [
        migrations.AlterField(
            model_name="review",
            name="action",
            field=models.CharField(
                choices=[
                    ("review", "Verdict"),
                    ("publish", "Published"),
                    ("unpublish", "Unpublished"),
                    ("correction", "Correction"),
                ],
                default="review",
                max_length=20,
            ),
        ),
        migrations.RemoveConstraint(model_name="review", name="review_action_valid"),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("action__in", ["review", "publish", "unpublish", "correction"])
                ),
                name="review_action_valid",
            ),
        ),
        migrations.AlterField(
            model_name="review",
            name="explanation",
            field=models.TextField(
                blank=True,
                help_text="Markdown, shown to readers; for a correction, why it was made.",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="claim_content",
            field=models.JSONField(
                editable=False,
                null=True,
                help_text="The claim's checkable fields as this entry judged or set them.",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="correction_class",
            field=models.CharField(
                blank=True,
                choices=[
                    ("typo", "Typo"),
                    ("clarification", "Clarification"),
                    ("substantive", "Substantive"),
                ],
                default="",
                editable=False,
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="review",
            name="changes",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                help_text='For a correction: {field: {"from": ..., "to": ...}}.',
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="salt",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="review",
            name="note_salt",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="LedgerTreeHash",
            fields=[
                ("index", models.BigIntegerField(primary_key=True, serialize=False)),
                ("hash", models.BinaryField(max_length=32)),
            ],
            options={"ordering": ["index"], "default_permissions": ("view",)},
        ),
        migrations.RunPython(rebuild_chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="review",
            name="claim_content",
            field=models.JSONField(
                editable=False,
                help_text="The claim's checkable fields as this entry judged or set them.",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("salt__regex", "^[0-9a-f]{32}$"))
                & models.Q(("note_salt__regex", "^[0-9a-f]{32}$")),
                name="review_salt_format",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("action", "correction"),
                        ("correction_class__in", ["typo", "clarification", "substantive"]),
                    ),
                    models.Q(
                        models.Q(("action", "correction"), _negated=True), ("correction_class", "")
                    ),
                    _connector="OR",
                ),
                name="review_correction_class",
                violation_error_message="A correction, and only a correction, has a class.",
            ),
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                condition=models.Q(("action__in", ["review", "correction"])),
                fields=["-sequence"],
                name="review_public_change_idx",
            ),
        ),
        migrations.RunSQL(GUARDS, UNGUARDS),
    ]
