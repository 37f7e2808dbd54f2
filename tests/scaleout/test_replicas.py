"""Read replicas: the router, the per-request choice, lag, a replica that is down,
and a real streaming standby of the server the tests run against (standby.py).

The standby is the real thing: `pg_basebackup -R` of the primary, run as a hot
standby; WAL replay is paused on it to make it lag on purpose. Where no standby
can be made (a server through DATABASE_URL that refuses replication
connections), the tests that need one are skipped with the reason, and the
routing tests run against `same`: an alias for the primary itself, declared
healthy, which shows which connection a request used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import Claim
from factcheck.db import read_routing, routers
from factcheck.db.server import uses_embedded_server
from tests.factories import ClaimFactory
from tests.scaleout import standby as standbys

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

ROUTER = "factcheck.db.routers.ReplicaRouter"


def _alias_settings(**overrides: Any) -> dict[str, Any]:
    """A replica alias as settings.py builds one, for the test database."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    return {
        **{key: value for key, value in primary.items() if key not in ("OWNER", "TEST")},
        "ENGINE": "factcheck.db.postgresql",
        "OPTIONS": {"connect_timeout": 3, **primary.get("OPTIONS", {})},
        "TEST": {**primary["TEST"], "MIRROR": DEFAULT_DB_ALIAS, "NAME": None},
        **overrides,
    }


def _add_alias(alias: str, settings_dict: dict[str, Any]) -> None:
    # Added to the live handler: the replica exists only once the test database does.
    connections.settings[alias] = settings_dict


