"""A client generated from the project's own OpenAPI schema works.

openapi-python-client (pinned in requirements-dev.txt) generates a Python
package from the schema `manage.py spectacular` writes; the test imports it and
drives a live server with it, as a tool written against the schema would:
anonymous reads, a contributor's writes with a token, an editor's verdict, and
the errors those accounts get. Generation reads only the file it is given
(no network) and takes about a second, so it runs once per module.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from claims.models import Claim

PACKAGE = "factcheck_client"

# live_server needs a transactional database (the conftest's user fixtures
# re-create the roles that its flushes wipe).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated client's modules by dotted name: `generated("api.claims.claims_list")`."""
    root = tmp_path_factory.mktemp("generated-client")
    schema = root / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    config = root / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))
    # A proxy that refuses everything: the generator must not need the network.
    offline = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(schema)]
        + ["--meta", "none", "--config", str(config), "--output-path", str(root / PACKAGE)],
        check=True,
        capture_output=True,
        env=offline,
        timeout=120,
    )
    sys.path.insert(0, str(root))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_a_generated_client_reads_writes_and_records_a_verdict(
    generated, live_server, seeded, contributor, editor
):
    client = generated("client")
    # Every request the generated clients send, as (method, path, Content-Type).
    sent: list[tuple[str, str, str | None]] = []
    hooks = {
        "event_hooks": {
            "request": [
                lambda r: sent.append((r.method, r.url.path, r.headers.get("Content-Type")))
            ]
        }
    }

    def as_(user):
        return client.AuthenticatedClient(
            base_url=live_server.url,
            token=Token.objects.get_or_create(user=user)[0].key,
            prefix="Token",
            raise_on_unexpected_status=True,
            httpx_args=hooks,
        )

    anonymous = client.Client(
        base_url=live_server.url, raise_on_unexpected_status=True, httpx_args=hooks
    )
    # Closing the clients ends their keep-alive connections, and so the live
    # server's threads and their database connections.
    with anonymous, as_(contributor) as contributing, as_(editor) as editing:
        _drive(generated, anonymous, contributing, editing)

    # The schema declares JSON bodies only, so the generated client sends JSON, never
    # multipart or a form; and it reads anonymously what anyone may read.
    writes = [(method, path, kind) for method, path, kind in sent if method != "GET"]
    assert len(writes) == 5
    assert {kind for _, _, kind in writes} == {"application/json"}, writes


def _drive(generated, anonymous, contributing, editing) -> None:
    models = generated("models")
    claims = lambda name: generated(f"api.claims.{name}")  # noqa: E731

    # Anyone lists the published claims and reads one.
    page = claims("claims_list").sync(client=anonymous, page_size=5)
    assert len(page.results) == 5
    assert all(item.published for item in page.results)
    first = page.results[0]
    detail = claims("claims_retrieve").sync(first.slug, client=anonymous)
    assert (detail.slug, detail.statement) == (first.slug, first.statement)
    assert detail.speaker.slug == first.speaker

    # A contributor adds a source and a draft claim with a token.
    snapshot = "The port handled 9.1 million tonnes last year."
    added = generated("api.sources.sources_create").sync_detailed(
        client=contributing,
        body=models.SourceWriteRequest(
            slug="port-report", title="Port annual report", snapshot=snapshot
        ),
    )
    assert added.status_code == 201
    assert added.headers["Location"] == added.parsed.api_url
    assert added.parsed.snapshot_sha256 == hashlib.sha256(snapshot.encode()).hexdigest()

    created = claims("claims_create").sync_detailed(
        client=contributing,
        body=models.ClaimWriteRequest(
            slug="port-handled-12-million-tonnes",
            statement="The port handled 12 million tonnes last year.",
            speaker=detail.speaker.slug,
            kind=models.ClaimKindEnum.NUMERIC,
            quantity="12000000",
            unit=models.UnitEnum("t"),
            topics=["venezuela"],
        ),
    )
    assert created.status_code == 201
    draft = created.parsed
    assert (draft.published, draft.version, draft.status.value) == (False, 1, "unverified")
    assert draft.topics == ["venezuela"]

    # Recording a verdict is an editor's call: the contributor gets the API's error.
    verdict = models.RecordReviewRequest(
        status=models.StatusEnum.FALSE,
        explanation="The port's annual report gives **9.1 million tonnes**.",
        evidence=["port-report"],
        version=draft.version,
    )
    record = claims("claims_reviews_create").sync_detailed
    refused = record(draft.slug, client=contributing, body=verdict)
    assert refused.status_code == 403
    assert refused.parsed.error.code == "permission_denied"

    # The editor records it, with the ETag the claim's detail sent as If-Match.
    loaded = claims("claims_retrieve").sync_detailed(draft.slug, client=editing)
    entry = record(draft.slug, client=editing, body=verdict, if_match=loaded.headers["ETag"])
    assert entry.status_code == 201, entry.content
    assert entry.parsed.status_after.value == "false"
    assert [cited.source for cited in entry.parsed.evidence] == ["port-report"]
    assert entry.headers["ETag"] == Claim.objects.get(slug=draft.slug).etag

    # The same version again is stale: 409, with the claim's state now.
    stale = record(draft.slug, client=editing, body=verdict)
    assert stale.status_code == 409
    assert stale.parsed.error.code == "version_conflict"
    assert stale.parsed.error.current["version"] == 2

    rated = claims("claims_retrieve").sync(draft.slug, client=editing)
    assert (rated.status.value, rated.version) == ("false", 2)
    assert [source.slug for source in rated.evidence] == ["port-report"]
