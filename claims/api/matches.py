"""The shape of a likely duplicate in the API (claims.duplicates.Match.as_data), apart
from its views: the error body of every endpoint declares it (claims.api.common)."""

from __future__ import annotations

from rest_framework import serializers

from claims.duplicates import THRESHOLD
from claims.ratings import Status


class DuplicateSerializer(serializers.Serializer):
    """An existing claim that a statement likely repeats, and why (claims.duplicates)."""

    slug = serializers.CharField()
    api_url = serializers.CharField(help_text="The claim in the API.")
    statement = serializers.CharField()
    speaker = serializers.CharField(help_text="The speaker's slug.")
    status = serializers.ChoiceField(choices=Status.choices)
    published = serializers.BooleanField()
    score = serializers.FloatField(
        help_text=f"0 to 1; likely duplicates score {THRESHOLD} or more."
    )
    matched = serializers.ChoiceField(
        choices=[("statement", "statement"), ("quote", "quote"), ("words", "words")],
        help_text="What scored it: its statement's wording, one of the quotes it appears "
        "through, or the share of the statement's words it holds (statement, speaker, quotes).",
    )
    why = serializers.CharField(help_text="The same, in words.")
