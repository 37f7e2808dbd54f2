import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture
def api_client():
    """An anonymous client."""
    return APIClient()


def _token_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def editor_client(editor):
    return _token_client(editor)


@pytest.fixture
def contributor_client(contributor):
    return _token_client(contributor)


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    """Throttling has its own test (which sets its own rates); elsewhere it would
    only make request-heavy tests flaky. DRF reads the rates into a class
    attribute at import, so that is what is patched; a None rate never throttles."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    cache.clear()