def _drop_alias(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture(scope="module")
def replica_aliases(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """`down` (a closed port), `same` (the primary under another alias) and, where a
    standby can be made, `replica1` (the standby). Module-wide: pytest-django checks
    a test's databases before function-scoped fixtures run."""
    found: dict[str, Any] = {"standby": None, "skip": ""}
    with django_db_blocker.unblock():
        connections[DEFAULT_DB_ALIAS].ensure_connection()  # the embedded server fills in HOST
        primary_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        _add_alias("down", _alias_settings(HOST="127.0.0.1", PORT=standbys._free_port()))
        _add_alias("same", _alias_settings(HOST=primary_dict["HOST"], PORT=primary_dict["PORT"]))
        try:
            primary = standbys.primary_of(primary_dict, uses_embedded_server())
            standby = standbys.start_standby(primary)
        except standbys.StandbyUnavailable as exc:
            found["skip"] = f"no streaming standby of this server: {exc}"
        else:
            found["standby"] = standby
            _add_alias("replica1", _alias_settings(HOST=str(standby.socket_dir), PORT=standby.port))
    try:
        yield found
    finally:
        with django_db_blocker.unblock():
            for alias in ("down", "same", "replica1"):
                _drop_alias(alias)
            if found["standby"] is not None:
                standbys.remove(found["standby"])


@pytest.fixture
def routing(settings, replica_aliases) -> Iterator[Any]:
    """Replica routing on, with answers asked afresh on every request; `use(*aliases)`
    says which aliases are the replicas."""
    settings.DATABASE_ROUTERS = [ROUTER]
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 3600
    read_routing.forget_health()

    def use(*aliases: str) -> None:
        settings.DATABASE_REPLICAS = list(aliases)
        read_routing.forget_health()

    yield use
    read_routing.forget_health()


@pytest.fixture
def standby(replica_aliases, routing) -> standbys.Standby:
    if replica_aliases["standby"] is None:
        pytest.skip(replica_aliases["skip"])
    standby = replica_aliases["standby"]
    with standby.connect() as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    routing("replica1")
    return standby


@pytest.fixture
def same_as_replica(routing, monkeypatch) -> str:
    """`same` as the one replica, healthy whatever it says (it is the primary)."""
    real_check = read_routing._check

    def healthy(alias: str) -> read_routing.Health:
        if alias == "same":
            return read_routing.Health(True, 0.0, replayed=2**62, lag=0.0)
        return real_check(alias)

    monkeypatch.setattr(read_routing, "_check", healthy)
    routing("same")
    return "same"


def _caught_up(standby: standbys.Standby) -> None:
    """Wait until the standby has replayed everything the primary has written."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (target,) = cursor.fetchone()

    def replayed() -> bool:
        with standby.connect() as conn:
            row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()
            return bool(row[0])

    standbys.wait_for(replayed, f"the standby to replay up to {target}")


def _publish(client, claim: Claim, version: int = 1):
    return client.post(
        reverse("api:claim-publish", kwargs={"slug": claim.slug}),
        json.dumps({"version": version, "note": "Ready."}),
        content_type="application/json",
    )


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    entries = body["results"] if isinstance(body, dict) else body
    return [entry["action"]["value"] for entry in entries]


# --- A real standby ------------------------------------------------------------------


def test_a_write_on_the_primary_is_read_on_the_replica(standby, client):
    claim = ClaimFactory(slug="replicated", statement="Replicated through WAL.", published=True)
    _caught_up(standby)

    assert Claim.objects.using("replica1").get(slug="replicated").statement == claim.statement
    # Caught up and streaming: no lag, whatever the age of its last transaction (the
    # app's role sees that the WAL receiver runs).
    assert read_routing.health("replica1").lag == 0
    with CaptureQueriesContext(connections["replica1"]) as on_replica:
        page = client.get(reverse("claims:detail", kwargs={"slug": claim.slug}))
    assert page.status_code == 200
    assert "Replicated through WAL." in page.content.decode()
    assert any("claims_claim" in query["sql"] for query in on_replica.captured_queries)
    with standby.connect() as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True


def test_readers_see_the_replica_and_the_writer_their_own_write(
    standby, client, client_for, editor, claim
):
    """Replay paused: the reader is served from the replica, which has not seen the
    editor's publication; the editor, right after writing it, reads the primary."""
    _caught_up(standby)
    reviews = reverse("api:claim-reviews", kwargs={"slug": claim.slug})
    editor_client = client_for(editor)
    with standby.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        published = _publish(editor_client, claim)
        assert published.status_code == 200, published.content
        assert read_routing.COOKIE in published.cookies  # the primary's WAL position

        assert client.get(reviews).status_code == 404  # not published, on the replica
        assert _actions(editor_client.get(reviews)) == ["publish"]  # read your writes
        # The same editor without the cookie (another browser) reads the replica.
        elsewhere = client_for(editor)
        assert "publish" not in _actions_or_none(elsewhere.get(reviews))
    finally:
        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
    _caught_up(standby)
    read_routing.forget_health()
    assert _actions(client.get(reviews)) == ["publish"]


def _actions_or_none(response) -> list[str]:
    return _actions(response) if response.status_code == 200 else []


def test_a_lagging_replica_is_left_out(standby, client, settings, caplog, editor):
    claim = ClaimFactory(slug="lagging", published=False)
    _caught_up(standby)
    detail = reverse("claims:detail", kwargs={"slug": claim.slug})
    with standby.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        from claims import services

        services.publish_claim(claim=claim, editor=editor, expected_version=claim.version)

        def behind() -> bool:
            with standby.connect() as conn:
                row = conn.execute(
                    "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
                ).fetchone()
                return bool(row[0])

        standbys.wait_for(behind, "the standby to receive WAL it does not replay")
        assert client.get(detail).status_code == 404  # within the allowed lag: the replica

        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.2

        def left_out() -> bool:
            read_routing.forget_health()
            return not read_routing.health("replica1").usable

        standbys.wait_for(left_out, "the replica's lag to pass the limit")
        read_routing.forget_health()
        with caplog.at_level(logging.WARNING, logger="factcheck.db.read_routing"):
            assert client.get(detail).status_code == 200  # from the primary
        assert "replica1 left out" in caplog.text and "lags" in caplog.text
    finally:
        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


# --- A replica that is down ----------------------------------------------------------


def test_a_replica_that_is_down_leaves_reads_to_the_primary(routing, client, caplog):
    claim = ClaimFactory(slug="still-served", statement="Served by the primary.", published=True)
    routing("down")
    with caplog.at_level(logging.WARNING, logger="factcheck.db.read_routing"):
        page = client.get(reverse("claims:detail", kwargs={"slug": claim.slug}))
        listing = client.get(reverse("api:claim-list"))
    assert page.status_code == 200 and "Served by the primary." in page.content.decode()
    assert listing.status_code == 200
    assert "down left out" in caplog.text and "unreachable" in caplog.text
    assert connections["down"].connection is None


def test_health_is_asked_at_most_once_per_interval(routing, settings, client):
    routing("down")
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600
    asked = []
    real_check = read_routing._check

    def counted(alias: str) -> read_routing.Health:
        asked.append(alias)
        return real_check(alias)

    read_routing._check = counted
    try:
        for _ in range(3):
            assert client.get(reverse("claims:list")).status_code == 200
    finally:
        read_routing._check = real_check
    assert asked == ["down"]


# --- What always reads the primary ----------------------------------------------------


def test_anonymous_reads_use_the_replica(same_as_replica, client):
    ClaimFactory(slug="anon", published=True)
    with CaptureQueriesContext(connections["same"]) as on_replica:
        assert client.get(reverse("claims:list")).status_code == 200
        assert client.get(reverse("api:claim-list")).status_code == 200
    assert len(on_replica.captured_queries) >= 2


def test_the_change_stamp_of_a_304_is_read_from_the_replica(same_as_replica, client):
    ClaimFactory(slug="stamped", published=True)
    first = client.get(reverse("claims:list"))
    with CaptureQueriesContext(connections["same"]) as on_replica:
        again = client.get(reverse("claims:list"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert any("claims_reader_stamp" in query["sql"] for query in on_replica.captured_queries)


def test_admin_writes_and_token_requests_use_the_primary(
    same_as_replica, client_for, editor, claim
):
    editor_client = client_for(editor)
    with CaptureQueriesContext(connections["same"]) as on_replica:
        assert editor_client.get(reverse("admin:claims_claim_changelist")).status_code == 200
        assert _publish(editor_client, claim).status_code == 200
        from rest_framework.authtoken.models import Token

        token = Token.objects.create(user=editor)
        assert (
            client_for(None)
            .get(reverse("api:claim-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
            .status_code
            == 200
        )
    assert on_replica.captured_queries == []


def test_a_session_is_read_on_the_primary(same_as_replica, client_for, editor):
    editor_client = client_for(editor)
    with CaptureQueriesContext(connections["same"]) as on_replica:
        assert editor_client.get(reverse("claims:list")).status_code == 200
    assert on_replica.captured_queries  # the page, from the replica
    assert not any("django_session" in query["sql"] for query in on_replica.captured_queries)


def test_outside_a_request_everything_uses_the_primary(same_as_replica, capsys):
    assert routers.read_alias() == DEFAULT_DB_ALIAS
    with CaptureQueriesContext(connections["same"]) as on_replica:
        call_command("check", "--database", "default")
        list(Claim.objects.all())
    assert on_replica.captured_queries == []
    router = routers.ReplicaRouter()
    assert router.allow_migrate("same", "claims") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "claims") is True
    token = routers.read_from("same")
    try:
        assert router.db_for_read(Claim) == "same"
        assert router.db_for_write(Claim) == DEFAULT_DB_ALIAS
        from django.db import transaction

        with transaction.atomic():
            assert router.db_for_read(Claim) == DEFAULT_DB_ALIAS  # inside a write
    finally:
        routers.reset(token)


# --- With a CDN in front ----------------------------------------------------------------


def test_a_purge_waits_for_the_replica_and_leaves_out_one_that_has_not_replayed(
    standby, client, settings, editor
):
    """A purge makes the CDN fetch the page again at once: from a replica that has not
    replayed the write it would keep the page as it was. So the purge waits for the
    replicas, and one still behind is left out: the CDN's fetch reads the primary."""
    from claims import cdn, services
    from tests.scaleout.test_cdn import Receiver

    receiver = Receiver()
    settings.CDN_PURGE_URL = receiver.url
    claim = ClaimFactory(slug="purged-after-replay", published=False)
    _caught_up(standby)
    detail = reverse("claims:detail", kwargs={"slug": claim.slug})
    with standby.connect() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
        # Outside a request the purge is sent as the write commits.
        services.publish_claim(claim=claim, editor=editor, expected_version=claim.version)

        assert any(f"claim-{claim.pk}" in keys for keys in receiver.purged())
        assert not read_routing.health("replica1").usable  # left out until its next check
        assert client.get(detail).status_code == 200  # the CDN's fetch: from the primary
    finally:
        with standby.connect() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
        receiver.close()
    _caught_up(standby)
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 3600

    receiver = Receiver()
    settings.CDN_PURGE_URL = receiver.url
    try:
        services.unpublish_claim(
            claim=claim,
            editor=editor,
            explanation="Withdrawn to check again.",
            expected_version=Claim.objects.get(pk=claim.pk).version,
        )
        # Caught up in time: the replica stays in use, and has the withdrawal.
        assert read_routing.health("replica1").usable
        assert cdn.LISTS in receiver.purged()[0]
        assert client.get(detail).status_code == 410
    finally:
        receiver.close()
