from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.backends.signals import connection_created

from claims.models import Claim, Speaker
from claims.roles import sync_roles
from claims.seeding import load_seed_file
from sources.models import Source


def _allow_ledger_truncate(sender, connection, **kwargs):
    # Transactional tests reset the database with TRUNCATE, which the ledger
    # refuses unless the session opts in (see claims migration 0002).
    with connection.cursor() as cursor:
        cursor.execute("SET factcheck.allow_ledger_truncate = 'on'")


connection_created.connect(_allow_ledger_truncate)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    """The real seed file, loaded."""
    return load_seed_file(settings.SEEDS_DIR / "ledger.yaml")


def _user_in(django_user_model, username: str, group: str):
    # Transactional tests flush every table, the migrations' groups included.
    sync_roles()
    user = django_user_model.objects.create_user(username=username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db, django_user_model):
    return _user_in(django_user_model, "ed", "Editors")


@pytest.fixture
def second_editor(db, django_user_model):
    return _user_in(django_user_model, "ed2", "Editors")


@pytest.fixture
def contributor(db, django_user_model):
    return _user_in(django_user_model, "contrib", "Contributors")


@pytest.fixture
def speaker(db):
    return Speaker.objects.create(name="Ada Example", slug="ada-example", role="Minister")


SNAPSHOT = (
    "The minister said the port handled \u201c12 million tonnes\u201d last year.\n"
    "Critics said: \u201cThat number is wrong.\u201d The minister\u2019s office  disagreed."
)


@pytest.fixture
def source(db):
    return Source.objects.create(slug="port-article", title="Port article", snapshot=SNAPSHOT)


@pytest.fixture
def claim(db, speaker):
    return Claim.objects.create(
        slug="port-12-million-tonnes",
        statement="The port handled 12 million tonnes last year.",
        speaker=speaker,
        kind=Claim.Kind.NUMERIC,
        quantity=12_000_000,
        unit="tonnes",
    )
