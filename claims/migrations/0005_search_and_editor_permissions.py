"""Full-text search kept by the database, and the editors' new permissions.

The claim's search vector weighs its statement (A), its speaker's name and
aliases (B) and the words of the quotes it appears through (C). Triggers
keep it current whoever writes: the admin, the API, the seed loader, raw SQL.
Accents are folded (unaccent), so "Nicolas" finds "Nicolás".
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

SEARCH_SQL = """
CREATE TEXT SEARCH CONFIGURATION factcheck_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION factcheck_english
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

CREATE FUNCTION factcheck_claim_search_vector(p_statement text, p_speaker_id bigint, p_claim_id bigint)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('factcheck_english', coalesce(p_statement, '')), 'A')
        || setweight(to_tsvector('factcheck_english', coalesce(
               (SELECT s.name || ' ' || array_to_string(s.aliases, ' ')
                  FROM claims_speaker s WHERE s.id = p_speaker_id), '')), 'B')
        || setweight(to_tsvector('factcheck_english', coalesce(
               (SELECT string_agg(q.exact, ' ')
                  FROM claims_appearance a JOIN claims_quote q ON q.id = a.quote_id
                 WHERE a.claim_id = p_claim_id), '')), 'C')
$$;

CREATE FUNCTION factcheck_claim_search_on_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := factcheck_claim_search_vector(NEW.statement, NEW.speaker_id, NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER claims_claim_search
    BEFORE INSERT OR UPDATE OF statement, speaker_id ON claims_claim
    FOR EACH ROW EXECUTE FUNCTION factcheck_claim_search_on_write();

CREATE FUNCTION factcheck_claim_search_refresh(p_claim_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE claims_claim c
       SET search_vector = factcheck_claim_search_vector(c.statement, c.speaker_id, c.id)
     WHERE c.id = ANY(p_claim_ids)
$$;

CREATE FUNCTION factcheck_appearance_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM factcheck_claim_search_refresh(ARRAY[NEW.claim_id]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM factcheck_claim_search_refresh(ARRAY[OLD.claim_id]);
    ELSE
        PERFORM factcheck_claim_search_refresh(ARRAY[OLD.claim_id, NEW.claim_id]);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER claims_appearance_search
    AFTER INSERT OR UPDATE OR DELETE ON claims_appearance
    FOR EACH ROW EXECUTE FUNCTION factcheck_appearance_search();

CREATE FUNCTION factcheck_speaker_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM factcheck_claim_search_refresh(
        ARRAY(SELECT id FROM claims_claim WHERE speaker_id = NEW.id));
    RETURN NULL;
END $$;
CREATE TRIGGER claims_speaker_search
    AFTER UPDATE OF name, aliases ON claims_speaker
    FOR EACH ROW EXECUTE FUNCTION factcheck_speaker_search();

CREATE FUNCTION factcheck_quote_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM factcheck_claim_search_refresh(
        ARRAY(SELECT claim_id FROM claims_appearance WHERE quote_id = NEW.id));
    RETURN NULL;
END $$;
CREATE TRIGGER claims_quote_search
    AFTER UPDATE OF exact ON claims_quote
    FOR EACH ROW EXECUTE FUNCTION factcheck_quote_search();

-- Claims that exist already.
UPDATE claims_claim SET search_vector = factcheck_claim_search_vector(statement, speaker_id, id);
"""

REVERSE_SQL = """
DROP TRIGGER claims_quote_search ON claims_quote;
DROP FUNCTION factcheck_quote_search();
DROP TRIGGER claims_speaker_search ON claims_speaker;
DROP FUNCTION factcheck_speaker_search();
DROP TRIGGER claims_appearance_search ON claims_appearance;
DROP FUNCTION factcheck_appearance_search();
DROP FUNCTION factcheck_claim_search_refresh(bigint[]);
DROP TRIGGER claims_claim_search ON claims_claim;
DROP FUNCTION factcheck_claim_search_on_write();
DROP FUNCTION factcheck_claim_search_vector(text, bigint, bigint);
DROP TEXT SEARCH CONFIGURATION factcheck_english;
"""


# Copied, not imported from claims/roles.py: editing the roles later must not
# change what this migration does.
EDITORS_GAIN = [("claims", "publish_claim"), ("claims", "assign_claim")]


def grant_editor_permissions(apps, schema_editor):
    # The permissions come from Claim's Meta, new in migration 0004.
    create_permissions(global_apps.get_app_config("claims"), apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    editors, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Editors")
    for app_label, codename in EDITORS_GAIN:
        editors.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [("claims", "0004_history_publishing_search")]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunSQL(SEARCH_SQL, REVERSE_SQL),
        migrations.RunPython(grant_editor_permissions, migrations.RunPython.noop),
    ]
