"""What a claim page's structured data says was rated, read as a crawler reads it: the
JSON-LD blocks of the page, expanded against schema.org's context (tests.jsonld)."""

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from claims.ledger import entries
from claims.ledger.verification import verify_ledger
from claims.models import Claim, ClaimKind, MediaAuthenticity
from claims.quantities import QuantityQualifier, canonical_unit, quantitative_value
from claims.services import correct_claim
from sources.models import Source
from tests.factories import ClaimFactory, CorrectionFactory, SourceFactory, VerdictFactory
from tests.jsonld import SCHEMA, expand, values

pytestmark = pytest.mark.django_db

BOUNTY = "us-50-million-bounty-on-maduro"
STRIKE = "september-2-strike-killed-11"
NEARLY_SEVEN = "nearly-seven-tons-linked-to-maduro-himself"
FOOTAGE = "strike-footage-was-ai-generated"
F35 = "ten-f35s-deployed-to-puerto-rico"
_LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.DOTALL)


def structured_data(client, slug: str) -> list[dict]:
    """Every JSON-LD block of the claim's page, each expanded on its own."""
    page = client.get(reverse("claims:detail", args=[slug]))
    assert page.status_code == 200
    blocks = _LD_JSON.findall(page.content.decode())
    return [node for block in blocks for node in expand(json.loads(block))]


def of_type(nodes: list[dict], name: str) -> list[dict]:
    return [node for node in nodes if SCHEMA + name in node.get("@type", [])]


def rated(slug: str, editor, **changes) -> Claim:
    """The seeded claim with a verdict, after `changes` made as a clarification."""
    if changes:
        CorrectionFactory(claim=slug, editor=editor, changes=changes)
    claim = Claim.objects.get(slug=slug)
    VerdictFactory(claim=claim, editor=editor, status="false")
    return claim


def test_claim_reviewed_is_the_short_form_and_the_claim_keeps_its_full_words(
    client, seeded, editor
):
    claim = rated(BOUNTY, editor)

    [review] = of_type(structured_data(client, BOUNTY), "ClaimReview")

    [short] = values(review, "claimReviewed")
    assert short == claim.short_form and len(short) <= 75
    assert len(claim.statement) > 75
    item = review[SCHEMA + "itemReviewed"][0]
    assert values(item, "description") == [claim.statement]


@pytest.mark.parametrize(
    ("slug", "value", "unit_code", "unit_text", "bounds"),
    [
        (BOUNTY, 50_000_000, "ISO4217:USD", "USD", {}),
        (STRIKE, 11, "IE", "people", {}),
        (NEARLY_SEVEN, 7, "TNE", "tonnes", {"maxValue": 7, "description": "nearly 7 tonnes"}),
    ],
)
def test_a_quantity_is_a_quantitative_value_with_a_coded_unit(
    client, seeded, editor, slug, value, unit_code, unit_text, bounds
):
    rated(slug, editor)

    [review] = of_type(structured_data(client, slug), "ClaimReview")

    item = review[SCHEMA + "itemReviewed"][0]
    [quantity] = item[SCHEMA + "mentions"]
    assert quantity["@type"] == [SCHEMA + "QuantitativeValue"]
    assert values(quantity, "value") == [value]
    assert values(quantity, "unitCode") == [unit_code]
    assert values(quantity, "unitText") == [unit_text]
    for name in ("minValue", "maxValue", "description"):
        assert values(quantity, name) == ([bounds[name]] if name in bounds else [])


def test_readers_see_the_quantity_with_its_qualifier_and_unit(client, seeded):
    page = client.get(reverse("claims:detail", args=[NEARLY_SEVEN])).content.decode()

    assert "nearly 7 tonnes" in page


