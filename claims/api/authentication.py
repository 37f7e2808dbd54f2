"""Token authentication that stops answering an address that keeps guessing.

`ThrottledTokenAuthentication` is DRF's TokenAuthentication plus a counter
of failed tokens per client address (factcheck.security.client_ip), kept in
the cache (shared between processes when REDIS_URL is set). Once an address
has sent TOKEN_FAILURE_LIMIT wrong tokens within TOKEN_FAILURE_WINDOW
seconds, every request from it that carries a token is answered 429, with
Retry-After, until that window ends, before the token is even looked up:
a right token cannot be told from a wrong one meanwhile. Requests without
a token (anonymous reads, the admin's session) are never affected, and a
right token before the limit is just authenticated.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from factcheck.db.prepared import compiled
from factcheck.security import client_ip

CACHE_PREFIX = "token-failures"


class TokenFailuresThrottled(exceptions.Throttled):
    default_detail = "Too many requests with a wrong token from your address."


def _keys(address: str) -> tuple[str, str]:
    return f"{CACHE_PREFIX}:count:{address}", f"{CACHE_PREFIX}:until:{address}"


def _presents_a_token(request, keyword: str) -> bool:
    auth = get_authorization_header(request).split()
    return bool(auth) and auth[0].lower() == keyword.lower().encode()


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        if not _presents_a_token(request, self.keyword):
            return None
        limit = settings.TOKEN_FAILURE_LIMIT
        if not limit:
            return super().authenticate(request)
        count_key, until_key = _keys(client_ip(request))
        if (cache.get(count_key) or 0) >= limit:
            self._refuse(until_key)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            self._count_failure(count_key, until_key)
            raise

    def authenticate_credentials(self, key):
        """DRF's lookup (the token with its user, the same refusals), as one statement
        compiled once and prepared (factcheck.db.prepared): every API write starts here."""
        rows = compiled(("api-token",), _token_with_user, token=_KEY_MARK).rows(token=key)
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        row = rows[0]
        user_model = get_user_model()
        user = user_model.from_db(
            "default", _USER_FIELDS, [row[f"user__{name}"] for name in _USER_FIELDS]
        )
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(
            "default", ["key", "user_id", "created"], [row["key"], user.pk, row["created"]]
        )
        token.user = user
        return (user, token)

    @staticmethod
    def _count_failure(count_key: str, until_key: str) -> None:
        window = settings.TOKEN_FAILURE_WINDOW
        # The window opens at the first failure; add() leaves an open one as it is.
        cache.add(until_key, time.time() + window, timeout=window)
        cache.add(count_key, 0, timeout=window)
        try:
            cache.incr(count_key)
        except ValueError:  # expired between add() and incr(): this failure opens a window
            cache.set(count_key, 1, timeout=window)

    @staticmethod
    def _refuse(until_key: str) -> None:
        until = cache.get(until_key)
        wait = max(1, round(until - time.time())) if until else settings.TOKEN_FAILURE_WINDOW
        raise TokenFailuresThrottled(wait=wait)


# No token looks like this: where the request's key goes in the compiled statement.
_KEY_MARK = "compiled-token-key-mark"
_USER_FIELDS = [field.attname for field in get_user_model()._meta.concrete_fields]


def _token_with_user(token: str) -> QuerySet[Token]:
    return Token.objects.filter(key=token).values(
        "key", "created", *(f"user__{name}" for name in _USER_FIELDS)
    )
