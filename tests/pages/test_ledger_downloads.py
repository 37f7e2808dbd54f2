"""The ledger's format page and the standalone verifier's download.

The downloaded verifier is run as an outsider runs it: its bytes written to
a directory outside the project, run by a separate Python, on an export,
checkpoints and proofs fetched from the real API.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from claims.ledger import checkpoints, verifier
from tests.claims.test_ledger_format_doc import DOC, blocks_of
from tests.factories import ClaimFactory, PublicationFactory, VerdictFactory

FORMAT_URL = "/ledger/format/"
VERIFIER_URL = "/ledger/verifier.py"
VERIFIER_BYTES = Path(verifier.__file__).read_bytes()


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    cache.clear()


class _Page(HTMLParser):
    """The text of every <pre>, the ids of the headings and the links of a page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.pre: list[str] = []
        self.headings: dict[str, str] = {}
        self.links: list[str] = []
        self._pre_depth = 0
        self._heading: tuple[str, list[str]] | None = None
        self.comments: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "pre":
            self._pre_depth += 1
            self.pre.append("")
        elif tag in {"h1", "h2", "h3"}:
            self._heading = (attributes.get("id") or "", [])
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "pre":
            self._pre_depth -= 1
        elif tag in {"h1", "h2", "h3"} and self._heading is not None:
            anchor, text = self._heading
            self.headings["".join(text).strip()] = anchor
            self._heading = None

    def handle_data(self, data):
        if self._pre_depth:
            self.pre[-1] += data
        if self._heading is not None:
            self._heading[1].append(data)

    def handle_comment(self, data):
        self.comments.append(data)


# --- The format page ----------------------------------------------------------------


