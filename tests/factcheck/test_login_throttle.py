"""Failed admin logins lock out one username from one address, for a while.

Issue 10: 200 wrong admin passwords and then the right one logged in. Now
LOGIN_FAILURE_LIMIT failures of a username from an address lock that
username out from that address for LOGIN_COOLOFF_MINUTES (django-axes,
factcheck.login_throttle), the right password included, and the login page
says so with 429 and Retry-After; other usernames, the same username from
elsewhere and everything else on the site go on working.
"""

from __future__ import annotations

import datetime
import io

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import connection
from django.test import Client

from factcheck.security import client_ip

LOGIN = "/admin/login/?next=/admin/"
LIMIT = 5  # LOGIN_FAILURE_LIMIT's default


def _login(client: Client, username: str, password: str, **extra):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.django_db(transaction=True)
def test_two_hundred_wrong_passwords_then_the_right_one_is_refused(client, editor):
    """The issue's case, through the real commit path: each failure is committed
    (AtomicWritesMiddleware saw the login form's 200) before the lockout's 429."""
    answers = [_login(client, editor.username, f"wrong-{n}").status_code for n in range(200)]

    assert answers[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, "enter the correct..."
    assert set(answers[LIMIT - 1 :]) == {429}  # the fifth failure locks
    refused = _login(client, editor.username, "pw")
    assert refused.status_code == 429
    assert not _logged_in(refused)
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username=editor.username).failures_since_start == 201


@pytest.mark.django_db
def test_the_login_page_says_why_and_when_to_come_back(client, editor):
    for _ in range(LIMIT):
        response = _login(client, editor.username, "wrong")

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    # The admin's own login page, its error replaced, the username kept.
    assert 'id="login-form"' in page
    assert '<p class="errornote">' in page
    assert "Too many failed logins" in page
    assert "for the next 15 minutes" in page
    assert "Please enter the correct username" not in page
    assert f'value="{editor.username}"' in page
    # The page is under the Content-Security-Policy like every other.
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_before_the_limit_the_usual_message_and_a_right_password_resets_the_count(client, editor):
    for _ in range(LIMIT - 1):
        response = _login(client, editor.username, "wrong")
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()

    assert _logged_in(_login(client, editor.username, "pw"))
    client.logout()
    # The count started again: LIMIT - 1 more failures still do not lock.
    for _ in range(LIMIT - 1):
        assert _login(client, editor.username, "wrong").status_code == 200
    assert _logged_in(_login(client, editor.username, "pw"))


@pytest.mark.django_db
def test_only_that_username_from_that_address_is_locked_out(client, editor, second_editor):
    for _ in range(LIMIT):
        _login(client, editor.username, "wrong", REMOTE_ADDR="203.0.113.7")

    assert _login(client, editor.username, "pw", REMOTE_ADDR="203.0.113.7").status_code == 429
    # Another account from the same address, the same account from another address.
    assert _logged_in(_login(Client(), second_editor.username, "pw", REMOTE_ADDR="203.0.113.7"))
    assert _logged_in(_login(Client(), editor.username, "pw", REMOTE_ADDR="198.51.100.2"))
    # The rest of the site answers the locked-out address as usual.
    assert Client(REMOTE_ADDR="203.0.113.7").get("/").status_code == 200


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(client, editor):
    for _ in range(LIMIT):
        _login(client, editor.username, "wrong")
    assert _login(client, editor.username, "pw").status_code == 429

    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert _logged_in(_login(client, editor.username, "pw"))


@pytest.mark.django_db
def test_the_command_the_readme_names_lifts_a_lockout(client, editor):
    for _ in range(LIMIT):
        _login(client, editor.username, "wrong")

    call_command("axes_reset_username", editor.username, stdout=io.StringIO())
    assert _logged_in(_login(client, editor.username, "pw"))


@pytest.mark.django_db
def test_behind_a_proxy_the_client_address_counts_not_the_proxys(client, editor, settings):
    """One proxy appends the client's address to X-Forwarded-For: a client that
    sends its own X-Forwarded-For cannot slip out of the lockout with it."""
    settings.PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for n in range(LIMIT):
        forged = f"10.0.0.{n}, 203.0.113.7"  # the client's guess, then what the proxy saw
        _login(client, editor.username, "wrong", HTTP_X_FORWARDED_FOR=forged, **proxy)

    locked = _login(
        client, editor.username, "pw", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.7", **proxy
    )
    assert locked.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"
    # Another client behind the same proxy logs in.
    other = _login(Client(), editor.username, "pw", HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)
    assert _logged_in(other)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "203.0.113.7", "192.0.2.1"),  # no proxy: the header is the client's
        (1, "127.0.0.1", "203.0.113.7", "203.0.113.7"),
        (1, "127.0.0.1", "10.0.0.1, 203.0.113.7", "203.0.113.7"),  # the left part is forged
        (2, "127.0.0.1", "10.0.0.1, 203.0.113.7, 198.51.100.9", "203.0.113.7"),
        (2, "127.0.0.1", "203.0.113.7", "203.0.113.7"),  # fewer entries: all are ours
        (1, "127.0.0.1", "", "127.0.0.1"),
        (1, "127.0.0.1", "not-an-address", "127.0.0.1"),
        (1, "::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(rf, settings, proxies, remote, forwarded, expected):
    settings.PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_the_apps_role_may_keep_the_count(db):
    """migrate (as the owner) grants the app's role its privileges on every table,
    django-axes' included: the running app records, updates and clears attempts."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname,
                   has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE'),
                   pg_has_role(current_user, c.relowner, 'USAGE')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'axes_%%'
            ORDER BY c.relname
            """
        )
        rows = cursor.fetchall()
    assert {name for name, *_ in rows} >= {"axes_accessattempt", "axes_accesslog"}
    assert all(may for _, may, _ in rows), rows
    assert not any(owns for *_, owns in rows), rows
