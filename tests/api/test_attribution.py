"""Who said a claim apart from who reported it: an appearance names the outlet or
account its source relayed the claim from ("according to The New York Times"), through
the API, the admin, ClaimReview and the reader pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Appearance, Claim, Relay
from tests.api.test_resources import assert_error, url
from tests.factories import QuoteFactory, VerdictFactory
from tests.jsonld import expand, nodes, values

NYT_CLAIM = "trump-signed-order-for-anti-cartel-operations"
DEPLOY_SOURCE = "us-forces-deploy-to-southern-caribbean"


def _post(client, claim, source, **fields):
    payload = {"claim": claim.slug, "source": source.slug, **fields}
    return client.post(url("appearance-list"), payload, format="json")


# --- The API -------------------------------------------------------------------------


def test_an_appearance_is_recorded_and_read_with_its_relay(
    claim, source, speaker, contributor_client
):
    quote = QuoteFactory(source=source, speaker=speaker, words="12 million tonnes")
    created = _post(
        contributor_client,
        claim,
        source,
        quote=quote.pk,
        relay="according_to",
        relayed_by="  The Port Gazette ",
    )
    assert created.status_code == 201, created.content
    assert (created.data["relay"], created.data["relayed_by"]) == (
        "according_to",
        "The Port Gazette",
    )
    stored = Appearance.objects.get(pk=created.data["id"])
    assert stored.relay_text == "according to The Port Gazette"

    detail = contributor_client.get(created["Location"]).data
    assert (detail["relay"], detail["relayed_by"]) == ("according_to", "The Port Gazette")
    # The claim's detail (its own fast path) shows it too, to the desk and, once
    # published, to readers.
    [shown] = contributor_client.get(url("claim-detail", slug=claim.slug)).data["appearances"]
    assert (shown["relay"], shown["relayed_by"]) == ("according_to", "The Port Gazette")


def test_an_appearance_the_source_heard_itself_has_no_relay(claim, source, contributor_client):
    created = _post(contributor_client, claim, source)
    assert created.status_code == 201, created.content
    assert (created.data["relay"], created.data["relayed_by"]) == ("", "")


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"relay": "reported_by"}, "relayed_by"),
        ({"relay": "reported_by", "relayed_by": "   "}, "relayed_by"),
        ({"relayed_by": "Reuters"}, "relay"),
        ({"relay": "overheard_by", "relayed_by": "Reuters"}, "relay"),
    ],
)
def test_a_relay_and_its_intermediary_go_together(claim, source, contributor_client, fields, named):
    error = assert_error(_post(contributor_client, claim, source, **fields), 400, named)
    assert set(error["fields"]) == {named}
    assert not Appearance.objects.exists()


def test_the_same_appearance_with_another_relay_is_refused(claim, source, contributor_client):
    first = _post(contributor_client, claim, source, relay="posted_by", relayed_by="A. Account")
    assert first.status_code == 201, first.content
    same = _post(contributor_client, claim, source, relay="posted_by", relayed_by="A. Account")
    assert same.status_code == 200 and same.data["id"] == first.data["id"]

    other = assert_error(_post(contributor_client, claim, source), 400, "relay")
    assert "in a post by A. Account" in other["fields"]["relay"][0]
    assert Appearance.objects.get().relay == Relay.POSTED_BY


def test_the_schema_names_the_relay_choices(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert components["RelayEnum"]["enum"] == Relay.values
    for name in ("Appearance", "AppearanceCreateRequest"):
        assert {"relay", "relayed_by"} <= set(components[name]["properties"]), name


def test_seeded_relays_are_in_the_api(seeded, api_client):
    data = api_client.get(url("claim-detail", slug=NYT_CLAIM)).data
    [appearance] = data["appearances"]
    assert (appearance["relay"], appearance["relayed_by"]) == (
        "according_to",
        "The New York Times",
    )
    assert data["speaker"]["slug"] == "unnamed-source"


# --- The admin -----------------------------------------------------------------------


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _claim_form(speaker, source, **appearance) -> dict:
    return {
        "statement": "The bridge cost $2 billion.",
        "slug": "bridge-cost",
        "speaker": speaker.pk,
        "kind": "numeric",
        "quantity": "2000000000",
        "unit": "USD",
        "appearances-TOTAL_FORMS": "1",
        "appearances-INITIAL_FORMS": "0",
        "appearances-0-source": source.pk,
        **{f"appearances-0-{name}": value for name, value in appearance.items()},
    }


def test_the_admin_inline_saves_a_relay(contributor, speaker, source):
    response = _admin(contributor).post(
        reverse("admin:claims_claim_add"),
        _claim_form(speaker, source, relay="reported_by", relayed_by="Reuters"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    appearance = Appearance.objects.get(claim__slug="bridge-cost")
    assert appearance.relay_text == "as reported by Reuters"


def test_the_admin_inline_refuses_a_relay_without_its_intermediary(contributor, speaker, source):
    response = _admin(contributor).post(
        reverse("admin:claims_claim_add"), _claim_form(speaker, source, relay="reported_by")
    )
    assert response.status_code == 200
    assert "Name the intermediary" in response.content.decode()
    assert not Appearance.objects.exists()


def test_the_appearance_list_shows_the_relay(seeded, editor):
    editor.is_superuser = True
    editor.save()
    html = _admin(editor).get(reverse("admin:claims_appearance_changelist")).content.decode()
    assert "according to The New York Times" in html
    assert "in a post by Mario Nawfal" in html


# --- ClaimReview ---------------------------------------------------------------------


def test_claimreview_says_what_the_source_relayed_it_from(seeded, editor, api_client):
    VerdictFactory(claim=Claim.objects.get(slug=NYT_CLAIM), editor=editor, status="true")
    markup = api_client.get(url("claim-claimreview", slug=NYT_CLAIM), {"format": "json"}).json()
    [work] = markup["itemReviewed"]["appearance"]
    assert work["isBasedOn"] == [
        {"@type": "CreativeWork", "author": {"name": "The New York Times"}}
    ]
    # As a consumer reads it: the source's work is based on one the newspaper wrote.
    [based_on] = nodes(expand(markup), "CreativeWork")[0]["http://schema.org/isBasedOn"]
    assert values(based_on["http://schema.org/author"][0], "name") == ["The New York Times"]


def test_claimreview_of_a_claim_its_source_heard_itself_has_no_is_based_on(
    seeded, editor, api_client
):
    heard = "dea-seized-30-tons-of-cocaine-linked-to-maduro"
    VerdictFactory(claim=Claim.objects.get(slug=heard), editor=editor, status="false")
    markup = api_client.get(url("claim-claimreview", slug=heard), {"format": "json"}).json()
    [work] = markup["itemReviewed"]["appearance"]
    assert "isBasedOn" not in work


# --- Reader pages --------------------------------------------------------------------


def test_the_source_page_shows_each_claims_relay(seeded, client):
    html = client.get(reverse("sources:detail", args=[DEPLOY_SOURCE])).content.decode()
    listed = html[html.index('id="claims-heading"') :]

    def item(slug: str) -> str:
        found = re.search(rf'class="statement" href="/claims/{slug}/".*?</li>', listed, re.S)
        assert found, slug
        return found[0]

    assert "According to The New York Times" in item(NYT_CLAIM)
    assert "As reported by Reuters" in item("pentagon-deploying-troops-to-southern-caribbean")
    assert 'class="relay"' not in item("dea-seized-30-tons-of-cocaine-linked-to-maduro")


def test_the_speaker_page_shows_the_relay_of_the_claims_a_quote_backs(seeded, client):
    html = client.get(reverse("claims:speaker", args=["donald-trump"])).content.decode()
    assert "in this source in a post by Mario Nawfal" in html
