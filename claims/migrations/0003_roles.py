"""The desk's roles as groups, as they were when this migration was written.

The data is copied here rather than imported from claims/roles.py, so that
editing the roles later never changes what this migration does: a later
migration grants what changes (0005 gives editors publication and assignment).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_MODELS = {
    "claims": ["speaker", "topic", "claim", "quote", "appearance"],
    "sources": ["source"],
}
READ_LEDGER = [("claims", "view_review"), ("claims", "view_reviewevidence")]


def content(actions):
    return [
        (app, f"{action}_{model}")
        for app, models in CONTENT_MODELS.items()
        for model in models
        for action in actions
    ]


ROLES = {
    "Contributors": content(["add", "change", "view"]) + READ_LEDGER,
    "Editors": content(["add", "change", "delete", "view"])
    + READ_LEDGER
    + [("claims", "record_review")],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make
    # sure they exist now so the groups can hold them.
    for app_label in CONTENT_MODELS:
        create_permissions(global_apps.get_app_config(app_label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0002_ledger_guards"),
        ("sources", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
