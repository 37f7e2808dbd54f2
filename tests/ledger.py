"""Setting up claims the way the desk would, for tests that need a state."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from claims.models import Claim, CorrectionClass
from claims.roles import sync_roles
from claims.services import correct_claim


def desk_editor():
    """An editor account for set-up steps that are not what the test is about."""
    sync_roles()
    user, created = get_user_model().objects.get_or_create(
        username="setup-editor", defaults={"is_staff": True}
    )
    if created:
        user.groups.add(Group.objects.get(name="Editors"))
    return user


def correct(claim: Claim | str, *, correction_class=CorrectionClass.CLARIFICATION, **changes):
    """Change a published or rated claim's checkable fields, as a correction entry."""
    current = Claim.objects.get(slug=claim) if isinstance(claim, str) else claim
    current = Claim.objects.get(pk=current.pk)
    return correct_claim(
        claim=current,
        editor=desk_editor(),
        expected_version=current.version,
        correction_class=correction_class,
        reason="Set up by the test.",
        changes=changes,
    )
