"""A real worker (``manage.py db_worker``, the database task backend) delivers a webhook;
one killed mid-request loses nothing: its claim lapses and the sweep sends the event
again, with the same id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from integrations.models import EventType, WebhookDelivery, WebhookEndpoint
from milestones.models import Status
from milestones.services import record_status_update
from strategies.periods import FiscalPeriod
from tests.factories import GoalFactory, MilestoneFactory, UserFactory
from tests.integrations import webhook_receiver

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _database_url() -> str:
    """The test database, for a subprocess: the SQLite file, or the PostgreSQL one."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


def _worker_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DATABASE_APP_ROLE"}}
    env.update(
        DATABASE_URL=_database_url(),
        TASKS_BACKEND="database",
        WEBHOOKS_ALLOW_HTTP="1",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="1",
        WEBHOOKS_TIMEOUT_SECONDS="1",
        WEBHOOKS_CLAIM_SECONDS="2",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _start_worker(log_path: Path, **env) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
            + ["--interval", "0.1", "--verbosity", "0"],
            cwd=BASE_DIR,
            env=_worker_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def receiver():
    receiver, server = webhook_receiver.start()
    yield receiver
    receiver.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(settings):
    settings.TASKS = DATABASE_TASKS
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    settings.WEBHOOKS_CLAIM_SECONDS = 2
    goal = GoalFactory(slug="worked")
    return {
        "goal": goal,
        "milestone": MilestoneFactory(goal=goal),
        "user": UserFactory(username="worker-test", is_staff=True),
    }


def _report(world):
    milestone = world["milestone"]
    milestone.refresh_from_db()
    return record_status_update(
        milestone=milestone,
        user=world["user"],
        status=Status.AT_RISK,
        comment="Counterparts replaced.",
        period=FiscalPeriod(2019, 3),
        expected_version=milestone.version,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(world, receiver, tmp_path):
    endpoint = WebhookEndpoint.objects.create(
        goal=world["goal"], url=receiver.url, events=[EventType.MILESTONE_STATUS_CHANGED]
    )
    receiver.hold_first = True
    _report(world)  # committed: its dispatch task is in the database queue

    log = tmp_path / "worker.log"
    worker = _start_worker(log)
    try:
        assert receiver.arrived.wait(30), log.read_text()
        # The worker is inside the request, holding the delivery: killed there.
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        _stop(worker)
        receiver.released.set()

    held = WebhookDelivery.objects.get()
    assert held.state == "pending" and held.attempts == 0
    assert held.claimed_until is not None and held.attempt_log.count() == 0
    # While the dead worker's claim lasts, nobody else sends it.
    call_command("deliver_webhooks", verbosity=0)
    assert len(receiver.requests) == 1

    while timezone.now() <= held.claimed_until:
        time.sleep(0.1)
    call_command("deliver_webhooks", verbosity=0)

    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    payload = Webhook(endpoint.secret).verify(second.body, second.headers)
    assert payload["type"] == EventType.MILESTONE_STATUS_CHANGED
    delivered = WebhookDelivery.objects.get()
    assert delivered.state == "succeeded" and delivered.attempts == 1
    assert list(delivered.attempt_log.values_list("response_status", flat=True)) == [200]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_and_retries_on_its_own(world, receiver, tmp_path, settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0
    receiver.statuses = [500]
    endpoint = WebhookEndpoint.objects.create(
        goal=world["goal"], url=receiver.url, events=EventType.values
    )
    _report(world)
    log = tmp_path / "worker.log"
    worker = _start_worker(log, WEBHOOKS_RETRY_BASE_SECONDS="0")
    try:
        first, second = receiver.wait_for(2, timeout=30)
        deadline = time.monotonic() + 20
        while WebhookDelivery.objects.get().state != "succeeded":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        _stop(worker)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    Webhook(endpoint.secret).verify(second.body, second.headers)
    statuses = WebhookDelivery.objects.get().attempt_log.values_list("response_status", flat=True)
    assert list(statuses) == [500, 200]
