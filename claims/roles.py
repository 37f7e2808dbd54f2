"""The desk's roles, as auth groups: the one place they are defined.

The data migrations call `sync_roles` to create them; the demo-account
command and the test suite call it too, so a database that was flushed
(transactional tests) or created without them gets them back. It only
adds: permissions an administrator gave a group by hand are kept.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

EDITORS = "Editors"
CONTRIBUTORS = "Contributors"


def is_desk_member(user) -> bool:
    """Active staff accounts: the desk, who see drafts everywhere readers see claims."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


_CONTENT_MODELS = {
    "claims": ["speaker", "topic", "claim", "quote", "appearance"],
    "sources": ["source"],
}
_READ_LEDGER = [("claims", "view_review"), ("claims", "view_reviewevidence")]


def _content(actions: list[str]) -> list[tuple[str, str]]:
    return [
        (app, f"{action}_{model}")
        for app, models in _CONTENT_MODELS.items()
        for model in models
        for action in actions
    ]


# Readers' tips (migration 0017): the whole desk triages them; editors also delete
# them, and edit the publisher's pages.
_HANDLE_TIPS = [
    ("claims", "change_tipgroup"),
    ("claims", "view_tipgroup"),
    ("claims", "view_tip"),
]

ROLES: dict[str, list[tuple[str, str]]] = {
    CONTRIBUTORS: _content(["add", "change", "view"]) + _READ_LEDGER + _HANDLE_TIPS,
    EDITORS: _content(["add", "change", "delete", "view"])
    + _READ_LEDGER
    + [
        ("claims", "record_review"),
        ("claims", "publish_claim"),
        ("claims", "assign_claim"),
        # Webhooks (migration 0014): editors manage subscriptions and read the log.
        ("claims", "add_webhooksubscription"),
        ("claims", "change_webhooksubscription"),
        ("claims", "delete_webhooksubscription"),
        ("claims", "view_webhooksubscription"),
        ("claims", "view_webhookdelivery"),
        ("claims", "view_webhookattempt"),
        ("claims", "change_sitepage"),
        ("claims", "view_sitepage"),
        ("claims", "delete_tipgroup"),
    ]
    + _HANDLE_TIPS,
}


def sync_roles(apps=global_apps) -> None:
    """Create the groups with their permissions (idempotent; `apps` may be historical)."""
    for app_label in _CONTENT_MODELS:
        # Permissions are normally created after migrations; make sure they exist now.
        create_permissions(global_apps.get_app_config(app_label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # In a migration, permissions of models and Meta options that a later
    # migration introduces don't exist yet: that migration syncs again.
    in_migration = apps is not global_apps
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None and not in_migration:
                raise LookupError(f"Permission {app_label}.{codename} does not exist")
            if permission is not None:
                group.permissions.add(permission)
