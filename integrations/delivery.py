"""Delivering webhooks, off the request path: an outbox event is dispatched into one
delivery per endpoint that hears it, and each delivery is attempted until it succeeds or
is given up.

A delivery is *claimed* before its request is sent: ``claimed_until`` is set, under a
row lock on PostgreSQL and in one conditional UPDATE on both databases, so two workers
never send the same delivery at the same time. A worker killed mid-request leaves a claim
that lapses (``WEBHOOKS_CLAIM_SECONDS``, longer than a request may take); the sweep
(``sweep``, ``manage.py deliver_webhooks``) then attempts it again, with the same event
id, so the receiver can tell it is the same event. Deliveries are therefore at least
once: a receiver drops an event whose ``webhook-id`` it has already handled.

A failed attempt (no answer, or an answer other than 2xx) is logged with what came back
and retried after ``WEBHOOKS_RETRY_BASE_SECONDS`` × 2^(attempts − 1); after
``WEBHOOKS_MAX_ATTEMPTS`` the delivery is given up, and after
``WEBHOOKS_DISABLE_AFTER_FAILURES`` deliveries in a row given up the endpoint is disabled
and whoever registered it is told by email.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from integrations import targets
from integrations.models import DeliveryAttempt, OutboxEvent, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT = 2000  # characters of the receiver's answer kept in the attempt log
_READ_LIMIT = 16 * 1024  # bytes read of an answer at most
USER_AGENT = "SDIF-Tracker-Webhooks/1"


def body_of(event: OutboxEvent) -> str:
    """The exact JSON text sent (and signed) for ``event``: the same every attempt."""
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def signed_headers(*, secret: str, event_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one request: its id (the event's, the same on
    every attempt), its time, and the HMAC-SHA256 signature of ``id.time.body``."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


def retry_delay(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failed attempt the next one is made."""
    seconds = settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, 24 * 3600))


# -- one HTTP request, to the checked address --------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address ``targets.check`` approved, not to whatever the name
    resolves to by the time the socket opens."""

    def __init__(self, target: targets.Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: targets.Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name in the URL.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status (None: no answer) and the answer's start, or an
    error saying why there was none."""

    status: int | None = None
    body: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[:RESPONSE_EXCERPT]


