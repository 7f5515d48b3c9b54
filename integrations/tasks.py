"""The background tasks of webhooks (django-tasks): dispatching an event, attempting a
delivery. Enqueued once the change's transaction commits, run by ``manage.py db_worker``
(or at once with ``TASKS_BACKEND=immediate``); the sweep (``manage.py
deliver_webhooks``) picks up whatever a lost enqueue or a dead worker left behind."""

from __future__ import annotations

import logging
from datetime import datetime

from django_tasks import task

from integrations import delivery

logger = logging.getLogger(__name__)


@task()
def dispatch_event(event_id: str) -> int:
    """Fan one outbox event out into its deliveries; how many were made."""
    return len(delivery.dispatch(event_id) or [])


@task()
def deliver(delivery_id: int) -> bool | None:
    """Attempt one delivery: True delivered, False failed, None not due or claimed."""
    outcome = delivery.attempt(delivery_id)
    return None if outcome is None else outcome.succeeded


def enqueue_dispatch(event_id) -> None:
    try:
        dispatch_event.enqueue(str(event_id))
    except Exception:
        # The change is committed and its event is in the outbox: the sweep sends it.
        logger.exception("Could not enqueue the dispatch of webhook event %s", event_id)


def enqueue_delivery(delivery_id: int, *, at: datetime | None = None) -> None:
    """Enqueue an attempt of the delivery, at ``at`` if the task backend can defer; a
    backend that cannot (the immediate one) leaves a later retry to the sweep."""
    try:
        if at is None:
            deliver.enqueue(delivery_id)
        elif deliver.get_backend().supports_defer:
            deliver.using(run_after=at).enqueue(delivery_id)
    except Exception:
        logger.exception("Could not enqueue webhook delivery %s", delivery_id)
