from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from claims.roles import sync_roles

# Username, group, full name (first, last: readers see it in bylines), description.
DEMO_USERS = (
    (
        "editor",
        "Editors",
        ("Dana", "Whitfield"),
        "Demo editor: records verdicts, publishes, assigns work",
    ),
    (
        "chief",
        "Editors",
        ("Morgan", "Reyes"),
        "Second demo editor: approves verdicts when sign-off is on (VERDICT_SIGN_OFF=true)",
    ),
    (
        "contributor",
        "Contributors",
        ("Sam", "Ortega"),
        "Demo contributor: adds speakers, sources, claims, quotes",
    ),
)


class Command(BaseCommand):
    help = (
        "Create or reset the demo editors and contributor accounts (DEBUG only) and print "
        "their credentials. The password comes from DEMO_PASSWORD.\n\n"
        "Example: DEBUG=true python manage.py ensure_demo_users"
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for local development only: set DEBUG=true.")
        sync_roles()
        User = get_user_model()
        for username, group_name, (first_name, last_name), description in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first_name, last_name
            user.is_staff = True
            user.is_active = True
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=group_name)])
            token, _ = Token.objects.get_or_create(user=user)
            self.stdout.write(
                f"{description} ({user.get_full_name()})\n    username: {username}   password: {settings.DEMO_PASSWORD}"
                f"   API token: {token.key}"
            )
