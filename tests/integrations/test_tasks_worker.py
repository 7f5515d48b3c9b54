"""The task worker (django-tasks' database backend, ``manage.py db_worker``): what the app
hands over once a transaction commits is done by a worker process of its own, against the
same database: the update reminders' emails, a failed send tried again later, a published
quarter's PDF rendered and stored before anyone downloads it; and ``make serve`` (the end
of ``make run``) starts a worker beside the server and stops both on Ctrl-C.

The suite runs tasks in-process (``TASKS_BACKEND=immediate``, tests/_environment.py);
these tests switch to the database backend, commit for real (``transaction=True``) and
start real worker subprocesses on the test database (a SQLite file, or PostgreSQL)."""

from __future__ import annotations

import datetime
import io
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from milestones import tasks as email_tasks
from milestones.models import ProgressSummary, ReminderLog, Risk
from sdif_tracker import exports, plan_pdf
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
)
from tests.helpers import clear_for_publishing
from tests.html_dom import parse

BASE_DIR = Path(__file__).resolve().parents[2]
Q2_FY19, Q3_FY19 = FiscalPeriod(2019, 2), FiscalPeriod(2019, 3)
SEND_EMAIL = "milestones.tasks.send_email"


@pytest.fixture
def database_backend(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


def database_url() -> str:
    """The test database, as a subprocess's DATABASE_URL."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        # Static files from the source folders, as the suite has them (no collectstatic).
        DEBUG="1",
        DATABASE_URL=database_url(),
        TASKS_BACKEND="database",
        MEDIA_ROOT=str(django_settings.MEDIA_ROOT),
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_worker(**env: str) -> str:
    """One worker that runs every task ready now, then exits; its output."""
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"]
        + ["--no-startup-delay", "--interval", "0"],
        cwd=BASE_DIR,
        env=worker_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def statuses(task_path: str) -> list[str]:
    return list(
        DBTaskResult.objects.filter(task_path=task_path)
        .order_by("enqueued_at")
        .values_list("status", flat=True)
    )


# -- update reminders ------------------------------------------------------------------


@pytest.fixture
def data_call(monkeypatch):
    """21 July 2019: a goal reporting on Q3 FY19 (ended) with a milestone to update,
    and its leader."""
    moment = datetime.datetime(2019, 7, 21, 9, tzinfo=timezone.get_default_timezone())
    monkeypatch.setattr(timezone, "now", lambda: moment)
    goal = GoalFactory(short_name="SDIF", title="Illicit finance", reporting_quarter_set=None)
    ProgressSummaryFactory(goal=goal, period=Q2_FY19, risk=Risk.LOW, published_at=moment)
    leader = MembershipFactory(goal=goal, role=Role.LEADER, user__username="leader").user
    MilestoneFactory(goal=goal, title="Stale one", due=FiscalPeriod(2019, 4))
    return leader


def remind() -> str:
    out = io.StringIO()
    call_command("send_update_reminders", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_sends_the_reminders_the_command_queued(
    database_backend, data_call, mailoutbox
):
    output = remind()

    # The command only queued the email: nothing was sent in its process.
    assert "Sent 1 reminder(s) for Q3 FY19" in output
    assert mailoutbox == []
    assert statuses(SEND_EMAIL) == [TaskResultStatus.READY]
    assert ReminderLog.objects.filter(user=data_call, period=Q3_FY19).exists()

    sent = run_worker()

    assert "To: leader@example.gov" in sent
    assert "Subject: [SDIF Tracker] 1 key milestone to update for Q3 FY19" in sent
    assert "Stale one [not updated in Q3 FY19]" in sent
    assert statuses(SEND_EMAIL) == [TaskResultStatus.SUCCESSFUL]
    # Nothing is left for another worker, nor queued again by the next run.
    assert "already reminded" in remind() and statuses(SEND_EMAIL) == ["SUCCESSFUL"]


@pytest.mark.django_db(transaction=True)
def test_a_run_that_rolls_back_queues_no_email(database_backend, data_call):
    with pytest.raises(RuntimeError), transaction.atomic():
        remind()
        raise RuntimeError("cron killed the run before it committed")

    assert not DBTaskResult.objects.exists()
    assert not ReminderLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_send_the_mail_server_refuses_is_tried_again_later_by_the_worker(
    database_backend, data_call
):
    remind()
    with socket_that_refuses() as port:
        log = run_worker(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(port),
        )

    first, retry = DBTaskResult.objects.filter(task_path=SEND_EMAIL).order_by("enqueued_at")
    assert first.status == TaskResultStatus.FAILED
    assert "ConnectionRefusedError" in first.traceback
    assert "trying again after" in log
    # The next attempt waits (the batch worker left it), and knows which attempt it is.
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.args_kwargs["kwargs"]["to"] == ["leader@example.gov"]
    wait = retry.run_after - datetime.datetime.now(tz=datetime.UTC)
    assert datetime.timedelta(seconds=30) < wait <= email_tasks.RETRY_DELAYS[0]


class socket_that_refuses:
    """A loopback port nothing listens on: connecting is refused at once."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))  # bound, never listening
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


@pytest.mark.django_db
def test_the_last_attempt_gives_up_and_queues_nothing_more(database_backend, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    with socket_that_refuses() as port:
        settings.EMAIL_PORT = port
        with pytest.raises(ConnectionRefusedError):
            email_tasks.send_email.call(
                subject="s", body="b", to=["a@example.gov"], attempt=email_tasks.EMAIL_ATTEMPTS
            )
        assert not DBTaskResult.objects.exists()
        with pytest.raises(ConnectionRefusedError):
            email_tasks.send_email.call(subject="s", body="b", to=["a@example.gov"])
    (retry,) = DBTaskResult.objects.all()
    assert retry.args_kwargs["kwargs"]["attempt"] == 2


# -- a published quarter's PDF ---------------------------------------------------------


@pytest.fixture
def renders(monkeypatch):
    calls = []
    real = exports.html_to_pdf

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "html_to_pdf", counting)
    return calls


@pytest.fixture
def ready_to_publish():
    goal = GoalFactory(
        title="Safer Borders", short_name="SB", sensitivity=Sensitivity.PUBLIC,
        reporting_quarter_set=Q3_FY19,
    )  # fmt: skip
    strategy = StrategyFactory(goal=goal, number=1)
    MilestoneFactory(goal=goal, strategy=strategy, title="Deliver the pilot")
    leader = MembershipFactory(goal=goal, role=Role.LEADER).user
    summary = ProgressSummaryFactory(goal=goal, period=Q3_FY19, risk=Risk.LOW, summary="- Done.")
    clear_for_publishing(summary)
    return goal, leader


def publish_through_the_page(client, goal, leader):
    client.force_login(leader)
    url = reverse("publish_quarter", kwargs={"slug": goal.slug})
    opened = client.get(url, {"period": "Q3 FY19"})
    form = parse(opened.content).find("form", data_publish_confirm=True)
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input")}
    response = client.post(url, fields)
    assert response.status_code == 302, response.status_code
    return ProgressSummary.objects.published().get(goal=goal, period=Q3_FY19)


@pytest.mark.django_db(transaction=True)
def test_publishing_has_the_worker_store_the_pdf_that_downloads_then_serve(
    database_backend, ready_to_publish, client, renders
):
    goal, leader = ready_to_publish
    summary = publish_through_the_page(client, goal, leader)
    assert statuses("sdif_tracker.tasks.store_published_pdfs") == [TaskResultStatus.READY]
    assert renders == []  # the publisher did not wait for it

    run_worker()

    (stored,) = DBTaskResult.objects.filter(task_path="sdif_tracker.tasks.store_published_pdfs")
    assert stored.status == TaskResultStatus.SUCCESSFUL, stored.traceback
    plan_pdf.layout_fingerprint.cache_clear()
    names = {lang: plan_pdf.stored_name(summary, language=lang) for lang in ("en", "es")}
    assert all(default_storage.exists(name) for name in names.values())
    client.logout()
    url = reverse("goal_plan_pdf", kwargs={"slug": goal.slug}) + "?quarter=Q3+FY19"
    english, spanish = client.get(url), client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert renders == []  # served from the stored files, rendered by the worker
    assert english.status_code == spanish.status_code == 200
    with default_storage.open(names["en"]) as file:
        assert english.content == file.read()
    with default_storage.open(names["es"]) as file:
        assert spanish.content == file.read() != english.content


@pytest.mark.django_db
def test_until_the_pdf_is_stored_whole_the_download_renders_it(ready_to_publish, client, renders):
    goal, leader = ready_to_publish
    summary = publish_through_the_page(client, goal, leader)
    name = plan_pdf.stored_name(summary, language="en")
    # Another process is still writing it: only its start is there.
    default_storage.save(name, ContentFile(b"%PDF-1.7\n1 0 obj"))
    url = reverse("goal_plan_pdf", kwargs={"slug": goal.slug}) + "?quarter=Q3+FY19"

    response = client.get(url)

    assert response.status_code == 200 and len(renders) == 1
    assert response.content.rstrip().endswith(b"%%EOF")
    # The part (its writer died) was replaced: the next reader gets the stored file.
    assert client.get(url).content == response.content and len(renders) == 1


@pytest.mark.django_db
def test_a_storage_that_refuses_the_file_still_gives_the_reader_the_pdf(
    ready_to_publish, client, renders, monkeypatch
):
    goal, leader = ready_to_publish
    publish_through_the_page(client, goal, leader)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only volume")

    monkeypatch.setattr(FileSystemStorage, "save", refuse)
    url = reverse("goal_plan_pdf", kwargs={"slug": goal.slug}) + "?quarter=Q3+FY19"

    response = client.get(url)

    assert response.status_code == 200 and len(renders) == 1
    assert response.content.startswith(b"%PDF-")


# -- make serve ------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.mark.django_db(transaction=True)
def test_make_serve_starts_the_server_and_a_worker_and_ctrl_c_stops_both(database_backend):
    queued = email_tasks.send_email.enqueue(
        subject="From the worker", body="Sent beside the server.", to=["lee@example.gov"]
    )
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - make, fixed arguments
        ["make", "--no-print-directory", "-s", "serve", f"PORT={port}"],  # noqa: S607
        cwd=BASE_DIR,
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        deadline = time.monotonic() + 120  # a loaded CI machine starts Django slowly
        served = worked = False
        while time.monotonic() < deadline and not (served and worked):
            served = served or answers(f"http://127.0.0.1:{port}/healthz")
            queued.refresh()
            worked = queued.status == TaskResultStatus.SUCCESSFUL
            time.sleep(0.2)
        assert served, "the server never answered"
        assert worked, "no worker ran the queued task"

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert b"Sent beside the server." in output
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and group_alive(process.pid):
        time.sleep(0.1)
    assert not group_alive(process.pid), "a process of make serve outlived Ctrl-C"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# -- /healthz --------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_tasks_no_worker_took_for_minutes(database_backend, client):
    def health():
        response = client.get(reverse("healthz"))
        assert response.status_code == 200  # a backlog does not take the instance out
        data = response.json()
        return data["tasks"], data["tasks_waiting"]

    assert health() == ("ok", 0)
    mail = {"subject": "s", "body": "b", "to": ["a@example.gov"]}
    email_tasks.send_email.enqueue(**mail)
    later = timezone.now() + datetime.timedelta(hours=1)
    email_tasks.send_email.using(run_after=later).enqueue(**mail)
    assert health() == ("ok", 0)  # just queued, and one not due yet

    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(minutes=6))

    assert health() == ("backlog", 1)
