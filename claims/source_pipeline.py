"""What the desk learns from a source's text, wherever the source comes from.

Every face that adds a source, or changes its text (the sources admin, a source
added in place on the review screen, the API, the seeds), calls `process_source_text`
once the source is saved, in the same transaction. Each step has its own module:

1. its language, when the editor gave none (claims.language_detection);
2. its sentences scored as candidate claims (claims.candidates);
3. its passages matched against published verdicts, as suggested appearances
   (claims.repeats).
"""

from __future__ import annotations

from claims import candidates, repeats
from claims.language_detection import detect
from sources.models import Source


def process_source_text(source: Source) -> None:
    if not source.language:
        language = detect(source.snapshot[:5000])
        if language:
            Source.objects.filter(pk=source.pk).update(language=language)
            source.language = language
    candidates.refresh_for(source)
    repeats.scan_source(source)