def test_the_ai_footage_claim_has_a_media_review_beside_its_claim_review(client, seeded, editor):
    claim = rated(
        FOOTAGE,
        editor,
        media_authenticity=MediaAuthenticity.ORIGINAL,
        media_url="https://video.example.gov/strike-2025-09-02.mp4",
        media_archive_url="https://archive.example.org/strike-2025-09-02.mp4",
        media_original_url="https://social.example.com/whitehouse/posts/1",
    )

    nodes = structured_data(client, FOOTAGE)

    [claim_review] = of_type(nodes, "ClaimReview")
    [media_review] = of_type(nodes, "MediaReview")
    # Beside it, linked both ways, not nested inside it.
    assert SCHEMA + "MediaReview" not in json.dumps(claim_review[SCHEMA + "itemReviewed"])
    assert claim_review[SCHEMA + "associatedMediaReview"] == [{"@id": media_review["@id"]}]
    assert media_review[SCHEMA + "associatedClaimReview"] == [{"@id": claim_review["@id"]}]
    # The category is the enumeration's member, not a string that looks like it.
    assert media_review[SCHEMA + "mediaAuthenticityCategory"] == [
        {"@id": SCHEMA + "OriginalMediaContent"}
    ]
    assert values(media_review[SCHEMA + "reviewRating"][0], "alternateName") == [
        "Original media content"
    ]
    assert values(media_review, "originalMediaLink") == [claim.media_original_url]
    assert values(media_review, "originalMediaContextDescription") == [claim.media_context]
    [item] = media_review[SCHEMA + "itemReviewed"]
    assert item["@type"] == [SCHEMA + "MediaReviewItem"]
    [video] = item[SCHEMA + "mediaItemAppearance"]
    assert video["@type"] == [SCHEMA + "VideoObject"]
    assert values(video, "contentUrl") == [claim.media_url]
    assert values(video, "archivedAt") == [claim.media_archive_url]
    assert values(item[SCHEMA + "appearance"][0], "url") == [claim.media_original_url]
    assert values(media_review, "url") == values(claim_review, "url")


def test_a_media_claim_without_its_media_rating_has_no_media_review(client, seeded, editor):
    rated(FOOTAGE, editor)

    nodes = structured_data(client, FOOTAGE)

    assert len(of_type(nodes, "ClaimReview")) == 1 and not of_type(nodes, "MediaReview")
    assert SCHEMA + "associatedMediaReview" not in of_type(nodes, "ClaimReview")[0]


def test_the_feed_carries_the_media_review_as_an_element_of_its_own(client, seeded, editor):
    rated(FOOTAGE, editor, media_authenticity=MediaAuthenticity.TRANSFORMED)

    feed = client.get(reverse("api:claimreview-feed")).json()

    types = [element["@type"] for element in feed["dataFeedElement"]]
    assert types.count("MediaReview") == 1
    media = types.index("MediaReview")
    assert types[media - 1] == "ClaimReview"  # right after the review it belongs to


def test_an_appearance_points_at_the_original_document_and_keeps_the_archive_apart(
    client, seeded, editor
):
    online = SourceFactory(url="https://news.example.com/bounty", published_on=date(2025, 8, 8))
    claim = Claim.objects.get(slug=BOUNTY)
    claim.appearances.create(source=online)
    rated(BOUNTY, editor)

    [review] = of_type(structured_data(client, BOUNTY), "ClaimReview")

    item = review[SCHEMA + "itemReviewed"][0]
    works = {values(work, "name")[0]: work for work in item[SCHEMA + "appearance"]}
    assert values(works[online.title], "url") == ["https://news.example.com/bounty"]
    archive = "http://testserver" + reverse("sources:detail", args=[online.slug])
    assert values(works[online.title], "archivedAt") == [archive]
    seed = Source.objects.get(slug="trump-hints-at-strikes-on-cartels-in-venezuela")
    # The seed articles have no address of their own: no url, the archive as archivedAt.
    assert values(works[seed.title], "url") == []
    assert values(works[seed.title], "archivedAt") != []
    # Without a date of its own, the claim dates from its earliest dated appearance.
    assert values(item, "datePublished") == ["2025-08-08"]


def test_an_unknown_date_is_said_to_be_unknown(client, seeded, editor):
    rated(STRIKE, editor)

    page = client.get(reverse("claims:detail", args=[STRIKE])).content.decode()
    [block] = _LD_JSON.findall(page)

    # Null in the JSON (a consumer reads "unknown"), and no date asserted in the graph.
    assert json.loads(block)["itemReviewed"]["datePublished"] is None
    [review] = of_type(expand(json.loads(block)), "ClaimReview")
    assert values(review[SCHEMA + "itemReviewed"][0], "datePublished") == []


# --- The rules behind the markup ------------------------------------------------------


def test_a_long_statement_needs_a_short_form(speaker):
    claim = Claim(statement="x" * 76, slug="long", speaker=speaker, kind=ClaimKind.EVENT)

    with pytest.raises(ValidationError) as refused:
        claim.full_clean()
    assert "short_form" in refused.value.message_dict

    claim.short_form = "Short."
    claim.full_clean()


