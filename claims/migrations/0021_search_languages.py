"""Full-text search in each claim's language.

Migration 0005 built every claim's search vector with `factcheck_english`. Now:

- `factcheck_spanish` (spanish_stem) and `factcheck_simple` (no stemming, no stop
  words) join it, each folding accents as `factcheck_english` does (unaccent);
- `factcheck_search_config(language)` says which one a language's words take:
  English for "en" and for a language not known (blank, as every claim was before),
  Spanish for "es", the simple one for the desk's other languages (a copy of
  claims.languages.search_config: tests/claims/test_languages.py pins the two);
- a claim's statement and its speaker's names are read in the claim's language, and
  each quote's words in the quote's (those of a blank quote in English);
- `factcheck_search_words(text)` / `factcheck_search_phrase(text)` are what a search
  asks for (claims.search): the words in every configuration at once, so that a
  reader need not say which language the claim is in.

The triggers keep the vector current as before; an update that changes nothing the
vector reads (the admin and the API write every column on each save) no longer
rebuilds it, nor do a speaker's or a quote's saves that leave their words alone.
"""

from django.db import migrations

SEARCH_SQL = r"""
CREATE TEXT SEARCH CONFIGURATION factcheck_spanish (COPY = spanish);
ALTER TEXT SEARCH CONFIGURATION factcheck_spanish
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
CREATE TEXT SEARCH CONFIGURATION factcheck_simple (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION factcheck_simple
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

CREATE FUNCTION factcheck_search_config(p_language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE coalesce(p_language, '')
        WHEN '' THEN 'factcheck_english'::regconfig
        WHEN 'en' THEN 'factcheck_english'::regconfig
        WHEN 'es' THEN 'factcheck_spanish'::regconfig
        ELSE 'factcheck_simple'::regconfig
    END
$$;

-- Quotes in several languages give one tsvector each; || keeps their positions apart.
CREATE AGGREGATE factcheck_tsvector_agg(tsvector) (
    SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = ''
);

DROP FUNCTION factcheck_claim_search_vector(text, bigint, bigint);
-- The language defaults to blank (English): what a caller of the old signature meant.
CREATE FUNCTION factcheck_claim_search_vector(
    p_statement text, p_speaker_id bigint, p_claim_id bigint, p_language text DEFAULT ''
) RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector(factcheck_search_config(p_language), coalesce(p_statement, '')), 'A')
        || setweight(to_tsvector(factcheck_search_config(p_language), coalesce(
               (SELECT s.name || ' ' || array_to_string(s.aliases, ' ')
                  FROM claims_speaker s WHERE s.id = p_speaker_id), '')), 'B')
        -- Quotes grouped by configuration: all in one (the usual case) is exactly 0005's.
        || setweight(coalesce(
               (SELECT factcheck_tsvector_agg(to_tsvector(quoted.config, quoted.words)
                                              ORDER BY quoted.config::text)
                  FROM (SELECT factcheck_search_config(q.language) AS config,
                               string_agg(q.exact, ' ') AS words
                          FROM claims_appearance a JOIN claims_quote q ON q.id = a.quote_id
                         WHERE a.claim_id = p_claim_id
                         GROUP BY 1) AS quoted),
               ''::tsvector), 'C')
$$;

CREATE OR REPLACE FUNCTION factcheck_claim_search_on_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := factcheck_claim_search_vector(
        NEW.statement, NEW.speaker_id, NEW.id, NEW.language);
    RETURN NEW;
END $$;
DROP TRIGGER claims_claim_search ON claims_claim;
CREATE TRIGGER claims_claim_search
    BEFORE INSERT ON claims_claim
    FOR EACH ROW EXECUTE FUNCTION factcheck_claim_search_on_write();
-- A save writes every column: rebuild only when what the vector reads changed, or
-- when the writer sent back a vector that is not the stored one (read before a
-- quote was added, say).
CREATE TRIGGER claims_claim_search_update
    BEFORE UPDATE OF statement, speaker_id, language ON claims_claim
    FOR EACH ROW
    WHEN (OLD.statement IS DISTINCT FROM NEW.statement
          OR OLD.speaker_id IS DISTINCT FROM NEW.speaker_id
          OR OLD.language IS DISTINCT FROM NEW.language
          OR OLD.search_vector IS DISTINCT FROM NEW.search_vector)
    EXECUTE FUNCTION factcheck_claim_search_on_write();

CREATE OR REPLACE FUNCTION factcheck_claim_search_refresh(p_claim_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE claims_claim c
       SET search_vector = factcheck_claim_search_vector(c.statement, c.speaker_id, c.id, c.language)
     WHERE c.id = ANY(p_claim_ids)
$$;

DROP TRIGGER claims_speaker_search ON claims_speaker;
CREATE TRIGGER claims_speaker_search
    AFTER UPDATE OF name, aliases ON claims_speaker
    FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.aliases IS DISTINCT FROM NEW.aliases)
    EXECUTE FUNCTION factcheck_speaker_search();

DROP TRIGGER claims_quote_search ON claims_quote;
CREATE TRIGGER claims_quote_search
    AFTER UPDATE OF exact, language ON claims_quote
    FOR EACH ROW
    WHEN (OLD.exact IS DISTINCT FROM NEW.exact OR OLD.language IS DISTINCT FROM NEW.language)
    EXECUTE FUNCTION factcheck_quote_search();

-- What a search asks for: the words as each configuration reads them, any of them
-- matching. A word that is a stop word in English or in Spanish asks for nothing
-- (as websearch_to_tsquery drops it), rather than for a form no vector holds.
CREATE FUNCTION factcheck_search_any(p_english tsquery, p_spanish tsquery, p_simple tsquery)
RETURNS tsquery LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN numnode(p_english) = 0 OR numnode(p_spanish) = 0 THEN ''::tsquery
        ELSE p_english
            || CASE WHEN p_spanish = p_english THEN ''::tsquery ELSE p_spanish END
            || CASE WHEN p_simple = p_english OR p_simple = p_spanish THEN ''::tsquery
                    ELSE p_simple END
    END
$$;
CREATE FUNCTION factcheck_search_words(p_text text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT factcheck_search_any(plainto_tsquery('factcheck_english', p_text),
                                plainto_tsquery('factcheck_spanish', p_text),
                                plainto_tsquery('factcheck_simple', p_text))
$$;
CREATE FUNCTION factcheck_search_phrase(p_text text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT factcheck_search_any(phraseto_tsquery('factcheck_english', p_text),
                                phraseto_tsquery('factcheck_spanish', p_text),
                                phraseto_tsquery('factcheck_simple', p_text))
$$;

-- Claims that exist already: only those whose vector reads otherwise now (a claim or
-- a quote in a language other than English); the others' vectors are unchanged.
UPDATE claims_claim c
   SET search_vector = factcheck_claim_search_vector(c.statement, c.speaker_id, c.id, c.language)
 WHERE c.language NOT IN ('', 'en')
    OR EXISTS (SELECT FROM claims_appearance a JOIN claims_quote q ON q.id = a.quote_id
                WHERE a.claim_id = c.id AND q.language NOT IN ('', 'en'));
"""

