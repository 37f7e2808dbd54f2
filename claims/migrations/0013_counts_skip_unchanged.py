"""The published-claim counters move only for what an update changed.

`claims_count_claim` (0008) took a published claim out of its status's and its
speaker's counts and put it back on every update that named `status`, `published_at`
or `speaker_id`: four upserts of the counters' rows for each verdict, two of them
(the speaker's) always undoing each other, and all four when the verdict repeated
the status. Now an update of a claim that stays published moves a counter only
when its key changed; inserts, deletes, publication and withdrawal count as before.
"""

from django.db import migrations

COUNT_CHANGES = r"""
CREATE OR REPLACE FUNCTION claims_count_claim() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.published_at IS NOT NULL;
    now_published boolean := TG_OP <> 'DELETE' AND NEW.published_at IS NOT NULL;
BEGIN
    IF was AND now_published THEN
        IF OLD.status IS DISTINCT FROM NEW.status THEN
            PERFORM claims_count_add('status', OLD.status, -1);
            PERFORM claims_count_add('status', NEW.status, 1);
        END IF;
        IF OLD.speaker_id IS DISTINCT FROM NEW.speaker_id THEN
            PERFORM claims_count_add('speaker', OLD.speaker_id::text, -1);
            PERFORM claims_count_add('speaker', NEW.speaker_id::text, 1);
        END IF;
        RETURN NULL;
    END IF;
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
"""

COUNT_EVERY_UPDATE = r"""
CREATE OR REPLACE FUNCTION claims_count_claim() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0012_ledger_write_in_one_statement"),
    ]

    operations = [migrations.RunSQL(COUNT_CHANGES, COUNT_EVERY_UPDATE)]