def test_the_format_page_shows_the_document_in_the_sites_layout(client):
    response = client.get(reverse("ledger-format"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    page = _Page(html)
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert "<title>The ledger&#x27;s format, version 2 · " in html
    for heading in (
        "The ledger's format, version 2",
        "2. Canonical JSON",
        "4. The entry body",
        "5. The header and the entry hash",
        "6. The Merkle tree",
        "7. Checkpoints",
        "8. The export",
        "9. The proof endpoints",
        "10. A worked example",
        "Entry #2: a verdict on draft claim 8 (redacted in the public export)",
        "11. Verifying with the standalone verifier",
    ):
        assert heading in page.headings, heading
    assert page.headings["10. A worked example"] == "10-a-worked-example"
    assert "#10-a-worked-example" in page.links
    assert "<table>" in html
    # The labels of the example's blocks are for the test, not for readers.
    assert page.comments == []


def test_the_format_page_shows_every_block_of_the_worked_example_exactly(client):
    page = _Page(client.get(FORMAT_URL).content.decode())
    shown = set(page.pre)

    blocks = blocks_of(DOC.read_text(encoding="utf-8"))
    assert len(blocks) > 30
    for name, content in blocks.items():
        assert content + "\n" in shown, name


def test_the_format_page_links_the_downloads(client):
    page = _Page(client.get(FORMAT_URL).content.decode())

    assert VERIFIER_URL in page.links
    assert reverse("api:ledger") in page.links
    assert hashlib.sha256(VERIFIER_BYTES).hexdigest() in client.get(FORMAT_URL).content.decode()


@pytest.mark.parametrize("url", [FORMAT_URL, VERIFIER_URL])
def test_the_downloads_answer_conditional_gets(db, client, url):
    first = client.get(url)
    etag = first["ETag"]

    assert first.status_code == 200 and etag.startswith('"')
    assert "public" in first["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    head = client.head(url)
    assert head.status_code == 200 and head["ETag"] == etag
    assert client.post(url).status_code == 405


def test_the_verifier_downloads_as_the_exact_bytes_of_its_file(client):
    response = client.get(reverse("ledger-verifier"))

    assert response.status_code == 200
    assert response.content == VERIFIER_BYTES
    assert response["Content-Type"] == "text/x-python; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="verifier.py"'


def test_the_api_documentation_links_the_format_page(client):
    from django.conf import settings

    description = settings.SPECTACULAR_SETTINGS["DESCRIPTION"]
    assert "(/ledger/format/)" in description and "(/ledger/verifier.py)" in description


# --- The downloaded verifier against the real API -------------------------------------


def _run(directory: Path, *args: str, stdin: str | None = None):
    # -I: no PYTHONPATH, no user site, and the script's own directory first;
    # the project is nowhere on the path.
    return subprocess.run(
        [sys.executable, "-I", "verifier.py", *args],
        cwd=directory,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def small_ledger(db, claim, editor, source, speaker):
    """Three entries, the second about a draft; checkpoints signed after #2 and #3."""
    draft = ClaimFactory(slug="secret-draft", statement="A draft nobody may read.", speaker=speaker)
    PublicationFactory(claim=claim, editor=editor)
    VerdictFactory(
        claim=draft,
        editor=editor,
        explanation="Nothing shows it.",
        evidence=[source],
        note="internal",
    )
    old = checkpoints.sign_latest()
    VerdictFactory(
        claim=claim,
        editor=editor,
        explanation="The port's report gives 9.1 million tonnes.",
        evidence=[source],
        note="Phoned the port.",
    )
    new = checkpoints.sign_latest()
    assert (old.size, new.size) == (2, 3)
    return old, new


def test_the_downloaded_verifier_checks_what_the_api_serves(client, small_ledger, tmp_path):
    old, _ = small_ledger
    (tmp_path / "verifier.py").write_bytes(client.get(VERIFIER_URL).content)
    ledger = client.get("/api/v1/ledger/").json()
    (tmp_path / "ledger.vkey").write_text(ledger["verifier_key"] + "\n", encoding="utf-8")
    checkpoint = client.get("/api/v1/ledger/checkpoint")
    assert checkpoint.status_code == 200
    (tmp_path / "checkpoint.txt").write_bytes(checkpoint.content)
    export = b"".join(client.get("/api/v1/export").streaming_content)
    (tmp_path / "export.jsonl").write_bytes(export)
    assert b"nobody may read" not in export and b"Phoned" not in export

    result = _run(
        tmp_path,
        "--checkpoint", "checkpoint.txt", "--key-file", "ledger.vkey",
        "--origin", ledger["origin"], "export.jsonl",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(
        f"Verified 3 entries (1 redacted) against checkpoint {ledger['origin']} size 3, root "
    )

    inclusion = client.get("/api/v1/ledger/proofs/inclusion/2")
    assert inclusion.status_code == 200
    (tmp_path / "inclusion-2.json").write_bytes(inclusion.content)
    result = _run(tmp_path, "--inclusion-proof", "inclusion-2.json", "--key-file", "ledger.vkey")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(
        f"Verified: entry #2 is in checkpoint {ledger['origin']} size 3"
    )

    (tmp_path / "kept.txt").write_text(old.note, encoding="utf-8")
    consistency = client.get("/api/v1/ledger/proofs/consistency", {"from": old.size})
    assert consistency.status_code == 200
    (tmp_path / "consistency.json").write_bytes(consistency.content)
    result = _run(
        tmp_path,
        "--consistency-proof", "consistency.json", "--old-checkpoint", "kept.txt",
        "--key-file", "ledger.vkey", "--origin", ledger["origin"],
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert "the ledger's first 2 entries are the ones signed then, unchanged" in result.stdout


def test_the_downloaded_verifier_fails_a_tampered_export_or_proof(client, small_ledger, tmp_path):
    (tmp_path / "verifier.py").write_bytes(client.get(VERIFIER_URL).content)
    key = client.get("/api/v1/ledger/").json()["verifier_key"]
    checkpoint = client.get("/api/v1/ledger/checkpoint").content.decode()
    (tmp_path / "checkpoint.txt").write_text(checkpoint, encoding="utf-8")
    export = b"".join(client.get("/api/v1/export").streaming_content).decode()
    tampered = export.replace('"status_after":"false"', '"status_after":"mixed"', 1)
    assert tampered != export

    result = _run(tmp_path, "--checkpoint", "checkpoint.txt", "--key", key, "-", stdin=tampered)
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED: entry #3 (line 3): the body hashes to ")

    proof = client.get("/api/v1/ledger/proofs/inclusion/2").json()
    proof["header"]["created_at"] = proof["header"]["created_at"][:-2] + (
        "0Z" if proof["header"]["created_at"][-2] != "0" else "1Z"
    )
    result = _run(tmp_path, "--inclusion-proof", "-", "--key", key, stdin=json.dumps(proof))
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED: inclusion proof: entry_hash is ")


def test_the_api_answers_with_the_keys_the_worked_example_shows(client, small_ledger):
    blocks = blocks_of(DOC.read_text(encoding="utf-8"))
    example_lines = [json.loads(line) for line in blocks["export"].split("\n")]
    lines = [
        json.loads(line)
        for line in b"".join(client.get("/api/v1/export").streaming_content).splitlines()
    ]

    assert [line.keys() for line in lines] == [line.keys() for line in example_lines]
    assert lines[0]["body"].keys() == example_lines[0]["body"].keys()
    assert lines[0]["body"]["claim"].keys() == example_lines[0]["body"]["claim"].keys()
    inclusion = client.get("/api/v1/ledger/proofs/inclusion/2").json()
    assert inclusion.keys() == json.loads(blocks["inclusion-proof-2"]).keys()
    assert list(inclusion["header"]) == list(json.loads(blocks["inclusion-proof-2"])["header"])
    consistency = client.get("/api/v1/ledger/proofs/consistency", {"from": 2}).json()
    assert consistency.keys() == json.loads(blocks["consistency-proof-2-3"]).keys()
    log = client.get("/api/v1/ledger/checkpoints")
    logged = [json.loads(line) for line in b"".join(log.streaming_content).splitlines()]
    example_log = [json.loads(line) for line in blocks["checkpoint-log"].split("\n")]
    assert [entry.keys() for entry in logged] == [entry.keys() for entry in example_log]