REVERSE_SQL = r"""
DROP FUNCTION factcheck_search_phrase(text);
DROP FUNCTION factcheck_search_words(text);
DROP FUNCTION factcheck_search_any(tsquery, tsquery, tsquery);

DROP TRIGGER claims_quote_search ON claims_quote;
CREATE TRIGGER claims_quote_search
    AFTER UPDATE OF exact ON claims_quote
    FOR EACH ROW EXECUTE FUNCTION factcheck_quote_search();
DROP TRIGGER claims_speaker_search ON claims_speaker;
CREATE TRIGGER claims_speaker_search
    AFTER UPDATE OF name, aliases ON claims_speaker
    FOR EACH ROW EXECUTE FUNCTION factcheck_speaker_search();

DROP TRIGGER claims_claim_search_update ON claims_claim;
DROP TRIGGER claims_claim_search ON claims_claim;

DROP FUNCTION factcheck_claim_search_vector(text, bigint, bigint, text);
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
CREATE OR REPLACE FUNCTION factcheck_claim_search_on_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := factcheck_claim_search_vector(NEW.statement, NEW.speaker_id, NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER claims_claim_search
    BEFORE INSERT OR UPDATE OF statement, speaker_id ON claims_claim
    FOR EACH ROW EXECUTE FUNCTION factcheck_claim_search_on_write();
CREATE OR REPLACE FUNCTION factcheck_claim_search_refresh(p_claim_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE claims_claim c
       SET search_vector = factcheck_claim_search_vector(c.statement, c.speaker_id, c.id)
     WHERE c.id = ANY(p_claim_ids)
$$;

DROP AGGREGATE factcheck_tsvector_agg(tsvector);
DROP FUNCTION factcheck_search_config(text);
DROP TEXT SEARCH CONFIGURATION factcheck_simple;
DROP TEXT SEARCH CONFIGURATION factcheck_spanish;

UPDATE claims_claim SET search_vector = factcheck_claim_search_vector(statement, speaker_id, id)
 WHERE language NOT IN ('', 'en')
    OR EXISTS (SELECT FROM claims_appearance a JOIN claims_quote q ON q.id = a.quote_id
                WHERE a.claim_id = claims_claim.id AND q.language NOT IN ('', 'en'));
"""


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0020_candidates_repeats_languages_time"),
        ("sources", "0005_source_language"),
    ]

    operations = [migrations.RunSQL(SEARCH_SQL, REVERSE_SQL)]
