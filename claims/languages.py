"""The languages the desk's content is in: claims, quotes and sources each carry one.

Codes are ISO 639-1 (BCP 47's primary subtag), as ClaimReview's `inLanguage` and
Google's `languageCode` take them. A blank language is "not known yet": it is
detected from the text where the content is saved (claims.language_detection).
Full-text search has a configuration of its own for each language listed in
SEARCH_CONFIGS (stemming and accent folding); the others are searched with the
accent-folding configuration that does not stem.
"""

from django.conf import settings
from django.db import models


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    PORTUGUESE = "pt", "Portuguese"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    ITALIAN = "it", "Italian"


LANGUAGE_MAX = 8


def desk_language() -> str:
    """The language the desk writes its reviews and pages in: LANGUAGE_CODE's primary
    subtag ("en" for "en-us"). ClaimReview's own `inLanguage`, Google's `languageCode`."""
    return settings.LANGUAGE_CODE.split("-")[0].lower()


# The text search configurations of migration 0021, each folding accents (unaccent).
# factcheck_search_config(language) in the database is the copy the triggers use.
SEARCH_CONFIGS: dict[str, str] = {
    Language.ENGLISH: "factcheck_english",
    Language.SPANISH: "factcheck_spanish",
}
# No stemming and no stop words: every word kept as written, accents folded.
UNSTEMMED_SEARCH_CONFIG = "factcheck_simple"


def search_config(language: str) -> str:
    """The configuration `language`'s words are searched with; English when not known,
    as before languages were recorded."""
    if not language:
        return SEARCH_CONFIGS[Language.ENGLISH]
    return SEARCH_CONFIGS.get(language, UNSTEMMED_SEARCH_CONFIG)
