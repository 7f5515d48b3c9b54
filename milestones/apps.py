from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MilestonesConfig(AppConfig):
    name = "milestones"
    verbose_name = _("Milestones and progress")

    def ready(self):
        from audit.history import register_quarter_resolver
        from milestones.quarters import history_quarter_of

        # Every history row records the reporting quarter its change belongs to; the
        # audit layer asks this app, which knows goals and their quarters.
        register_quarter_resolver(history_quarter_of)
