"""manage.py import_reviews end to end, on the hand-written fixtures: folders, formats
guessed, a summary, idempotence, refusals that name where and why and write nothing."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from claims.models import Claim, ExternalReview

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_reviews", *args, stdout=out, stderr=err, verbosity=1)
    return out.getvalue(), err.getvalue()


def test_a_folder_of_every_format_imports_then_a_second_run_changes_nothing(tmp_path):
    folder = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "datasets", folder / "datasets")
    shutil.copytree(FIXTURES / "claimreview", folder / "claimreview")
    # Only files the importer takes: the refused ones have tests of their own.
    for name in [
        "datasets/liar_bad_rows.tsv",
        "datasets/snopes_invalid.json",
        "claimreview/broken_feed.json",
        "claimreview/claimskg_missing_claim.csv",
        "claimreview/no_claimreview.html",
        "claimreview/no_ldjson.html",
    ]:
        (folder / name).unlink()

    out, _ = run(str(folder))

    assert "0 refused" in out
    formats = {review.imported_from.split(":")[0] for review in ExternalReview.objects.all()}
    assert formats == {
        "liar",
        "factcellar",  # its flat CSV holds the same reviews: kept as the JSON gave them
        "snopes",
        "snopes-csv",
        "html",
        "datafeed",
        "factcheck-search",
        "claimskg-csv",
        "claimskg-json",
    }
    assert "kept as another file gave them" in out
    counts = (ExternalReview.objects.count(), Claim.objects.count())
    assert counts[0] > 20

    again, _ = run(str(folder))

    assert again.rstrip().endswith("Nothing changed.")
    assert (ExternalReview.objects.count(), Claim.objects.count()) == counts


def test_a_refused_file_names_where_and_why_and_the_others_are_still_imported(tmp_path):
    shutil.copy(FIXTURES / "datasets" / "snopes_invalid.json", tmp_path / "false-stories.json")
    shutil.copy(FIXTURES / "datasets" / "liar_sample.tsv", tmp_path / "train.tsv")

    with pytest.raises(CommandError, match="1 file"):
        run(str(tmp_path))

    # The LIAR file went in; nothing of the Snopes one did.
    assert ExternalReview.objects.exists()
    assert not ExternalReview.objects.filter(imported_from__startswith="snopes").exists()


def test_the_refusal_says_line_column_and_why(tmp_path, capsys):
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_reviews", str(FIXTURES / "datasets" / "snopes_invalid.json"), stderr=err
        )
    message = err.getvalue()
    assert "REFUSED" in message and "snopes_invalid.json" in message
    assert "line " in message and "column " in message
    assert not ExternalReview.objects.exists()


def test_a_page_without_claimreview_is_refused_with_a_clear_message():
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_reviews", str(FIXTURES / "claimreview" / "no_claimreview.html"), stderr=err
        )
    assert "no ClaimReview in any of its" in err.getvalue()
    assert not Claim.objects.exists()


def test_a_dry_run_says_what_would_change_and_writes_nothing():
    out, _ = run(str(FIXTURES / "datasets" / "liar_sample.tsv"), "--dry-run")

    assert out.startswith("liar:liar_sample.tsv:")
    assert "reviews would be created" in out and "Dry run:" in out
    assert not ExternalReview.objects.exists() and not Claim.objects.exists()


def test_an_unknown_file_or_format_is_refused(tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("nothing to import here\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_reviews", str(stray), str(tmp_path / "missing.tsv"), stderr=err)
    assert "its format cannot be told; pass --format" in err.getvalue()
    assert "no such file or folder" in err.getvalue()


def test_published_as_an_editor_readers_see_the_claims_with_also_checked_by(
    db, client, editor, contributor
):
    liar = str(FIXTURES / "datasets" / "liar_sample.tsv")
    with pytest.raises(CommandError, match="no active editor who may publish"):
        run(liar, "--publish-as", contributor.username)
    assert not ExternalReview.objects.exists()

    out, _ = run(liar, "--publish-as", editor.username)

    claims = Claim.objects.filter(external_reviews__isnull=False).distinct()
    assert claims.exists() and all(claim.is_published for claim in claims)
    assert f"{claims.count()} claims published" in out
    page = client.get(f"/claims/{claims.first().slug}/")
    assert page.status_code == 200
    assert "Also checked by" in page.content.decode()
    assert "PolitiFact" in page.content.decode()
    # Each publication is a ledger entry by that editor.
    assert {entry.editor for claim in claims for entry in claim.reviews.all()} == {editor}
