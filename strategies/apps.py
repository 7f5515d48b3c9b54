from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StrategiesConfig(AppConfig):
    name = "strategies"
    verbose_name = _("Plans and strategies")

    def ready(self):
        from strategies.database_roles import grant_after_migrate

        # Sent once per app after the whole migration plan has run; one sender is enough.
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="sdif_app_role")
