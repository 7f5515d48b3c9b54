"""Registering, changing and removing webhook endpoints: the writes the webhook pages
make, each in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts import events as security_events
from integrations import targets
from integrations.models import EventType, WebhookDelivery, WebhookEndpoint, new_signing_secret
from strategies.models import Agency, Goal


@transaction.atomic
def register_endpoint(
    *,
    user,
    url: str,
    events: list[str],
    description: str = "",
    goal: Goal | None = None,
    agency: Agency | None = None,
    request=None,
) -> WebhookEndpoint:
    """Register a receiver for ``goal`` or for ``agency`` (one of them), hearing
    ``events``; the URL is checked (``targets.check``), a signing secret made."""
    targets.check(url)
    endpoint = WebhookEndpoint(
        url=url.strip(),
        description=description.strip(),
        goal=goal,
        agency=agency,
        events=[value for value in EventType.values if value in set(events)],
        created_by=user,
    )
    endpoint.full_clean()
    endpoint.save()
    _record(security_events.Kind.WEBHOOK_REGISTERED, endpoint, user=user, request=request)
    return endpoint


def _record(kind, endpoint: WebhookEndpoint, *, user, request) -> None:
    """Each change of an endpoint in the security log: an endpoint is a channel out for a
    goal's or an agency's data, so who opened, changed or closed it is kept."""
    owner = f"goal {endpoint.goal.slug}" if endpoint.goal_id else f"agency {endpoint.agency}"
    security_events.record(
        kind, user=user, request=request, detail=f"{owner}: {endpoint.url} (#{endpoint.pk})"
    )


@transaction.atomic
def rotate_secret(*, endpoint: WebhookEndpoint, user, request=None) -> WebhookEndpoint:
    """A new signing secret; the old one stops signing at once (attempts from now on,
    retries included, are signed with the new one)."""
    endpoint.secret = new_signing_secret()
    endpoint.save(update_fields=["secret"])
    _record(security_events.Kind.WEBHOOK_SECRET_ROTATED, endpoint, user=user, request=request)
    return endpoint


@transaction.atomic
def enable_endpoint(*, endpoint: WebhookEndpoint, user, request=None) -> WebhookEndpoint:
    """Switch a disabled endpoint back on, its failure count back to zero; deliveries
    still pending are attempted again at once (by the sweep, or their queued retry)."""
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.consecutive_failures = 0
    endpoint.save(
        update_fields=["is_active", "disabled_at", "disabled_reason", "consecutive_failures"]
    )
    WebhookDelivery.objects.filter(endpoint=endpoint, state=WebhookDelivery.State.PENDING).update(
        next_attempt_at=timezone.now()
    )
    _record(security_events.Kind.WEBHOOK_ENABLED, endpoint, user=user, request=request)
    return endpoint


@transaction.atomic
def remove_endpoint(*, endpoint: WebhookEndpoint, user, request=None) -> None:
    """Remove the endpoint, its deliveries and their log: nothing more is sent to it."""
    _record(security_events.Kind.WEBHOOK_REMOVED, endpoint, user=user, request=request)
    endpoint.delete()
