"""The headers every answer carries: Content-Security-Policy with nonces, HSTS,
the redirect to HTTPS, and who is believed about HTTPS behind a proxy.

The browser test (tests/browser/test_content_security_policy.py) shows the
pages work under the policy; these pin what the policy and the headers are.
"""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings as project_settings
from django.test import Client

from tests.factories import VerdictFactory

pytestmark = pytest.mark.django_db

CSP = "Content-Security-Policy"
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


def directives(response) -> dict[str, list[str]]:
    policy = response[CSP]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_the_policy_is_strict(client):
    policy = directives(client.get("/"))

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no page script needs a nonce here
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    # As X-Frame-Options says: no framing at all.
    assert project_settings.X_FRAME_OPTIONS == "DENY"
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_an_inline_style_carries_the_nonce_of_its_own_response(client):
    first = client.get("/ledger/format/")
    second = client.get("/ledger/format/")

    nonces = []
    for response in (first, second):
        (nonce,) = set(NONCE.findall(response[CSP]))
        assert directives(response)["style-src"] == ["'self'", f"'nonce-{nonce}'"]
        assert f'<style nonce="{nonce}">' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_a_304_keeps_the_policy_the_page_was_stored_with(client):
    """Revalidated, a page with a nonce answers 304 before any template runs: a policy
    sent with it would hold no nonce and replace the stored one, and the stored page's
    inline style would be refused. So the 304 carries none."""
    page = client.get("/ledger/format/")
    assert NONCE.search(page[CSP])

    again = client.get("/ledger/format/", HTTP_IF_NONE_MATCH=page["ETag"])
    assert again.status_code == 304
    assert CSP not in again


def test_claimreview_json_ld_is_a_data_block_without_a_nonce(client, claim, editor):
    """CSP never runs or blocks a <script type="application/ld+json">: it is data.
    Given no nonce, the claim page stays the same bytes for every reader (its ETag
    and shared caching hold) and no nonce is handed to what an editor typed."""
    from tests.factories import PublicationFactory

    VerdictFactory(claim=claim, editor=editor, status="false")
    PublicationFactory(claim=claim, editor=editor)
    response = client.get(f"/claims/{claim.slug}/")

    body = response.content.decode()
    assert '<script type="application/ld+json">' in body
    assert "nonce" not in body
    assert not NONCE.search(response[CSP])


def test_the_admin_pages_styles_carry_the_nonce(client, editor, claim):
    client.force_login(editor)
    response = client.get(f"/admin/claims/claim/{claim.pk}/change/")

    (nonce,) = set(NONCE.findall(response[CSP]))
    assert f'<style nonce="{nonce}">' in response.content.decode()


def test_swagger_ui_and_redoc_run_their_inline_scripts_by_nonce(client):
    swagger = client.get("/api/docs/")
    (nonce,) = set(NONCE.findall(swagger[CSP]))
    html = swagger.content.decode()
    assert f'<script nonce="{nonce}">' in html and f'<style nonce="{nonce}">' in html

    redoc = client.get("/api/redoc/")
    (nonce,) = set(NONCE.findall(redoc[CSP]))
    html = redoc.content.decode()
    assert f'<script nonce="{nonce}">' in html
    # Handed to Redoc for the styles it adds (a JavaScript string, escaped).
    (given,) = re.findall(r'nonce: "([^"]+)"', html)
    assert json.loads(f'"{given}"') == nonce
    assert "fonts.googleapis.com" not in html  # nothing from a CDN
    policy = directives(redoc)
    assert policy["worker-src"] == ["'self'", "blob:"]  # its search
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]


def test_only_the_browsable_api_may_style_inline(client):
    browsable = directives(client.get("/api/v1/ratings", HTTP_ACCEPT="text/html"))
    assert browsable["style-src"] == ["'self'", "'unsafe-inline'"]
    assert browsable["script-src"] == ["'self'"]

    json = directives(client.get("/api/v1/ratings"))
    assert json["style-src"] == ["'self'"]


def test_the_500_page_has_its_style_by_nonce(rf):
    from django.middleware.csp import ContentSecurityPolicyMiddleware

    from factcheck.site_views import server_error

    request = rf.get("/broken/")
    middleware = ContentSecurityPolicyMiddleware(lambda request: server_error(request))
    response = middleware(request)

    (nonce,) = set(NONCE.findall(response[CSP]))
    assert f'<style nonce="{nonce}">' in response.content.decode()


def test_hsts_and_the_redirect_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    client = Client()

    plain = client.get("/ratings-nowhere/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/ratings-nowhere/"

    secure = client.get("/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert CSP in secure


def test_behind_the_proxy_its_header_says_https_and_nothing_else_does(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()

    proxied = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=3600")
    assert client.get("/", HTTP_X_FORWARDED_PROTO="http").status_code == 301
    assert client.get("/").status_code == 301
