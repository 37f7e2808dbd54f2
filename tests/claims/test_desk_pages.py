"""Refusals said in words (403s in the site's or the admin's layout), and each
member of the desk's own API token page."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from factcheck.forbidden import permission_denied
from tests.factories import UserFactory

OWN_TOKEN = reverse("admin:authtoken_tokenproxy_own")


@pytest.mark.parametrize(
    ("route", "lacks"),
    [
        ("admin:claims_claim_record_review", "Recording a verdict is for the desk"),
        ("admin:claims_claim_publication", "Publishing or unpublishing a claim is for"),
        ("admin:claims_claim_correct", "Correcting a published or rated claim is for"),
    ],
)
def test_a_contributor_is_refused_inside_the_admin_layout(
    client_for, contributor, editor, claim, route, lacks
):
    response = client_for(contributor).post(reverse(route, args=[claim.pk]), {"status": "false"})

    html = response.content.decode()
    assert response.status_code == 403
    assert 'id="header"' in html and 'class="breadcrumbs"' in html  # the admin's layout
    assert lacks in html
    assert 'id="forbidden-ask"' in html and "<strong>ed</strong>" in html  # whom to ask
    assert "Editors group" in html


def test_a_refusal_without_words_still_says_what_and_whom(client_for, contributor, editor):
    # Django's own views refuse without a message: a contributor may not delete a source.
    from tests.factories import SourceFactory

    source = SourceFactory()
    response = client_for(contributor).get(reverse("admin:sources_source_delete", args=[source.pk]))

    html = response.content.decode()
    assert response.status_code == 403
    assert "Your account does not have the permission this page needs." in html
    assert "<strong>ed</strong>" in html


def test_outside_the_admin_the_sites_own_page(db):
    request = RequestFactory().get("/claims/some-claim/")
    request.user = UserFactory()

    response = permission_denied(request, PermissionDenied("Drafts are for the desk."))

    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in html  # the site's layout, with its styles
    assert "<h1>Not allowed</h1>" in html and "Drafts are for the desk." in html
    assert 'id="forbidden-q"' in html


def test_the_api_gets_its_json_error(db):
    request = RequestFactory().get("/api/v1/claims/")
    request.user = UserFactory()

    response = permission_denied(request, PermissionDenied())

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


# --- the API token page ---------------------------------------------------------


def test_each_member_reaches_their_own_token_from_the_menu_and_the_index(client_for, editor):
    html = client_for(editor).get(reverse("admin:index")).content.decode()

    assert f'href="{OWN_TOKEN}" id="own-token-link"' in html  # the user menu
    assert html.count(f'href="{OWN_TOKEN}"') >= 2  # and the dashboard


def test_a_member_creates_then_replaces_their_token_only_with_confirmation(client_for, editor):
    client = client_for(editor)

    page = client.get(OWN_TOKEN)
    assert page.status_code == 200
    assert 'id="own-token-none"' in page.content.decode()

    created = client.post(OWN_TOKEN, {})
    assert created.status_code == 302
    first = Token.objects.get(user=editor).key
    assert first in client.get(OWN_TOKEN).content.decode()

    unconfirmed = client.post(OWN_TOKEN, {})
    assert unconfirmed.status_code == 400
    assert "Tick this to replace your token" in unconfirmed.content.decode()
    assert Token.objects.get(user=editor).key == first

    client.post(OWN_TOKEN, {"confirm": "on"})
    second = Token.objects.get(user=editor).key
    assert second != first
    assert not Token.objects.filter(key=first).exists()
    html = client.get(OWN_TOKEN).content.decode()
    assert second in html and first not in html


def test_the_token_page_needs_csrf(client_for, editor):
    client = client_for(editor, enforce_csrf_checks=True)

    assert client.post(OWN_TOKEN, {}).status_code == 403
    assert not Token.objects.filter(user=editor).exists()


def test_a_member_never_sees_another_users_token(client_for, editor, second_editor, contributor):
    theirs = Token.objects.create(user=second_editor).key
    client = client_for(contributor)

    assert theirs not in client.get(OWN_TOKEN).content.decode()
    # The Tokens list sends them to their own page; another's token page is refused.
    listing = client.get(reverse("admin:authtoken_tokenproxy_changelist"))
    assert listing.status_code == 302 and listing["Location"] == OWN_TOKEN
    other = client.get(reverse("admin:authtoken_tokenproxy_change", args=[second_editor.pk]))
    assert other.status_code in (302, 403)
    assert theirs not in other.content.decode()


def test_superusers_keep_the_full_list(client_for, editor, second_editor):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    keys = [Token.objects.create(user=user).key for user in (editor, second_editor)]

    html = client_for(root).get(reverse("admin:authtoken_tokenproxy_changelist")).content.decode()

    assert all(key in html for key in keys)
