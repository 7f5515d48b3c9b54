from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """What other systems read and hear: the read API, signed webhooks with their outbox
    and delivery log, and the background tasks that deliver them.

    A site-level app beside ``sdif_tracker``: it listens to the domain's history signals
    and reads through ``sdif_tracker.access``; no domain layer imports it."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from integrations import signals  # noqa: F401 - connects the outbox receivers
