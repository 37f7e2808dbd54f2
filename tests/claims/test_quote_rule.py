"""One rule for words anchored already, whoever asks: the service, the API, the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from claims.models import Quote
from claims.services import anchor_quote
from tests.factories import QuoteFactory, SpeakerFactory

WORDS = "That number is wrong."


@pytest.fixture
def critic(db):
    return SpeakerFactory(name="A Critic", slug="a-critic")


def test_the_same_speakers_words_give_back_the_quote_already_there(source, speaker):
    first, created = anchor_quote(source=source, speaker=speaker, words=WORDS)
    again, created_again = anchor_quote(source=source, speaker=speaker, words=WORDS)

    assert (created, created_again) == (True, False)
    assert again == first


def test_another_speakers_claim_on_the_words_is_refused_on_speaker(source, speaker, critic):
    anchor_quote(source=source, speaker=speaker, words=WORDS)

    with pytest.raises(ValidationError) as refused:
        anchor_quote(source=source, speaker=critic, words=WORDS)

    assert refused.value.message_dict == {
        "speaker": [f"These words are already attributed to {speaker} in this source."]
    }
    assert Quote.objects.count() == 1


def test_the_admin_refuses_another_speakers_claim_with_the_same_words(
    admin_client, source, speaker, critic
):
    QuoteFactory(source=source, speaker=speaker, words=WORDS)

    response = admin_client.post(
        reverse("admin:claims_quote_add"),
        {"source": source.pk, "speaker": critic.pk, "kind": "direct", "words": WORDS},
    )

    assert response.status_code == 200
    assert f"These words are already attributed to {speaker} in this source." in (
        response.content.decode()
    )
    assert Quote.objects.count() == 1
