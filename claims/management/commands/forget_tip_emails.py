from django.conf import settings
from django.core.management.base import BaseCommand

from claims.tips import forget_emails


class Command(BaseCommand):
    help = (
        "Erase readers' email addresses from tips older than TIP_EMAIL_RETENTION_DAYS "
        "(the suggest form promises it). Run it daily, from a timer or cron.\n\n"
        "Example: python manage.py forget_tip_emails"
    )

    def handle(self, *args, **options):
        erased = forget_emails()
        self.stdout.write(
            f"Erased {erased:,} email address{'es' if erased != 1 else ''} of tips older than "
            f"{settings.TIP_EMAIL_RETENTION_DAYS} days."
        )
