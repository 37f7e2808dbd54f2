"""A user's permissions, their own and their groups', read in one query
(factcheck.permissions), with the answers Django's own backend gives."""

from __future__ import annotations

import pytest
from django.contrib.auth import backends
from django.contrib.auth.models import Permission

from claims.services import RECORD_REVIEW_PERMISSION
from factcheck.permissions import ModelBackend
from tests.factories import ContributorFactory, EditorFactory, UserFactory


@pytest.fixture
def users(db):
    loner = UserFactory(username="loner")
    loner.user_permissions.add(Permission.objects.get(codename="add_speaker"))
    superuser = UserFactory(username="root", is_superuser=True)
    inactive = EditorFactory(username="gone", is_active=False)
    return [EditorFactory(), ContributorFactory(), loner, superuser, inactive]


def test_the_same_permissions_as_djangos_backend(users):
    for user in users:
        ours = ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
        djangos = backends.ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
        assert ours == djangos, user.username
    editor, contributor, loner, superuser, inactive = users
    assert RECORD_REVIEW_PERMISSION in ModelBackend().get_all_permissions(editor)
    assert RECORD_REVIEW_PERMISSION not in ModelBackend().get_all_permissions(contributor)
    assert ModelBackend().get_all_permissions(loner) == {"claims.add_speaker"}
    assert ModelBackend().get_all_permissions(inactive) == set()


def test_one_query_for_a_requests_checks(users, django_assert_num_queries):
    editor = type(users[0]).objects.get(pk=users[0].pk)
    with django_assert_num_queries(1):
        assert editor.has_perm(RECORD_REVIEW_PERMISSION)
        assert not editor.has_perm("auth.delete_user")
