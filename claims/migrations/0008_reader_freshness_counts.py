"""Reader pages at a million claims: a change stamp, published-claim counters, and
indexes that serve the pages' orders.

- `claims_reader_stamp`: one row per scope, bumped by deferred constraint
  triggers on every table a reader page shows. The row is updated inside the
  writing transaction, at its commit, so the new stamp becomes visible in the
  same instant as the data: a reader that reads the stamp first never sees a
  stamp newer than what it then reads (a sequence bumped before commit
  would). Deferred to commit, the stamp's row lock is the last lock a writer
  takes and is held only while it commits: no deadlock with the ledger's
  advisory lock or with row locks taken earlier. See claims/freshness.py.
- `claims_published_count`: published claims by status, topic and speaker, and
  appearances of published claims by source, kept by row triggers in the
  writing statement (their arithmetic needs the state at that moment), so
  the home page, the filter menus and the lists' totals never count a
  million rows.
- Indexes: the list's order (claim date, newest first, undated last; then
  publication; then id) as one expression, alone and per status and per
  speaker, so keyset pages walk an index; a trigram index on speaker names
  for the speaker search of the filter form.
"""

from datetime import date

from django.db import migrations, models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

STAMPED_TABLES = [
    "claims_claim",
    "claims_speaker",
    "claims_topic",
    "claims_claim_topics",
    "claims_quote",
    "claims_appearance",
    "claims_review",
    "claims_reviewevidence",
    "sources_source",
]

STAMP_SQL = """
CREATE TABLE claims_reader_stamp (
    scope text PRIMARY KEY,
    stamp bigint NOT NULL DEFAULT 1,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO claims_reader_stamp (scope) VALUES ('reader');

CREATE FUNCTION claims_bump_reader_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Runs at commit (deferred): later than every write of the transaction, so
    -- changed_at is never older than what it stamps.
    UPDATE claims_reader_stamp
       SET stamp = stamp + 1, changed_at = greatest(changed_at, clock_timestamp())
     WHERE scope = 'reader';
    RETURN NULL;
END
$$;
"""

COUNT_SQL = """
CREATE TABLE claims_published_count (
    scope text NOT NULL,
    key text NOT NULL,
    n bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key)
);
CREATE INDEX claims_published_count_top ON claims_published_count (scope, n DESC, key);

CREATE FUNCTION claims_count_add(p_scope text, p_key text, p_delta bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO claims_published_count AS c (scope, key, n) VALUES (p_scope, p_key, p_delta)
    ON CONFLICT (scope, key) DO UPDATE SET n = c.n + excluded.n;
$$;

CREATE FUNCTION claims_count_claim() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.published_at IS NOT NULL;
    now_published boolean := TG_OP <> 'DELETE' AND NEW.published_at IS NOT NULL;
BEGIN
    IF was THEN
        PERFORM claims_count_add('status', OLD.status, -1);
        PERFORM claims_count_add('speaker', OLD.speaker_id::text, -1);
    END IF;
    IF now_published THEN
        PERFORM claims_count_add('status', NEW.status, 1);
        PERFORM claims_count_add('speaker', NEW.speaker_id::text, 1);
    END IF;
    IF was <> now_published THEN
        -- Topics and appearances count only while their claim is published.
        PERFORM claims_count_add('topic', t.topic_id::text, CASE WHEN now_published THEN 1 ELSE -1 END)
           FROM claims_claim_topics t WHERE t.claim_id = coalesce(NEW.id, OLD.id)
          ORDER BY t.topic_id;
        PERFORM claims_count_add('source', a.source_id::text, CASE WHEN now_published THEN 1 ELSE -1 END)
           FROM claims_appearance a WHERE a.claim_id = coalesce(NEW.id, OLD.id)
          ORDER BY a.source_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION claims_count_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    scope text := TG_ARGV[0];
BEGIN
    IF TG_OP <> 'INSERT' AND EXISTS (
        SELECT 1 FROM claims_claim WHERE id = OLD.claim_id AND published_at IS NOT NULL
    ) THEN
        PERFORM claims_count_add(scope, (to_jsonb(OLD) ->> (scope || '_id')), -1);
    END IF;
    IF TG_OP <> 'DELETE' AND EXISTS (
        SELECT 1 FROM claims_claim WHERE id = NEW.claim_id AND published_at IS NOT NULL
    ) THEN
        PERFORM claims_count_add(scope, (to_jsonb(NEW) ->> (scope || '_id')), 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER claims_claim_count
    AFTER INSERT OR DELETE OR UPDATE OF published_at, status, speaker_id ON claims_claim
    FOR EACH ROW EXECUTE FUNCTION claims_count_claim();
CREATE TRIGGER claims_claim_topics_count
    AFTER INSERT OR DELETE OR UPDATE ON claims_claim_topics
    FOR EACH ROW EXECUTE FUNCTION claims_count_link('topic');
CREATE TRIGGER claims_appearance_count
    AFTER INSERT OR DELETE OR UPDATE ON claims_appearance
    FOR EACH ROW EXECUTE FUNCTION claims_count_link('source');

INSERT INTO claims_published_count (scope, key, n)
    SELECT 'status', status, count(*) FROM claims_claim
     WHERE published_at IS NOT NULL GROUP BY status;
INSERT INTO claims_published_count (scope, key, n)
    SELECT 'speaker', speaker_id::text, count(*) FROM claims_claim
     WHERE published_at IS NOT NULL GROUP BY speaker_id;
INSERT INTO claims_published_count (scope, key, n)
    SELECT 'topic', t.topic_id::text, count(*) FROM claims_claim_topics t
      JOIN claims_claim c ON c.id = t.claim_id AND c.published_at IS NOT NULL
     GROUP BY t.topic_id;
INSERT INTO claims_published_count (scope, key, n)
    SELECT 'source', a.source_id::text, count(*) FROM claims_appearance a
      JOIN claims_claim c ON c.id = a.claim_id AND c.published_at IS NOT NULL
     GROUP BY a.source_id;
"""

