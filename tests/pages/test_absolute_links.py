"""Absolute links name the server actually answering (issue 10, point 7).

Every absolute address of the site (canonical links, og:url, the ClaimReview
JSON-LD, the Atom feed, the sitemap, robots.txt, the API's `page_url` and its
ClaimReview endpoints) is made by `claims.claimreview.site_root`: SITE_URL when it
is set, whatever Host the request names (production); otherwise the scheme, host
and port of the request (development: `make run PORT=8101` links to 8101); without
a request, DEFAULT_SITE_URL. The checkpoints' origin never follows a request.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from claims.claimreview import absolute_url, site_root
from claims.ledger import checkpoints
from tests.factories import (
    AppearanceFactory,
    ClaimFactory,
    CorrectionFactory,
    SourceFactory,
    SpeakerFactory,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVED = "http://127.0.0.1:8101"
SITE = "https://facts.example.org"
ATTACKER = "attacker.example"
# Addresses that are not ours: vocabularies and XML namespaces.
FOREIGN = re.compile(r"^https?://(schema\.org|www\.w3\.org|www\.sitemaps\.org)(/|$)")
URL = re.compile(r"""https?://[^\s"'<>\\)]+""")
SLUG = "port-handled-12-million-tonnes"

PAGES = [
    "/",
    "/claims/",
    f"/claims/{SLUG}/",
    "/speakers/ada-example/",
    "/sources/port-report/",
    "/topics/",
    "/corrections/",
    "/corrections/policy/",
    "/feeds/verdicts.atom",
    "/sitemap.xml",
    "/sitemap-pages.xml",
    "/sitemap-claims-1.xml",
    "/robots.txt",
]
# The API's addresses of the site's pages (and ClaimReview's, made from them).
API = [
    f"/api/v1/claims/{SLUG}/",
    f"/api/v1/claims/{SLUG}/claimreview",
    "/api/v1/claimreview",
    "/api/v1/claims:search?query=port",
]


@pytest.fixture
def rated(db, editor):
    """A published verdict with an appearance and a correction since: every kind of
    address the site makes (page, source archive, correction anchor, publisher)."""
    speaker = SpeakerFactory(name="Ada Example", slug="ada-example")
    source = SourceFactory(slug="port-report", title="Port report")
    claim = ClaimFactory(
        slug=SLUG,
        statement="The port handled 12 million tonnes last year.",
        speaker=speaker,
        published=True,
        verdict="false",
        editor=editor,
    )
    AppearanceFactory(claim=claim, source=source)
    CorrectionFactory(
        claim=claim, editor=editor, changes={"statement": "The port handled 12 Mt last year."}
    )
    return claim


@pytest.fixture
def unset(settings):
    """Development: SITE_URL and PUBLISHER_URL unset, a server on 127.0.0.1:8101."""
    settings.SITE_URL = ""
    settings.PUBLISHER_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def our_links(text: str) -> list[str]:
    return [url for url in URL.findall(text) if not FOREIGN.match(url)]


def on(root: str, url: str) -> bool:
    return url == root or url.startswith(root + "/")


def get(client, path: str, host: str, **extra):
    response = client.get(path, HTTP_HOST=host, **extra)
    assert response.status_code == 200, (path, response.status_code)
    return response


def test_without_site_url_every_absolute_link_names_the_server_answering(client, rated, unset):
    seen = {}
    for path in PAGES + API:
        links = our_links(body(get(client, path, "127.0.0.1:8101")))
        assert links, f"{path}: no absolute link"
        wrong = [url for url in links if not on(SERVED, url)]
        assert not wrong, f"{path} names another server: {wrong}"
        seen[path] = links

    page = f"{SERVED}/claims/{SLUG}/"
    assert f'<link rel="canonical" href="{page}">' in body(
        get(client, f"/claims/{SLUG}/", "127.0.0.1:8101")
    )
    assert page in seen[f"/api/v1/claims/{SLUG}/claimreview"]
    assert f"{page}#correction-3" in seen[f"/api/v1/claims/{SLUG}/claimreview"]
    assert f"{SERVED}/sources/port-report/" in seen[f"/api/v1/claims/{SLUG}/claimreview"]
    assert f"{SERVED}/sitemap.xml" in seen["/robots.txt"]
    assert f"{SERVED}/claims/" in seen["/feeds/verdicts.atom"]
    assert f"{SERVED}/sitemap-pages.xml" in seen["/sitemap.xml"]
    assert f"{SERVED}/corrections/policy/" in seen["/sitemap-pages.xml"]
    assert page in seen["/sitemap-claims-1.xml"]

    detail = get(client, f"/api/v1/claims/{SLUG}/", "127.0.0.1:8101").json()
    # The issue's own example: page_url and api_url name the same server.
    assert detail["page_url"] == page
    assert detail["api_url"] == f"{SERVED}/api/v1/claims/{SLUG}/"
    # Google's reviewPublisherSiteFilter knows the site by the host it is served on.
    found = get(
        client, "/api/v1/claims:search?reviewPublisherSiteFilter=127.0.0.1", "127.0.0.1:8101"
    )
    assert found.json()["claims"][0]["claimReview"][0]["publisher"]["site"] == "127.0.0.1"
    ledger = get(client, "/api/v1/ledger/", "127.0.0.1:8101").json()
    assert (ledger["format"], ledger["verifier"]) == (
        f"{SERVED}/ledger/format/",
        f"{SERVED}/ledger/verifier.py",
    )


