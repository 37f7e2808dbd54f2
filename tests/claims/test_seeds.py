import hashlib
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from claims.ledger.verification import verify_ledger
from claims.models import Appearance, Claim, Quote, Review, Speaker
from claims.ratings import INITIAL_STATUS
from claims.seeding import SEED_MODELS, SeedError, load_seed_file
from sources.models import Source

SEED_FILE = settings.SEEDS_DIR / "ledger.yaml"
ARTICLES = {
    "trump-hints-at-strikes-on-cartels-in-venezuela": "000_2475ecbfe2fd795f.txt",
    "us-forces-deploy-to-southern-caribbean": "003_01dd3f955efd9b7e.txt",
}


def _counts():
    return {model.__name__: model.objects.count() for model in SEED_MODELS}


def test_it_loads_at_least_15_claims_and_10_direct_quotes(seeded):
    assert Claim.objects.count() >= 15
    assert Quote.objects.filter(kind=Quote.Kind.DIRECT).count() >= 10
    assert Source.objects.count() == 2
    assert seeded.created["claims"] == Claim.objects.count()


def test_it_keeps_each_article_snapshot_byte_for_byte(seeded):
    for slug, file_name in ARTICLES.items():
        raw = (settings.SEEDS_DIR / file_name).read_bytes()
        source = Source.objects.get(slug=slug)
        assert source.snapshot.encode("utf-8") == raw
        assert source.snapshot_sha256 == hashlib.sha256(raw).hexdigest()
        # The articles carry no URL, outlet or date: none is invented.
        assert source.url == "" and source.published_on is None and source.outlet == ""


def test_the_bounty_is_one_claim_appearing_in_both_articles(seeded):
    bounty = Claim.objects.filter(statement__contains="$50 million")
    assert bounty.count() == 1
    claim = bounty.get()
    assert claim.quantity == Decimal("50000000") and claim.unit == "USD"
    assert set(claim.appearances.values_list("source__slug", flat=True)) == set(ARTICLES)
    for appearance in claim.appearances.select_related("quote"):
        assert "$50 million" in appearance.quote.exact


@pytest.mark.parametrize(
    ("slug", "speaker", "quantity", "unit"),
    [
        ("september-2-strike-killed-11", "donald-trump", Decimal(11), "{person}"),
        ("dea-seized-30-tons-of-cocaine-linked-to-maduro", "pam-bondi", Decimal(30), "t"),
        ("nearly-seven-tons-linked-to-maduro-himself", "pam-bondi", Decimal(7), "t"),
        ("strike-footage-was-ai-generated", "government-of-venezuela", None, ""),
    ],
)
def test_it_loads_the_named_claims(seeded, slug, speaker, quantity, unit):
    claim = Claim.objects.select_related("speaker").get(slug=slug)
    assert claim.speaker.slug == speaker
    assert claim.quantity == quantity
    assert claim.unit == unit


def test_every_seeded_claim_is_valid_with_a_short_form_where_it_is_long(seeded):
    for claim in Claim.objects.all():
        claim.full_clean()  # short forms, units of the list, qualifiers, media
        assert len(claim.short_statement) <= 75, claim.slug
    nearly = Claim.objects.get(slug="nearly-seven-tons-linked-to-maduro-himself")
    assert (nearly.quantity_qualifier, nearly.quantity_text) == ("nearly", "nearly 7 tonnes")
    footage = Claim.objects.get(slug="strike-footage-was-ai-generated")
    # What the article says of the footage; no address it does not give is invented.
    assert footage.media_type == "video" and "released by the US government" in (
        footage.media_context
    )
    assert footage.media_url == footage.media_original_url == ""


@pytest.mark.parametrize(
    ("speaker", "words"),
    [
        ("donald-trump", "You\u2019re going to find out"),
        ("marco-rubio", "What will stop them is when you blow them up"),
        ("pam-bondi", "To date, the DEA has seized 30 tons of cocaine"),
        ("claudia-sheinbaum", "absolutely ruled out"),
        ("ryan-berg", "paradigm shift"),
        ("government-of-venezuela", "unjustifiable, immoral, and criminal threat"),
    ],
)
def test_it_anchors_the_direct_quotes_of_each_speaker(seeded, speaker, words):
    quote = Quote.objects.select_related("source").get(
        speaker__slug=speaker, kind=Quote.Kind.DIRECT, exact__startswith=words
    )
    assert quote.source.snapshot[quote.start : quote.end] == quote.exact