def post(url: str, body: str, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` (checked again now, its name resolved again) with a short
    timeout; redirects are not followed (a 3xx is a failed attempt)."""
    try:
        target = targets.check(url)
    except ValidationError as refusal:
        return Outcome(error=" ".join(refusal.messages)[:500])
    connection_class = (
        _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    )
    limit = settings.WEBHOOKS_TIMEOUT_SECONDS
    connection = connection_class(target, timeout=limit)
    outcome: list[Outcome] = []

    def exchange():
        try:
            connection.request(
                "POST",
                target.path,
                body=body.encode("utf-8"),
                headers={
                    **headers,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                },
            )
            response = connection.getresponse()
            outcome.append(Outcome(status=response.status, body=_text(response.read(_READ_LIMIT))))
        except (OSError, http.client.HTTPException, ValueError) as error:
            outcome.append(Outcome(error=f"{type(error).__name__}: {error}"[:500]))

    # The timeout bounds the whole exchange, not each read: a receiver trickling its
    # answer a byte at a time would otherwise hold the worker (and outlast the claim,
    # so the delivery would be sent twice). Past it, the socket is shut, which ends the
    # exchange in its thread at once.
    worker = threading.Thread(target=exchange, name="webhook-post", daemon=True)
    worker.start()
    worker.join(limit)
    try:
        if worker.is_alive():
            _shut(connection)
            worker.join(5)
            return Outcome(error=f"No whole answer within {limit} s: the attempt was cut off.")
        return outcome[0]
    finally:
        connection.close()


def _shut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the other side
            sock.shutdown(socket.SHUT_RDWR)


# -- dispatching an event ----------------------------------------------------------------


def endpoints_for(event: OutboxEvent) -> list[WebhookEndpoint]:
    """The active endpoints of the event's goal or agency that hear its type."""
    endpoints = WebhookEndpoint.objects.filter(
        Q(goal_id=event.goal_id) | Q(agency_id=event.agency_id), is_active=True
    ).order_by("pk")
    return [endpoint for endpoint in endpoints if event.event_type in (endpoint.events or [])]


def dispatch(event_id, *, enqueue: bool = True) -> list[int] | None:
    """Fan the event out into one delivery per endpoint that hears it and, unless told
    not to (the sweep attempts them itself), enqueue each once the fan-out commits.
    The ids of the deliveries made; None if the event was already dispatched."""
    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update()
            .filter(pk=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return None
        made = []
        for endpoint in endpoints_for(event):
            delivery, created = WebhookDelivery.objects.get_or_create(
                endpoint=endpoint, event=event
            )
            if created:
                made.append(delivery.pk)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
        if enqueue:
            transaction.on_commit(partial(_enqueue_deliveries, made))
    return made


def _enqueue_deliveries(ids: list[int]) -> None:
    from integrations import tasks

    for delivery_id in ids:
        tasks.enqueue_delivery(delivery_id)


# -- attempting a delivery ---------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(
        state=WebhookDelivery.State.PENDING,
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ) & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))


def claim(delivery_id: int) -> datetime | None:
    """Claim the delivery if it is due and nobody holds it: the claim's end, or None."""
    now = timezone.now()
    until = now + timedelta(seconds=settings.WEBHOOKS_CLAIM_SECONDS)
    with transaction.atomic():
        # PostgreSQL: a worker holding the row's lock is skipped, not waited for. SQLite
        # has no row locks; its writers queue, and the conditional UPDATE below decides.
        locked = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now), pk=delivery_id)
            .values_list("pk", flat=True)
        )
        if not list(locked):
            return None
        taken = (
            WebhookDelivery.objects.filter(pk=delivery_id)
            .filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
                state=WebhookDelivery.State.PENDING,
            )
            .update(claimed_until=until)
        )
    return until if taken == 1 else None


def attempt(delivery_id: int) -> Outcome | None:
    """Make the delivery's next attempt if it is due and unclaimed (None if not):
    claim it, send it, log what came back, and then mark it delivered, schedule the
    retry, or give it up."""
    claimed = claim(delivery_id)
    if claimed is None:
        return None
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "event").filter(pk=delivery_id).first()
    )
    if delivery is None:  # its endpoint was removed meanwhile
        return None
    endpoint, event = delivery.endpoint, delivery.event
    body = body_of(event)
    started = time.monotonic()
    headers = signed_headers(
        secret=endpoint.secret, event_id=str(event.pk), body=body, at=datetime.now(tz=UTC)
    )
    outcome = post(endpoint.url, body, headers)
    duration = int((time.monotonic() - started) * 1000)
    _record(delivery_id, claimed=claimed, outcome=outcome, duration_ms=duration)
    return outcome


@transaction.atomic
def _record(delivery_id: int, *, claimed: datetime, outcome: Outcome, duration_ms: int) -> None:
    delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was removed while the request was out
        return
    number = delivery.attempts + 1
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number,
        response_status=outcome.status,
        response_body=outcome.body,
        error=outcome.error,
        duration_ms=duration_ms,
    )
    if delivery.claimed_until != claimed or delivery.state != WebhookDelivery.State.PENDING:
        # The claim lapsed and another worker took the delivery over: it decides.
        return
    now = timezone.now()
    delivery.attempts = number
    delivery.claimed_until = None
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if outcome.succeeded:
        delivery.state = WebhookDelivery.State.SUCCEEDED
        delivery.delivered_at = now
        if endpoint.consecutive_failures:
            endpoint.consecutive_failures = 0
            endpoint.save(update_fields=["consecutive_failures"])
    elif number >= settings.WEBHOOKS_MAX_ATTEMPTS:
        delivery.state = WebhookDelivery.State.FAILED
        endpoint.consecutive_failures += 1
        endpoint.save(update_fields=["consecutive_failures"])
        if (
            endpoint.is_active
            and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES
        ):
            _disable(endpoint, now=now)
    else:
        delivery.next_attempt_at = now + retry_delay(number)
        transaction.on_commit(partial(_enqueue_retry, delivery.pk, delivery.next_attempt_at))
    delivery.save(
        update_fields=["attempts", "claimed_until", "state", "delivered_at", "next_attempt_at"]
    )


def _enqueue_retry(delivery_id: int, at: datetime) -> None:
    from integrations import tasks

    tasks.enqueue_delivery(delivery_id, at=at)


# -- persistent failure ------------------------------------------------------------------


def _disable(endpoint: WebhookEndpoint, *, now: datetime) -> None:
    """Switch the endpoint off after too many deliveries given up, and tell whoever
    registered it once the transaction commits."""
    endpoint.is_active = False
    endpoint.disabled_at = now
    # Stored in English (a fact for the log); the pages show their own sentence.
    with translation.override("en"):
        endpoint.disabled_reason = _("%(count)d deliveries in a row failed after every retry.") % {
            "count": endpoint.consecutive_failures
        }
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    transaction.on_commit(partial(_tell_registrant, endpoint.pk))


def endpoint_page_path(endpoint: WebhookEndpoint) -> str:
    """The endpoint's page (its settings and delivery log)."""
    if endpoint.goal_id is not None:
        return reverse("goal_webhook", kwargs={"slug": endpoint.goal.slug, "pk": endpoint.pk})
    return reverse("agency_webhook", kwargs={"pk": endpoint.agency_id, "endpoint": endpoint.pk})


def _tell_registrant(endpoint_id: int) -> None:
    from milestones.management.commands.send_update_reminders import email_language

    endpoint = (
        WebhookEndpoint.objects.select_related("created_by", "goal", "agency")
        .filter(pk=endpoint_id)
        .first()
    )
    user = endpoint.created_by if endpoint is not None else None
    if user is None or not user.is_active or not user.email:
        return
    owner = endpoint.goal.title if endpoint.goal_id else endpoint.agency.name
    with translation.override(email_language(user)):
        subject = _("[SDIF Tracker] Webhook disabled: %(url)s") % {"url": endpoint.url}
        body = "\n".join(
            [
                _("Hello %(name)s,") % {"name": user.get_full_name() or user.get_username()},
                "",
                _(
                    "The webhook you registered for %(owner)s, %(url)s, has been disabled: "
                    "%(count)d deliveries in a row failed after every retry."
                )
                % {
                    "owner": owner,
                    "url": endpoint.url,
                    "count": endpoint.consecutive_failures,
                },
                "",
                _(
                    "Nothing more is sent to it until it is enabled again. Its delivery log "
                    "shows what the receiver answered: %(link)s"
                )
                % {"link": f"{settings.SITE_URL}{endpoint_page_path(endpoint)}"},
                "",
                _("— SDIF Tracker"),
            ]
        )
    try:
        send_mail(subject, body + "\n", settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError:
        logger.exception("Could not email %s that webhook %s was disabled", user, endpoint.pk)


# -- the sweep ---------------------------------------------------------------------------


@dataclass
class SweepResult:
    dispatched: int = 0
    attempted: int = 0
    delivered: int = 0


def sweep(*, limit: int = 500) -> SweepResult:
    """Dispatch every event not yet dispatched (its enqueue lost, or the worker gone),
    then attempt, here and now, every delivery that is due and unclaimed — a retry
    whose time has come, or one whose worker died holding it."""
    result = SweepResult()
    waiting = OutboxEvent.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True)
    for event_id in list(waiting[:limit]):
        if dispatch(event_id, enqueue=False) is not None:
            result.dispatched += 1
    due = (
        WebhookDelivery.objects.filter(_due(timezone.now()))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in list(due):
        outcome = attempt(delivery_id)
        if outcome is not None:
            result.attempted += 1
            result.delivered += outcome.succeeded
    return result