def test_the_scheme_of_the_request_counts_too(client, rated, unset):
    page = body(get(client, f"/claims/{SLUG}/", "127.0.0.1:8101", secure=True))

    links = our_links(page)
    assert links and all(on("https://127.0.0.1:8101", url) for url in links), links


def test_with_site_url_set_it_wins_over_the_host_header(client, rated, settings):
    settings.SITE_URL = SITE + "/"
    settings.PUBLISHER_URL = ""
    settings.ALLOWED_HOSTS = [ATTACKER, "testserver"]

    for path in PAGES:
        text = body(get(client, path, ATTACKER))
        assert ATTACKER not in text, path
        links = our_links(text)
        assert links and all(on(SITE, url) for url in links), (path, links)

    # The API's own addresses (api_url, next) are the address it was called at; the
    # addresses of the site's pages are SITE_URL's.
    detail = get(client, f"/api/v1/claims/{SLUG}/", ATTACKER).json()
    assert detail["page_url"] == f"{SITE}/claims/{SLUG}/"
    for path in API[1:]:
        text = body(get(client, path, ATTACKER))
        markup = json.loads(text)
        reviews = markup.get("dataFeedElement") or markup.get("claims") or [markup]
        assert ATTACKER not in json.dumps(reviews), path
    ledger = get(client, "/api/v1/ledger/", ATTACKER).json()
    assert ledger["format"] == f"{SITE}/ledger/format/"


def test_without_a_request_or_site_url_addresses_use_the_documented_default(settings):
    settings.SITE_URL = ""
    assert site_root() == settings.DEFAULT_SITE_URL == "http://127.0.0.1:8000"
    assert absolute_url("/claims/") == "http://127.0.0.1:8000/claims/"
    settings.SITE_URL = SITE + "/"
    assert absolute_url("/claims/") == f"{SITE}/claims/"


def test_the_checkpoint_origin_never_follows_a_request(client, rated, unset):
    checkpoints.sign_latest()
    note = body(get(client, "/api/v1/ledger/checkpoint", "127.0.0.1:8101"))

    assert note.splitlines()[0] == checkpoints.origin()
    assert "8101" not in note


def _settings_in_a_fresh_interpreter(**env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SITE_URL, s.LEDGER_ORIGIN, s.PUBLISHER_URL]))"
    )
    controlled = ("SITE_URL", "LEDGER_ORIGIN", "PUBLISHER_URL")
    environment = {k: v for k, v in os.environ.items() if k not in controlled}
    environment |= {"DJANGO_SETTINGS_MODULE": "factcheck.settings", "DEBUG": "true", **env}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    site, origin, publisher = json.loads(result.stdout.strip().splitlines()[-1])
    return {"SITE_URL": site, "LEDGER_ORIGIN": origin, "PUBLISHER_URL": publisher}


def test_the_settings_defaults():
    # Unset: links follow the request, the ledger's origin is fixed (the host `make run`
    # serves on by default, as before), and the publisher is the site itself.
    assert _settings_in_a_fresh_interpreter() == {
        "SITE_URL": "",
        "LEDGER_ORIGIN": "127.0.0.1:8000/ledger",
        "PUBLISHER_URL": "",
    }
    assert _settings_in_a_fresh_interpreter(SITE_URL="https://facts.example.org") == {
        "SITE_URL": "https://facts.example.org",
        "LEDGER_ORIGIN": "facts.example.org/ledger",
        "PUBLISHER_URL": "https://facts.example.org",
    }