def test_the_seven_tons_and_the_thirty_tons_cite_the_same_bondi_quote(seeded):
    thirty = Appearance.objects.get(claim__slug="dea-seized-30-tons-of-cocaine-linked-to-maduro")
    seven = Appearance.objects.get(claim__slug="nearly-seven-tons-linked-to-maduro-himself")
    assert thirty.quote_id == seven.quote_id
    assert "nearly seven tons linked to Maduro himself" in seven.quote.exact


def test_speakers_carry_the_roles_the_articles_give(seeded):
    roles = dict(Speaker.objects.values_list("slug", "role"))
    assert roles["marco-rubio"] == "US Secretary of State"
    assert roles["pam-bondi"] == "US Attorney General"
    assert roles["claudia-sheinbaum"] == "President of Mexico"
    assert Speaker.objects.get(slug="ryan-berg").affiliation == (
        "Center for Strategic and International Studies"
    )


def test_seeded_claims_are_published_as_unverified_through_the_ledger(seeded):
    assert set(Claim.objects.values_list("status", flat=True)) == {INITIAL_STATUS}
    assert Claim.objects.published().count() == Claim.objects.count()
    # One publication entry per claim, no verdict: the articles verify nothing.
    assert Review.objects.filter(action=Review.Action.PUBLISH).count() == Claim.objects.count()
    assert not Review.objects.exclude(action=Review.Action.PUBLISH).exists()
    assert set(Review.objects.values_list("editor__username", flat=True)) == {"seed-loader"}
    assert not Review.objects.first().editor.has_usable_password()
    assert verify_ledger().ok


def test_a_second_load_changes_nothing_and_says_so(seeded, capsys):
    before = _counts()
    call_command("load_seeds")

    assert _counts() == before
    assert "nothing changed" in capsys.readouterr().out


def test_it_keeps_an_editors_correction_when_reloading(seeded):
    Speaker.objects.filter(slug="ryan-berg").update(role="Director, Americas Program")

    report = load_seed_file(SEED_FILE)

    assert not report.changed
    assert Speaker.objects.get(slug="ryan-berg").role == "Director, Americas Program"
    assert any("ryan-berg" in line and "role" in line for line in report.kept_differing)


# Outlets and accounts the articles only relay: "Reuters reported", "according to The
# New York Times", "as reported in a tweet by Mario Nawfal".
RELAYED = {
    "pentagon-deploying-troops-to-southern-caribbean": "as reported by Reuters",
    "trump-signed-order-for-anti-cartel-operations": "according to The New York Times",
    "trump-hints-at-attacking-cartels-in-venezuela": "in a post by Mario Nawfal",
}


def test_no_outlet_that_only_reported_a_claim_is_its_speaker(seeded):
    intermediaries = {"reuters", "the new york times", "nyt", "mario nawfal"}
    intermediaries |= {
        name.casefold()
        for name in Appearance.objects.exclude(relayed_by="").values_list("relayed_by", flat=True)
    }
    for claim in Claim.objects.select_related("speaker"):
        names = {claim.speaker.name.casefold(), *(a.casefold() for a in claim.speaker.aliases)}
        assert not names & intermediaries, (claim.slug, claim.speaker.name)
    for quote in Quote.objects.select_related("speaker"):
        assert quote.speaker.name.casefold() not in intermediaries, quote.exact
    assert not Speaker.objects.filter(slug__in=["reuters", "the-new-york-times"]).exists()


def test_claims_the_articles_relay_name_their_intermediary(seeded):
    relayed = {
        appearance.claim.slug: appearance.relay_text
        for appearance in Appearance.objects.exclude(relay="").select_related("claim")
    }
    assert relayed == RELAYED


@pytest.mark.parametrize(
    ("slug", "speaker"),
    [
        ("pentagon-deploying-troops-to-southern-caribbean", "unnamed-sources-briefed-on-the-move"),
        ("trump-signed-order-for-anti-cartel-operations", "unnamed-source"),
        ("ten-f35s-deployed-to-puerto-rico", "unnamed-source"),
    ],
)
def test_a_claim_the_articles_attribute_to_no_one_has_an_unnamed_claimant(seeded, slug, speaker):
    claim = Claim.objects.select_related("speaker").get(slug=slug)
    assert claim.speaker.slug == speaker
    assert claim.speaker.kind == Speaker.Kind.OTHER
    assert "unnamed" in claim.speaker.name.casefold()


