"""Database-enforced rules of the ledger and of quote anchors.

These hold for every writer, including raw SQL and other programs:
- ledger entries and their evidence links are append-only (no UPDATE,
  DELETE or TRUNCATE);
- a new entry must extend the chain's tip (next sequence, previous hash),
  checked under the same advisory lock the review service takes, so
  concurrent writers queue instead of forking the chain;
- a quote's exact text, prefix and suffix must be what the source's
  snapshot holds at its offsets.
"""

from django.db import migrations

# Must equal claims.models.LEDGER_LOCK_KEY.
LEDGER_LOCK_KEY = 7_301_451_620

FORWARD = f"""
CREATE FUNCTION factcheck_ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- TRUNCATE is allowed only to a session that says so explicitly: the test
    -- suite does, to reset databases between transactional tests.
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('factcheck.allow_ledger_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the review ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER claims_review_append_only
    BEFORE UPDATE OR DELETE ON claims_review
    FOR EACH ROW EXECUTE FUNCTION factcheck_ledger_refuse_change();
CREATE TRIGGER claims_review_no_truncate
    BEFORE TRUNCATE ON claims_review
    FOR EACH STATEMENT EXECUTE FUNCTION factcheck_ledger_refuse_change();
CREATE TRIGGER claims_reviewevidence_append_only
    BEFORE UPDATE OR DELETE ON claims_reviewevidence
    FOR EACH ROW EXECUTE FUNCTION factcheck_ledger_refuse_change();
CREATE TRIGGER claims_reviewevidence_no_truncate
    BEFORE TRUNCATE ON claims_reviewevidence
    FOR EACH STATEMENT EXECUTE FUNCTION factcheck_ledger_refuse_change();

CREATE FUNCTION factcheck_review_extends_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    tip_sequence bigint;
    tip_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({LEDGER_LOCK_KEY});
    SELECT sequence, entry_hash INTO tip_sequence, tip_hash
        FROM claims_review ORDER BY sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        tip_sequence := 0;
        tip_hash := repeat('0', 64);
    END IF;
    IF NEW.sequence <> tip_sequence + 1 OR NEW.previous_hash <> tip_hash THEN
        RAISE EXCEPTION 'ledger entry #% does not extend the chain, whose tip is #% (%)',
            NEW.sequence, tip_sequence, tip_hash
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER claims_review_extends_chain
    BEFORE INSERT ON claims_review
    FOR EACH ROW EXECUTE FUNCTION factcheck_review_extends_chain();

CREATE FUNCTION factcheck_quote_matches_snapshot() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    snap text;
BEGIN
    SELECT snapshot INTO snap FROM sources_source WHERE id = NEW.source_id;
    IF substr(snap, NEW.start + 1, NEW."end" - NEW.start) IS DISTINCT FROM NEW.exact
       OR right(left(snap, NEW.start), length(NEW.prefix)) IS DISTINCT FROM NEW.prefix
       OR left(substr(snap, NEW."end" + 1), length(NEW.suffix)) IS DISTINCT FROM NEW.suffix THEN
        RAISE EXCEPTION 'quote anchor [%, %) does not match the snapshot of source %',
            NEW.start, NEW."end", NEW.source_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER claims_quote_matches_snapshot
    BEFORE INSERT OR UPDATE ON claims_quote
    FOR EACH ROW EXECUTE FUNCTION factcheck_quote_matches_snapshot();
"""

REVERSE = """
DROP TRIGGER claims_quote_matches_snapshot ON claims_quote;
DROP FUNCTION factcheck_quote_matches_snapshot();
DROP TRIGGER claims_review_extends_chain ON claims_review;
DROP FUNCTION factcheck_review_extends_chain();
DROP TRIGGER claims_reviewevidence_no_truncate ON claims_reviewevidence;
DROP TRIGGER claims_reviewevidence_append_only ON claims_reviewevidence;
DROP TRIGGER claims_review_no_truncate ON claims_review;
DROP TRIGGER claims_review_append_only ON claims_review;
DROP FUNCTION factcheck_ledger_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("claims", "0001_initial")]

    operations = [migrations.RunSQL(sql=FORWARD, reverse_sql=REVERSE)]
