"""A ledger write in two round trips, not six.

`claims.ledger.entries.append_entry` took the ledger's lock, read the tip, inserted
the entry, its evidence, its tree hashes and updated the claim, one statement each,
each compiled by the ORM: half of a verdict's server time. Here:

- `factcheck_ledger_locked_tip()` takes the ledger's lock, then reads the tip. The
  read is a statement of its own inside a VOLATILE function, so under READ COMMITTED
  it takes its snapshot after the lock is granted and sees every entry committed
  before (the chain trigger of 0002 reads the tip the same way).
- `factcheck_ledger_write(...)` stores an entry that Python has built and hashed (as a
  `claims_review` row in JSON: its columns follow the table's, whatever it holds),
  its evidence, the tree hashes it completes, and applies it to the claim: the
  ledger's columns in one UPDATE, the checkable content in a second one for a
  correction, which the content guard (0007) then checks against this very entry.

What is hashed and how stays in Python (`claims.ledger`); these functions only
store. Each runs with the caller's privileges (SECURITY INVOKER): the app's role may
insert into the append-only tables and nothing more, here as anywhere.

Also, two of the review table's indexes go, each a page every entry wrote: the one on
`claim_id` alone (`review_claim_version` and `review_claim_seq_idx` start with it and
serve every lookup it served), and the `varchar_pattern_ops` copy of `entry_hash`
that Django adds for LIKE: the admin's hash-prefix search asks the unique index for
a range instead.
"""

import django.db.models.deletion
from django.db import migrations, models

# Must equal claims.models.LEDGER_LOCK_KEY.
LEDGER_LOCK_KEY = 7_301_451_620

FUNCTIONS = rf"""
CREATE FUNCTION factcheck_ledger_locked_tip(OUT tip_sequence bigint, OUT tip_hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LEDGER_LOCK_KEY});
    SELECT sequence, entry_hash INTO tip_sequence, tip_hash
      FROM claims_review ORDER BY sequence DESC LIMIT 1;
END
$$;

CREATE FUNCTION factcheck_ledger_write(
    entry jsonb,
    evidence bigint[],
    tree_first_index bigint,
    tree_hashes bytea[],
    claim_columns jsonb,
    claim_content jsonb
) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    new_entry claims_review := jsonb_populate_record(NULL::claims_review, entry);
BEGIN
    new_entry.id := nextval(pg_get_serial_sequence('claims_review', 'id'));
    INSERT INTO claims_review SELECT (new_entry).*;

    INSERT INTO claims_reviewevidence (review_id, source_id, position)
    SELECT new_entry.id, cited.source_id, cited.position
      FROM unnest(evidence) WITH ORDINALITY AS cited(source_id, position);

    INSERT INTO claims_ledgertreehash ("index", hash)
    SELECT tree_first_index + stored.n - 1, stored.hash
      FROM unnest(tree_hashes) WITH ORDINALITY AS stored(hash, n);

    -- Only the columns the entry changes are SET: the count and history triggers
    -- fire on the columns named, changed or not.
    IF claim_columns ? 'published_at' THEN
        UPDATE claims_claim
           SET version = (claim_columns->>'version')::integer,
               updated_at = (claim_columns->>'updated_at')::timestamptz,
               published_at = (claim_columns->>'published_at')::timestamptz,
               status = coalesce(claim_columns->>'status', status),
               status_changed_at = CASE WHEN claim_columns ? 'status'
                   THEN (claim_columns->>'status_changed_at')::timestamptz
                   ELSE status_changed_at END
         WHERE id = new_entry.claim_id;
    ELSIF claim_columns ? 'status' THEN
        UPDATE claims_claim
           SET version = (claim_columns->>'version')::integer,
               updated_at = (claim_columns->>'updated_at')::timestamptz,
               status = claim_columns->>'status',
               status_changed_at = (claim_columns->>'status_changed_at')::timestamptz
         WHERE id = new_entry.claim_id;
    ELSE
        UPDATE claims_claim
           SET version = (claim_columns->>'version')::integer,
               updated_at = (claim_columns->>'updated_at')::timestamptz
         WHERE id = new_entry.claim_id;
    END IF;

    IF claim_content IS NOT NULL THEN
        UPDATE claims_claim
           SET statement = claim_content->>'statement',
               speaker_id = (claim_content->'speaker'->>'id')::bigint,
               claim_date = (claim_content->>'claim_date')::date,
               kind = claim_content->>'kind',
               quantity = (claim_content->>'quantity')::numeric,
               unit = claim_content->>'unit',
               media_authenticity = claim_content->>'media_authenticity'
         WHERE id = new_entry.claim_id;
    END IF;
    RETURN new_entry.id;
END
$$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION factcheck_ledger_write(jsonb, bigint[], bigint, bytea[], jsonb, jsonb);
DROP FUNCTION factcheck_ledger_locked_tip();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0011_external_reviews"),
    ]

    operations = [
        migrations.AlterField(
            model_name="review",
            name="claim",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reviews",
                to="claims.claim",
            ),
        ),
        migrations.RunSQL(
            "DROP INDEX IF EXISTS claims_review_entry_hash_8a64175e_like;",
            "CREATE INDEX IF NOT EXISTS claims_review_entry_hash_8a64175e_like"
            " ON claims_review (entry_hash varchar_pattern_ops);",
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
    ]
