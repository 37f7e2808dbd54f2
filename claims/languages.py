"""The languages the desk's content is in: claims, quotes and sources each carry one.

Codes are ISO 639-1 (BCP 47's primary subtag), as ClaimReview's `inLanguage` and
Google's `languageCode` take them. A blank language is "not known yet": it is
detected from the text where the content is saved (claims.language_detection).
Full-text search has a configuration of its own for each language listed in
SEARCH_CONFIGS (stemming and accent folding); the others are searched with the
accent-folding configuration that does not stem.
"""

from django.db import models


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    PORTUGUESE = "pt", "Portuguese"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    ITALIAN = "it", "Italian"


LANGUAGE_MAX = 8
