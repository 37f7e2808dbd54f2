from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _grant_app_privileges(sender, using, **kwargs):
    from claims.ledger.database import grant_app_privileges

    grant_app_privileges(using=using)


def _install_trigger_helpers(sender, using, **kwargs):
    from factcheck.db import trigger_helpers

    trigger_helpers.install(using=using)


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims and the review ledger"

    def ready(self):
        from claims import checks

        checks.register()
        # After every migrate (as the owner): the app's role gets what it needs.
        post_migrate.connect(_grant_app_privileges, sender=self)
        # After every migrate, and after the libraries' own: history triggers without
        # a subtransaction per row (factcheck.db.trigger_helpers).
        post_migrate.connect(_install_trigger_helpers, sender=self)
