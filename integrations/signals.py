"""The outbox's receiver: every history row written is looked at, inside the transaction
that writes it, and the changes webhooks announce become outbox events
(``integrations.outbox``). Listening here keeps the domain layers unaware of webhooks."""

from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from integrations import outbox


@receiver(post_create_historical_record, dispatch_uid="integrations.outbox")
def announce_change(sender, instance, history_instance, **kwargs):
    outbox.record(instance, history_instance)
