"""Webhooks as a receiver sees them: each change announced once, signed; retried after a
failure; never for a change that rolled back; an endpoint that keeps failing disabled
with a notice and an email; private and plain-http targets refused."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from integrations import delivery, outbox, targets
from integrations.models import (
    EventType,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from milestones import lifecycle
from milestones.models import ProgressSummary, Risk, Status
from milestones.review import Actor, return_update, submit_update
from milestones.services import publish_quarter, record_status_update, save_progress_summary
from sdif_tracker.access import permissions_for
from strategies.periods import FiscalPeriod
from tests.factories import GoalFactory, MilestoneFactory, UserFactory
from tests.helpers import chain_user, clear_quarter_for_publishing
from tests.integrations import webhook_receiver

Q3_FY19 = FiscalPeriod(2019, 3)
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def receiver():
    receiver, server = webhook_receiver.start()
    yield receiver
    receiver.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks(settings):
    """Tasks run at once; loopback http targets allowed (the receiver); a tiny retry."""
    settings.TASKS = IMMEDIATE
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_MAX_ATTEMPTS = 8
    settings.WEBHOOKS_TIMEOUT_SECONDS = 5
    settings.SITE_URL = "https://tracker.example.gov"
    return settings


@pytest.fixture
def world(db):
    goal = GoalFactory(slug="hooked")
    admin = UserFactory(username="hook-admin", is_staff=True, email="hook-admin@example.gov")
    return {"goal": goal, "milestone": MilestoneFactory(goal=goal), "admin": admin}


def _endpoint(world, url, events=None, **extra):
    return WebhookEndpoint.objects.create(
        goal=world["goal"],
        url=url,
        events=events or EventType.values,
        created_by=world["admin"],
        **extra,
    )


def _report(milestone, user, status=Status.AT_RISK, comment="Counterparts replaced."):
    milestone.refresh_from_db()
    return record_status_update(
        milestone=milestone,
        user=user,
        status=status,
        comment=comment,
        period=Q3_FY19,
        expected_version=milestone.version,
    )


def _verified(endpoint, received):
    """The payload of a received request, once its signature checks out."""
    return Webhook(endpoint.secret).verify(received.body, received.headers)


def _age_retries():
    """Time passes: every scheduled retry is due now."""
    WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).update(
        next_attempt_at=timezone.now()
    )


SITE = "https://tracker.example.gov"


class TestDelivered:
    def test_every_status_update_arrives_once_signed(
        self, hooks, world, receiver, django_capture_on_commit_callbacks, client
    ):
        endpoint = _endpoint(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            first = _report(world["milestone"], world["admin"], Status.AT_RISK)
        with django_capture_on_commit_callbacks(execute=True):
            second = _report(world["milestone"], world["admin"], Status.ON_TRACK, "Back on.")

        received = receiver.wait_for(2)
        payloads = [_verified(endpoint, request) for request in received]
        assert [p["type"] for p in payloads] == [EventType.MILESTONE_STATUS_CHANGED] * 2
        first_data = payloads[0]["data"]
        assert first_data["milestone"]["status_update_id"] == first.pk
        assert first_data["milestone"]["status"] == "at_risk"
        assert first_data["milestone"]["comment"] == "Counterparts replaced."
        assert first_data["milestone"]["quarter"] == "Q3 FY19"
        assert first_data["goal"]["slug"] == "hooked"
        assert first_data["goal"]["api_url"] == "https://tracker.example.gov/api/v1/goals/hooked/"
        # The payload's API links lead to the objects it names.
        client.force_login(world["admin"])
        milestone_api = first_data["milestone"]["api_url"].removeprefix(SITE)
        assert client.get(milestone_api).json()["id"] == world["milestone"].pk
        assert client.get(first_data["goal"]["api_url"].removeprefix(SITE)).status_code == 200
        assert first_data["actor"]["username"] == "hook-admin"
        assert payloads[1]["data"]["milestone"]["previous_status"] == "at_risk"
        assert payloads[1]["data"]["milestone"]["status_update_id"] == second.pk
        # One request each, each with its event's id.
        ids = [request.headers["webhook-id"] for request in received]
        assert len(set(ids)) == 2 and set(ids) == {p["id"] for p in payloads}
        assert len(receiver.requests) == 2
        # Nothing left to send: a sweep sends nothing more.
        assert delivery.sweep().attempted == 0
        assert len(receiver.requests) == 2
        assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}

    def test_a_signature_made_with_another_secret_does_not_verify(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        _endpoint(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        (received,) = receiver.wait_for(1)
        other = WebhookEndpoint(secret=WebhookEndpoint().secret)
        with pytest.raises(WebhookVerificationError):
            _verified(other, received)

    def test_only_the_events_an_endpoint_chose_are_sent_to_it(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        _endpoint(world, receiver.url, events=[EventType.GOAL_CLOSED])
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        assert OutboxEvent.objects.count() == 0
        assert receiver.requests == []

    def test_an_agency_endpoint_hears_its_goals(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        endpoint = WebhookEndpoint.objects.create(
            agency=world["goal"].agency, url=receiver.url, events=EventType.values
        )
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        (received,) = receiver.wait_for(1)
        assert _verified(endpoint, received)["data"]["agency"]["id"] == world["goal"].agency_id

    def test_the_update_chain_publishing_and_closing_are_announced(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        goal, admin = world["goal"], world["admin"]
        endpoint = _endpoint(
            world,
            receiver.url,
            events=[t for t in EventType.values if t != EventType.MILESTONE_STATUS_CHANGED],
        )
        with django_capture_on_commit_callbacks(execute=True):
            summary = save_progress_summary(
                goal=goal, user=admin, period=Q3_FY19, summary="- Done", details={"risk": Risk.LOW}
            )
            summary = submit_update(
                summary=summary,
                user=admin,
                permissions=permissions_for(admin, goal),
                expected_version=summary.version,
            )
            office = chain_user(goal, Actor.PERFORMANCE_OFFICE)
            summary = ProgressSummary.objects.get(pk=summary.pk)
            return_update(
                summary=summary,
                user=office,
                permissions=permissions_for(office, goal),
                comment="Say what slipped.",
                expected_version=summary.version,
            )
            clear_quarter_for_publishing(goal, Q3_FY19)
            publish_quarter(goal=goal, user=admin, period=Q3_FY19)
            goal.refresh_from_db()
            lifecycle.close_goal(
                goal=goal, user=admin, reason="Done.", expected_version=goal.version
            )

        payloads = [_verified(endpoint, r) for r in receiver.wait_for(5)]
        types = [p["type"] for p in payloads]
        assert types[:2] == [EventType.UPDATE_SUBMITTED, EventType.UPDATE_RETURNED]
        assert EventType.UPDATE_CLEARED in types
        assert types[-2:] == [EventType.UPDATE_PUBLISHED, EventType.GOAL_CLOSED]
        assert payloads[1]["data"]["update"]["comment"] == "Say what slipped."
        assert payloads[1]["data"]["update"]["state"] == "draft"
        assert payloads[-2]["data"]["update"]["state"] == "published"
        assert payloads[-1]["data"]["reason"] == "Done."


class TestNeverForARollback:
    def test_a_change_rolled_back_writes_no_event_and_sends_nothing(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        _endpoint(world, receiver.url)
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            _report(world["milestone"], world["admin"])
            assert OutboxEvent.objects.count() == 1  # written in the change's transaction
            raise RuntimeError("the change fails after the status update")
        assert OutboxEvent.objects.count() == 0
        assert callbacks == []
        assert delivery.sweep().attempted == 0
        assert receiver.requests == []

    def test_a_refused_status_update_is_not_announced(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        _endpoint(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            _report(world["milestone"], world["admin"], Status.DELAYED, "")
        assert OutboxEvent.objects.count() == 0
        assert receiver.requests == []


class TestRetries:
    def test_a_failing_receiver_is_retried_with_backoff_until_it_succeeds(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        receiver.statuses = [500, 503]
        endpoint = _endpoint(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        receiver.wait_for(1)
        pending = WebhookDelivery.objects.get()
        assert pending.state == "pending" and pending.attempts == 1
        # Not before its time: 30 s, then 60 s.
        first_wait = pending.next_attempt_at - pending.attempt_log.get().at
        assert timedelta(seconds=29) < first_wait < timedelta(seconds=31)
        assert delivery.sweep().attempted == 0

        _age_retries()
        assert delivery.sweep().attempted == 1
        second = WebhookDelivery.objects.get()
        second_wait = second.next_attempt_at - second.attempt_log.last().at
        assert timedelta(seconds=59) < second_wait < timedelta(seconds=61)
        _age_retries()
        assert delivery.sweep().delivered == 1

        received = receiver.wait_for(3)
        assert len({r.headers["webhook-id"] for r in received}) == 1  # the same event
        assert all(_verified(endpoint, r) for r in received)
        done = WebhookDelivery.objects.get()
        assert done.state == "succeeded" and done.attempts == 3
        log = list(done.attempt_log.values_list("number", "response_status", "response_body"))
        assert log == [
            (1, 500, "receiver says no"),
            (2, 503, "receiver says no"),
            (3, 200, "ok"),
        ]

    def test_no_answer_is_logged_as_an_error_and_retried(
        self, hooks, world, django_capture_on_commit_callbacks
    ):
        # Nothing listens on this port (the receiver's range is 8670-8689).
        _endpoint(world, "http://127.0.0.1:8689/nobody")
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        assert attempt.response_status is None
        assert "refused" in attempt.error.lower()

    def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(
        self, hooks, world, settings, django_capture_on_commit_callbacks
    ):
        """The timeout bounds the whole exchange: a receiver sending a byte every 0.3 s
        (each read well inside a 1 s socket timeout) is cut off after 1 s in all."""
        settings.WEBHOOKS_TIMEOUT_SECONDS = 1
        listener = socket.create_server(("127.0.0.1", 0))
        stop = threading.Event()

        def trickle():
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                    if stop.wait(0.3):
                        return
                    with contextlib.suppress(OSError):
                        conn.sendall(bytes([byte]))

        server = threading.Thread(target=trickle, daemon=True)
        server.start()
        _endpoint(world, f"http://127.0.0.1:{listener.getsockname()[1]}/slow")
        started = time.monotonic()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                _report(world["milestone"], world["admin"])
        finally:
            stop.set()
            listener.close()
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        assert attempt.response_status is None
        assert "within 1 s" in attempt.error
        assert time.monotonic() - started < 5  # not the 13 s the whole answer would take
        assert WebhookDelivery.objects.get().state == WebhookDelivery.State.PENDING  # retried

    def test_a_redirect_is_not_followed(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        receiver.statuses = [302]
        _endpoint(world, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        receiver.wait_for(1)
        pending = WebhookDelivery.objects.get()
        assert pending.state == "pending"
        assert pending.attempt_log.get().response_status == 302


class TestPersistentFailure:
    def test_an_endpoint_failing_delivery_after_delivery_is_disabled_and_its_owner_told(
        self, hooks, world, receiver, client, mailoutbox, django_capture_on_commit_callbacks
    ):
        hooks.WEBHOOKS_MAX_ATTEMPTS = 2
        hooks.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
        receiver.statuses = [500] * 10
        endpoint = _endpoint(world, receiver.url)
        for status in (Status.AT_RISK, Status.ON_TRACK):
            with django_capture_on_commit_callbacks(execute=True):
                _report(world["milestone"], world["admin"], status, "Changed.")
        _age_retries()
        with django_capture_on_commit_callbacks(execute=True):
            delivery.sweep()

        endpoint.refresh_from_db()
        assert not endpoint.is_active and endpoint.disabled_at is not None
        assert len(receiver.requests) == 4
        assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
        (mail,) = mailoutbox
        assert mail.to == ["hook-admin@example.gov"]
        assert "disabled" in mail.subject and receiver.url in mail.body

        # Nothing more is sent to it.
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"], Status.AT_RISK, "Again.")
        assert len(receiver.requests) == 4

        client.force_login(world["admin"])
        page = client.get(f"/goals/{world['goal'].slug}/webhooks/")
        assert f'data-disabled-notice="{endpoint.pk}"'.encode() in page.content
        assert b"is disabled: nothing is sent to it" in page.content

        # Enabled again with its button: its failure count starts afresh.
        answer = client.post(
            f"/goals/{world['goal'].slug}/webhooks/{endpoint.pk}/", {"action": "enable"}
        )
        assert answer.status_code == 302
        endpoint.refresh_from_db()
        assert endpoint.is_active and endpoint.consecutive_failures == 0
        assert (
            b"data-disabled-notice"
            not in client.get(f"/goals/{world['goal'].slug}/webhooks/").content
        )

    def test_a_success_resets_the_count_of_failures(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        hooks.WEBHOOKS_MAX_ATTEMPTS = 1
        hooks.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
        receiver.statuses = [500, 200, 500]
        endpoint = _endpoint(world, receiver.url)
        for status in (Status.AT_RISK, Status.ON_TRACK, Status.AT_RISK):
            with django_capture_on_commit_callbacks(execute=True):
                _report(world["milestone"], world["admin"], status, "Changed.")
        endpoint.refresh_from_db()
        assert endpoint.is_active and endpoint.consecutive_failures == 1


class TestTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "https://127.0.0.1/hook",
            "https://localhost/hook",
            "https://10.1.2.3/",
            "https://192.168.0.10/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            # 6to4 addresses carrying the metadata service's and a loopback address.
            "https://[2002:a9fe:a9fe::1]/",
            "https://[2002:7f00:1::1]/",
            "https://224.0.0.1/",
            "https://0.0.0.0/",
            "https://100.64.0.1/",
        ],
    )
    def test_private_loopback_link_local_and_reserved_targets_are_refused(self, settings, url):
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        with pytest.raises(ValidationError) as refused:
            targets.check(url)
        assert refused.value.code == "private_address"

    def test_http_is_refused_unless_allowed(self, settings):
        settings.WEBHOOKS_ALLOW_HTTP = False
        with pytest.raises(ValidationError) as refused:
            targets.parse("http://hooks.example.com/")
        assert refused.value.code == "https_required"
        settings.WEBHOOKS_ALLOW_HTTP = True
        assert targets.parse("http://hooks.example.com/x?y=1") == (
            "http",
            "hooks.example.com",
            80,
            "/x?y=1",
        )

    def test_the_production_settings_refuse_http(self, monkeypatch):
        from tests.helpers import load_settings

        production = load_settings(monkeypatch, DEBUG="0", SECRET_KEY="x" * 50)
        assert production["WEBHOOKS_ALLOW_HTTP"] is False
        assert production["WEBHOOKS_ALLOW_PRIVATE_TARGETS"] is False
        development = load_settings(monkeypatch, DEBUG="1")
        assert development["WEBHOOKS_ALLOW_HTTP"] is True

    @pytest.mark.parametrize(
        "url",
        [
            "",
            "hooks.example.com",
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com:99999/",
            "https://exa mple.com/",
            "https:///x",
        ],
    )
    def test_malformed_urls_are_refused_with_a_reason(self, settings, url):
        with pytest.raises(ValidationError) as refused:
            targets.parse(url)
        assert refused.value.messages[0]

    def test_a_delivery_to_a_target_turned_private_is_refused_not_sent(
        self, hooks, world, receiver, django_capture_on_commit_callbacks
    ):
        # Registered while allowed; refused at delivery once not (as a name whose
        # address changed to a private one would be).
        _endpoint(world, receiver.url)
        hooks.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        with django_capture_on_commit_callbacks(execute=True):
            _report(world["milestone"], world["admin"])
        assert receiver.requests == []
        attempt = WebhookDelivery.objects.get().attempt_log.get()
        assert attempt.response_status is None and "private" in attempt.error


def test_the_payload_is_sent_as_stored(hooks, world, receiver, django_capture_on_commit_callbacks):
    endpoint = _endpoint(world, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _report(world["milestone"], world["admin"])
    (received,) = receiver.wait_for(1)
    event = OutboxEvent.objects.get()
    assert json.loads(received.body) == event.payload
    assert received.headers["webhook-id"] == str(event.pk)
    assert received.headers["Content-Type"] == "application/json"
    assert _verified(endpoint, received)["id"] == str(event.pk)


def _documented_verify(secret: str, headers: dict, body: bytes) -> bool:
    """The raw HMAC recipe of docs/webhooks.md, as written there."""
    import base64
    import hashlib
    import hmac
    import time

    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        return False
    signed = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, part.split(",", 1)[1])
        for part in headers["webhook-signature"].split()
        if part.startswith("v1,")
    )


def test_the_documented_hmac_recipe_verifies_a_request_and_refuses_a_tampered_one(
    hooks, world, receiver, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(world, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _report(world["milestone"], world["admin"])
    (received,) = receiver.wait_for(1)
    headers = {key.lower(): value for key, value in received.headers.items()}
    assert _documented_verify(endpoint.secret, headers, received.body)
    assert not _documented_verify(endpoint.secret, headers, received.body + b" ")


def test_an_event_whose_dispatch_was_lost_is_sent_by_the_sweep(
    hooks, world, receiver, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    endpoint = _endpoint(world, receiver.url)
    # The change commits but its dispatch is never enqueued (the callbacks are dropped).
    with django_capture_on_commit_callbacks(execute=False):
        _report(world["milestone"], world["admin"])
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None and receiver.requests == []

    call_command("deliver_webhooks", verbosity=0)
    (received,) = receiver.wait_for(1)
    assert _verified(endpoint, received)["id"] == str(event.pk)
    call_command("deliver_webhooks", verbosity=0)
    assert len(receiver.requests) == 1


def test_a_delivery_whose_endpoint_was_removed_is_dropped_quietly(hooks, world):
    endpoint = _endpoint(world, "http://127.0.0.1:8689/nobody")
    event = OutboxEvent.objects.create(
        event_type=EventType.GOAL_CLOSED, goal=world["goal"], payload={}
    )
    pending = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
    endpoint.delete()
    assert delivery.attempt(pending.pk) is None


class TestCost:
    def test_a_status_update_nobody_listens_to_costs_one_query_and_writes_nothing(
        self, hooks, world, django_assert_num_queries
    ):
        # An endpoint of another goal, and one of this goal that hears other events.
        WebhookEndpoint.objects.create(
            goal=GoalFactory(), url="https://a.example/", events=EventType.values
        )
        _endpoint(world, "https://b.example/", events=[EventType.GOAL_CLOSED])
        update = _report(world["milestone"], world["admin"])
        row = update.history.get()

        with django_assert_num_queries(1):
            assert outbox.record(update, row) is None
        assert not OutboxEvent.objects.exists()
