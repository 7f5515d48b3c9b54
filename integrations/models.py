"""Webhooks: the outbox of events, the endpoints that hear them, and each delivery."""

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from strategies.models import Agency, Goal


class EventType(models.TextChoices):
    MILESTONE_STATUS_CHANGED = "milestone.status_changed", _("Milestone status changed")
    UPDATE_SUBMITTED = "quarterly_update.submitted", _("Quarterly update submitted")
    UPDATE_RETURNED = "quarterly_update.returned", _("Quarterly update returned")
    UPDATE_CLEARED = "quarterly_update.cleared", _("Quarterly update cleared")
    UPDATE_PUBLISHED = "quarterly_update.published", _("Quarterly update published")
    GOAL_CLOSED = "goal.closed", _("Goal closed")


class OutboxEvent(models.Model):
    """Something that happened, written in the same transaction as the change itself:
    a change that rolls back takes its event with it, so it is never announced."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    goal = models.ForeignKey(Goal, on_delete=models.SET_NULL, null=True, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.SET_NULL, null=True, related_name="+")
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("happened"), default=timezone.now, db_index=True)
    # Set when the event has been fanned out into one delivery per matching endpoint.
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="outbox_undispatched",
            )
        ]

    def __str__(self):
        return f"{self.event_type} {self.id}"


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookEndpoint(models.Model):
    """A receiver registered by an administrator for one goal or for one agency."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    goal = models.ForeignKey(
        Goal, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_endpoints"
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_endpoints"
    )
    # The event types it hears (EventType values).
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100, default=new_signing_secret)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(goal__isnull=False, agency__isnull=True)
                | Q(goal__isnull=True, agency__isnull=False),
                name="webhook_for_one_goal_or_one_agency",
            )
        ]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: created when the event is dispatched, retried with
    exponential backoff until it succeeds or is given up."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Gave up")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker claims a delivery until this time; a worker killed mid-delivery leaves a
    # claim that lapses, and the delivery is attempted again.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_due",
            )
        ]

    def __str__(self):
        return f"{self.event_id} → {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery and what came back: the log administrators read."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.CharField(max_length=2000, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}"