def test_a_unit_comes_from_the_list_and_old_free_text_units_still_read(speaker):
    claim = Claim(
        statement="Fifty people.",
        slug="fifty",
        speaker=speaker,
        kind=ClaimKind.NUMERIC,
        quantity=Decimal(50),
        unit="heads",
    )
    with pytest.raises(ValidationError) as refused:
        claim.full_clean()
    assert "unit" in refused.value.message_dict

    claim.unit = "people"  # recorded before the list: read as {person}
    claim.full_clean()
    assert canonical_unit("people") == "{person}"
    assert quantitative_value(Decimal(50), "people")["unitCode"] == "IE"
    assert claim.quantity_text == "50 people"


def test_only_a_quantity_has_a_qualifier_and_only_media_claims_describe_media(speaker):
    claim = Claim(
        statement="Something happened.",
        slug="something",
        speaker=speaker,
        kind=ClaimKind.EVENT,
        quantity_qualifier=QuantityQualifier.NEARLY,
        media_url="https://video.example/1",
    )
    with pytest.raises(ValidationError) as refused:
        claim.full_clean()
    assert {"quantity_qualifier", "media_url"} <= set(refused.value.message_dict)


def test_a_rated_claims_short_form_and_media_change_only_through_a_correction(seeded, editor):
    claim = rated(BOUNTY, editor)

    for column, value in [("short_form", "Another short form"), ("quantity_qualifier", "about")]:
        with (
            pytest.raises(DatabaseError, match="correction entry"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"UPDATE claims_claim SET {column} = %s WHERE id = %s", [value, claim.pk]
            )

    CorrectionFactory(claim=BOUNTY, editor=editor, changes={"short_form": "US bounty on Maduro"})
    assert Claim.objects.get(pk=claim.pk).short_form == "US bounty on Maduro"
    assert verify_ledger().ok


def test_entries_written_before_the_new_fields_agree_with_blank_values(seeded):
    # Short enough to need no short form; a count of aircraft.
    claim = Claim.objects.select_related("speaker").get(slug=F35)
    current = entries.claim_content(claim)
    assert all(current[name] == blank for name, blank in entries.ADDED_LATER.items())
    before_the_fields = {
        name: value for name, value in current.items() if name not in entries.ADDED_LATER
    }
    # The seeds' "aircraft" was free text then; the list's code now.
    assert current["unit"] == "{aircraft}"
    before_the_fields["unit"] = "aircraft"

    assert entries.same_content(before_the_fields, current)
    assert entries.content_changes(before_the_fields, current) == {}
    assert not entries.same_content(before_the_fields, {**current, "short_form": "Changed"})


def test_claims_without_a_short_form_keep_their_statement_as_claim_reviewed(client, db, editor):
    claim = ClaimFactory(statement="A short claim.", published=True)
    VerdictFactory(claim=claim, editor=editor, status="true")

    [review] = of_type(structured_data(client, claim.slug), "ClaimReview")

    assert values(review, "claimReviewed") == ["A short claim."]


def test_a_corrected_statement_takes_its_short_form_with_it(seeded, editor):
    claim = rated(BOUNTY, editor)
    reworded = claim.statement.replace("$50 million", "$25 million")

    with pytest.raises(ValidationError) as refused:
        correct_claim(
            claim=claim,
            editor=editor,
            expected_version=claim.version,
            correction_class="typo",
            reason="The figure.",
            changes={"statement": reworded},
        )
    assert "short_form" in refused.value.message_dict
    assert Claim.objects.get(pk=claim.pk).statement == claim.statement

    CorrectionFactory(
        claim=BOUNTY,
        editor=editor,
        changes={"statement": reworded, "short_form": "US offers $25 million reward for Maduro"},
    )
    assert (
        Claim.objects.get(pk=claim.pk).short_statement == "US offers $25 million reward for Maduro"
    )


def test_an_unnamed_claimant_is_named_without_a_guessed_type(client, seeded, editor):
    """The F-35 claim is the article's "Reports also indicate...": its claimant is
    unnamed (a speaker of kind "other"), neither a Person nor an Organization."""
    claim = rated(F35, editor)
    assert claim.speaker.kind == "other"

    [review] = of_type(structured_data(client, F35), "ClaimReview")

    [author] = review[SCHEMA + "itemReviewed"][0][SCHEMA + "author"]
    assert values(author, "name") == [claim.speaker.name]
    assert "@type" not in author
