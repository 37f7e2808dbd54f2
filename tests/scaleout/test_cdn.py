"""A CDN in front (claims.cdn): shared-cache directives and surrogate keys on what
anonymous readers get, `private` on what editors and token holders get, and a ledger
write's purge of exactly its keys, sent to a local HTTP receiver standing for the CDN."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from claims import cdn
from claims.models import CdnPurgeCursor, Claim, Review
from claims.services import record_review, unpublish_claim
from tests.api.conftest import _token_client
from tests.api.test_ledger_api import body, reviews_url
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    QuoteFactory,
    SourceFactory,
    SpeakerFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A local HTTP server standing for the CDN's purge API: records what it is sent."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/purge"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def purged(self) -> list[set[str]]:
        return [set(request["body"]["surrogate_keys"]) for request in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    running = Receiver()
    settings.CDN_PURGE_URL = running.url
    settings.CDN_PURGE_TOKEN = "purge-secret"
    yield running
    running.close()


@pytest.fixture
def rated(editor):
    """A published, rated claim with a topic, a quote in one source and a second
    appearance in another; and an unrelated published claim."""
    speaker = SpeakerFactory(slug="ada")
    topic = TopicFactory(slug="ports")
    claim = ClaimFactory(
        slug="port-claim",
        statement="The port handled 12 million tonnes last year.",
        speaker=speaker,
        topics=[topic],
        published=True,
        editor=editor,
    )
    quoted_in = SourceFactory(
        slug="quoted-in", snapshot="Ada said the port handled 12 million tonnes last year."
    )
    quote = QuoteFactory(source=quoted_in, speaker=speaker, words="the port handled 12 million")
    AppearanceFactory(claim=claim, source=quoted_in, quote=quote)
    repeated_in = SourceFactory(slug="repeated-in")
    AppearanceFactory(claim=claim, source=repeated_in)
    record_review(
        claim=claim,
        editor=editor,
        status="false",
        explanation="The port's own figures say 9 million.",
        expected_version=Claim.objects.get(pk=claim.pk).version,
    )
    other = ClaimFactory(slug="other-claim", published=True, editor=editor)
    return {
        "claim": Claim.objects.get(pk=claim.pk),
        "speaker": speaker,
        "topic": topic,
        "sources": [quoted_in, repeated_in],
        "other": other,
    }


def _keys(response) -> set[str]:
    return set(response["Surrogate-Key"].split())


# --- What a shared cache may keep, and what it holds -----------------------------------


def test_an_anonymous_claim_page_may_be_kept_and_names_what_it_shows(client, rated, settings):
    claim = rated["claim"]

    response = client.get(f"/claims/{claim.slug}/")

    assert response.status_code == 200
    control = response["Cache-Control"]
    assert "public" in control and "max-age=60" in control
    assert f"s-maxage={settings.CDN_SHARED_MAX_AGE}" in control
    assert f"stale-while-revalidate={settings.CDN_STALE_WHILE_REVALIDATE}" in control
    assert f"stale-if-error={settings.CDN_STALE_IF_ERROR}" in control
    assert _keys(response) == {
        f"claim-{claim.pk}",
        f"speaker-{rated['speaker'].pk}",
        f"topic-{rated['topic'].pk}",
        *(f"source-{source.pk}" for source in rated["sources"]),
    }
    assert set(response["Cache-Tag"].split(",")) == _keys(response)


def test_pages_of_a_speaker_a_topic_and_a_source_are_named_by_it(client, rated):
    speaker, topic, source = rated["speaker"], rated["topic"], rated["sources"][0]

    assert _keys(client.get(f"/speakers/{speaker.slug}/")) == {f"speaker-{speaker.pk}"}
    assert _keys(client.get(f"/topics/{topic.slug}/")) == {f"topic-{topic.pk}"}
    assert _keys(client.get(f"/sources/{source.slug}/")) == {f"source-{source.pk}"}


def test_lists_and_the_api_are_named_too(client, rated, settings):
    settings.CDN_SHARED_MAX_AGE = 3600
    claim = rated["claim"]
    # Lists change with every verdict and are not purged for each: a minute at the edge.
    assert "s-maxage=60," in client.get("/claims/")["Cache-Control"] + ","
    assert "s-maxage=3600" in client.get(f"/claims/{claim.slug}/")["Cache-Control"]

    assert _keys(client.get("/claims/")) == {cdn.LISTS}
    assert _keys(client.get("/")) == {cdn.LISTS}
    assert _keys(client.get("/api/v1/claims/")) == {cdn.LISTS}
    detail = client.get(f"/api/v1/claims/{claim.slug}/")
    assert "s-maxage=" in detail["Cache-Control"]
    assert _keys(detail) == {f"claim-{claim.pk}"}


def test_a_revalidation_keeps_the_directives_and_leaves_the_stored_keys(client, rated):
    url = f"/claims/{rated['claim'].slug}/"
    etag = client.get(url)["ETag"]

    again = client.get(url, headers={"if-none-match": etag})

    assert again.status_code == 304
    assert "s-maxage=" in again["Cache-Control"] and "public" in again["Cache-Control"]
    assert "Surrogate-Key" not in again and "Cache-Tag" not in again


def test_what_an_editor_or_a_token_holder_gets_is_private(client_for, editor, rated):
    claim = rated["claim"]

    page = client_for(editor).get(f"/claims/{claim.slug}/")
    api = _token_client(editor).get(f"/api/v1/claims/{claim.slug}/")

    for response in (page, api):
        assert response.status_code == 200
        control = response["Cache-Control"]
        assert "private" in control and "public" not in control and "s-maxage" not in control
        assert "Surrogate-Key" not in response and "Cache-Tag" not in response


def test_admin_and_writes_are_left_as_they_are(client_for, editor, rated):
    admin = client_for(editor).get("/admin/claims/claim/")
    assert "s-maxage" not in admin["Cache-Control"] and "Surrogate-Key" not in admin


# --- Purges -----------------------------------------------------------------------------


def test_a_verdict_through_the_api_purges_exactly_its_keys(receiver, editor, rated):
    claim = rated["claim"]
    CdnPurgeCursor.objects.update_or_create(
        name=cdn.CURSOR_NAME, defaults={"sequence": Review.objects.latest("sequence").sequence}
    )
    receiver.received.clear()  # what the set-up's own writes sent
    client = _token_client(editor)

    response = client.post(
        reviews_url(claim),
        body(status="true"),
        format="json",
        headers={"if-match": client.get(f"/api/v1/claims/{claim.slug}/")["ETag"]},
    )

    assert response.status_code == 201, response.content
    # A verdict replacing a verdict takes nothing away: lists keep theirs a minute.
    assert receiver.purged() == [
        {
            f"claim-{claim.pk}",
            f"speaker-{rated['speaker'].pk}",
            f"topic-{rated['topic'].pk}",
            *(f"source-{source.pk}" for source in rated["sources"]),
        }
    ]
    sent = receiver.received[0]
    assert sent["headers"]["Authorization"] == "Bearer purge-secret"
    assert set(sent["headers"]["Surrogate-Key"].split()) == receiver.purged()[0]
    assert f"claim-{rated['other'].pk}" not in receiver.purged()[0]
    cursor = CdnPurgeCursor.objects.get(name=cdn.CURSOR_NAME)
    assert cursor.sequence == Review.objects.latest("sequence").sequence


def test_a_withdrawal_is_purged_so_no_cache_keeps_the_withdrawn_verdict(receiver, editor, rated):
    claim = rated["claim"]
    call_command("send_purges", "--once")  # what the set-up wrote
    receiver.received.clear()

    unpublish_claim(
        claim=claim,
        editor=editor,
        explanation="Withdrawn while we recheck the port's figures.",
        expected_version=claim.version,
    )

    assert receiver.purged() and all(f"claim-{claim.pk}" in sent for sent in receiver.purged())
    # Taken away from readers: every list that showed it is purged too.
    assert all(cdn.LISTS in sent for sent in receiver.purged())


def test_a_cdn_that_is_down_fails_no_write_and_is_caught_up_later(
    receiver, editor, rated, settings
):
    claim = rated["claim"]
    call_command("send_purges", "--once")
    before = CdnPurgeCursor.objects.get(name=cdn.CURSOR_NAME).sequence
    receiver.status = 503

    record_review(
        claim=claim,
        editor=editor,
        status="true",
        explanation="Rechecked: 12 million it was.",
        expected_version=Claim.objects.get(pk=claim.pk).version,
    )

    # The write stands; the purge was tried, refused, and is still due.
    assert Claim.objects.get(pk=claim.pk).status == "true"
    assert CdnPurgeCursor.objects.get(name=cdn.CURSOR_NAME).sequence == before
    with pytest.raises(CommandError, match="answered 503"):
        call_command("send_purges", "--once")

    receiver.status = 200
    receiver.received.clear()
    call_command("send_purges", "--once")

    assert len(receiver.received) == 1 and f"claim-{claim.pk}" in receiver.purged()[0]
    assert CdnPurgeCursor.objects.get(name=cdn.CURSOR_NAME).sequence > before


def test_without_a_purge_url_nothing_is_sent(rated, settings):
    settings.CDN_PURGE_URL = ""

    assert cdn.send_purges() == 0
    with pytest.raises(CommandError, match="CDN_PURGE_URL"):
        call_command("send_purges", "--once")


def test_the_keys_of_claims_are_read_in_one_query(rated, django_assert_num_queries):
    claim, other = rated["claim"], rated["other"]

    with django_assert_num_queries(1):
        keys = cdn.keys_for_claims([claim.pk, other.pk])

    assert {f"claim-{claim.pk}", f"claim-{other.pk}", cdn.LISTS} <= keys
    assert f"source-{rated['sources'][1].pk}" in keys


def test_a_verdict_taken_back_purges_the_lists(receiver, editor, rated):
    claim = rated["claim"]
    call_command("send_purges", "--once")
    receiver.received.clear()

    record_review(
        claim=claim,
        editor=editor,
        status="unverified",
        explanation="Taken back while the port's figures are checked again.",
        expected_version=Claim.objects.get(pk=claim.pk).version,
    )

    assert len(receiver.purged()) == 1
    assert {cdn.LISTS, f"claim-{claim.pk}"} <= receiver.purged()[0]
