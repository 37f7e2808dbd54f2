from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_app_privileges(sender, using, **kwargs):
    from claims.ledger.database import grant_app_privileges

    grant_app_privileges(using=using)


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims and the review ledger"

    def ready(self):
        from claims import checks

        checks.register()
        # After every migrate (as the owner): the app's role gets what it needs.
        post_migrate.connect(_grant_app_privileges, sender=self)