UNDO_SQL = """
DROP TRIGGER claims_claim_count ON claims_claim;
DROP TRIGGER claims_claim_topics_count ON claims_claim_topics;
DROP TRIGGER claims_appearance_count ON claims_appearance;
DROP FUNCTION claims_count_link();
DROP FUNCTION claims_count_claim();
DROP FUNCTION claims_count_add(text, text, bigint);
DROP TABLE claims_published_count;
"""


def stamp_triggers() -> str:
    statements = [
        f"CREATE CONSTRAINT TRIGGER {table}_reader_stamp"
        f" AFTER INSERT OR UPDATE OR DELETE ON {table}"
        " DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION claims_bump_reader_stamp();"
        for table in STAMPED_TABLES
    ]
    # The ledger shows editors by username; logins (last_login) change nothing shown.
    statements.append(
        "CREATE CONSTRAINT TRIGGER auth_user_reader_stamp"
        " AFTER UPDATE OF username ON auth_user"
        " DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION claims_bump_reader_stamp();"
    )
    return "\n".join(statements)


def drop_stamp() -> str:
    drops = [f"DROP TRIGGER {table}_reader_stamp ON {table};" for table in STAMPED_TABLES]
    drops.append("DROP TRIGGER auth_user_reader_stamp ON auth_user;")
    drops.append("DROP FUNCTION claims_bump_reader_stamp();")
    drops.append("DROP TABLE claims_reader_stamp;")
    return "\n".join(drops)


LIST_ORDER = (
    Coalesce(F("claim_date"), Value(date(1, 1, 1))).desc(),
    F("published_at").desc(),
    F("id").desc(),
)
PUBLISHED = Q(published_at__isnull=False)
# The home page's latest verdicts and claims in review.
REVIEWED_ORDER = (F("status_changed_at").desc(nulls_last=True), F("id").desc())


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("claims", "0007_ledger_v2_corrections_tree"),
        ("sources", "0002_history"),
    ]

    operations = [
        migrations.RunSQL(STAMP_SQL + stamp_triggers(), drop_stamp()),
        migrations.RunSQL(COUNT_SQL, UNDO_SQL),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(*LIST_ORDER, name="claim_list_order_idx", condition=PUBLISHED),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                F("status"), *LIST_ORDER, name="claim_status_order_idx", condition=PUBLISHED
            ),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                F("speaker"), *LIST_ORDER, name="claim_speaker_order_idx", condition=PUBLISHED
            ),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                *REVIEWED_ORDER, name="claim_reviewed_order_idx", condition=PUBLISHED
            ),
        ),
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                F("status"), *REVIEWED_ORDER, name="claim_status_reviewed_idx", condition=PUBLISHED
            ),
        ),
    ]