def test_every_reported_passage_is_the_claims_speakers(seeded):
    # A reported passage is the source's wording of what the speaker said or did: one
    # backing a claim of someone else's would put one person's act in another's mouth.
    appearances = Appearance.objects.filter(quote__kind=Quote.Kind.REPORTED).select_related(
        "claim", "quote"
    )
    assert appearances.exists()
    for appearance in appearances:
        assert appearance.quote.speaker_id == appearance.claim.speaker_id, appearance.quote.exact
    bounty = Claim.objects.get(slug="us-50-million-bounty-on-maduro")
    assert {a.quote.speaker.slug for a in bounty.appearances.all()} == {"us-government"}


def test_a_reload_keeps_an_editors_relay_and_says_so(seeded):
    appearance = Appearance.objects.get(claim__slug="trump-signed-order-for-anti-cartel-operations")
    Appearance.objects.filter(pk=appearance.pk).update(relay="reported_by")

    report = load_seed_file(SEED_FILE)

    assert not report.changed
    appearance.refresh_from_db()
    assert appearance.relay_text == "as reported by The New York Times"
    assert any(
        "trump-signed-order-for-anti-cartel-operations" in line and "relay" in line
        for line in report.kept_differing
    )


def test_a_reload_keeps_a_quote_attributed_otherwise_and_says_so(seeded):
    quote = Quote.objects.get(exact="raising the bounty on him to $50 million")
    Quote.objects.filter(pk=quote.pk).update(speaker=Speaker.objects.get(slug="donald-trump"))

    report = load_seed_file(SEED_FILE)

    assert not report.changed
    assert any(
        "raising the bounty" in line and "donald-trump" in line for line in report.kept_differing
    )


def _copy_seeds(tmp_path):
    for path in settings.SEEDS_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "ledger.yaml"


def test_a_tampered_quote_fails_the_whole_load_and_writes_nothing(db, tmp_path):
    seed_file = _copy_seeds(tmp_path)
    text = seed_file.read_text(encoding="utf-8")
    assert "What will stop them is when you blow them up" in text
    seed_file.write_text(
        text.replace(
            "What will stop them is when you blow them up",
            "What will stop them is when we blow them up",
        ),
        encoding="utf-8",
    )
    before = _counts()

    with pytest.raises(CommandError) as caught:
        call_command("load_seeds", str(seed_file))

    message = str(caught.value)
    assert "nothing was written" in message
    assert "What will stop them is when we blow them up" in message
    assert "rubio-blowing-them-up-will-stop-traffickers" in message
    assert "Nearest passage" in message and "when you blow them up" in message
    assert _counts() == before


def test_it_names_the_entry_with_an_unknown_speaker(db, tmp_path):
    seed_file = _copy_seeds(tmp_path)
    text = seed_file.read_text(encoding="utf-8")
    seed_file.write_text(
        text.replace("speaker: marco-rubio", "speaker: marco-rubioo"), encoding="utf-8"
    )

    with pytest.raises(SeedError, match=r"claims\[\d+\] \(rubio-blowing-them-up.*marco-rubioo"):
        load_seed_file(seed_file)
    assert Claim.objects.count() == 0


def test_it_refuses_an_unknown_key(db, tmp_path):
    seed_file = _copy_seeds(tmp_path)
    text = seed_file.read_text(encoding="utf-8")
    seed_file.write_text(
        text.replace("    unit: USD\n", "    unit: USD\n    currency: USD\n", 1), encoding="utf-8"
    )

    with pytest.raises(SeedError, match="unknown key.*currency"):
        load_seed_file(seed_file)


def test_it_refuses_a_relay_without_its_intermediary(db, tmp_path):
    seed_file = _copy_seeds(tmp_path)
    text = seed_file.read_text(encoding="utf-8")
    assert "        relayed_by: Reuters\n" in text
    seed_file.write_text(text.replace("        relayed_by: Reuters\n", ""), encoding="utf-8")

    with pytest.raises(SeedError, match=r"pentagon-deploying.*appearance 0: relayed_by"):
        load_seed_file(seed_file)
    assert Claim.objects.count() == 0


def test_it_reports_broken_yaml_with_its_line(db, tmp_path):
    seed_file = tmp_path / "ledger.yaml"
    seed_file.write_text("speakers:\n  - slug: a\n   name: [unclosed\n", encoding="utf-8")

    with pytest.raises(SeedError, match="line"):
        load_seed_file(seed_file)
