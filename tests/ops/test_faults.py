"""Faults: the database goes away, a worker dies, two SQLite writers.

(a) and (b) run gunicorn (production settings) against a throwaway PostgreSQL cluster
that the test starts on a free loopback port (never the machine's shared server, which
other tests use) and stops itself; without PostgreSQL's binaries they are skipped,
except under CI=true, where they fail. (c) runs on the suite's own database (the SQLite
file by default, PostgreSQL with DATABASE_URL). No test asserts a duration.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from loadtest.run import (
    Browser,
    Driver,
    Server,
    create_database,
    drop_database,
    free_port,
    prepare,
    production_env,
    verify,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _unavailable(message: str):
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


class Cluster:
    """A throwaway PostgreSQL cluster: initdb as the postgres user, pg_ctl start/stop."""

    def __init__(self, root: Path):
        self.dir = root / "data"
        self.port = free_port()
        self.log = root / "postgres.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(root, "postgres")

    def run(self, *argv: str) -> None:
        subprocess.run([*self.as_postgres, *argv], check=True, capture_output=True, timeout=60)  # noqa: S603

    def init(self) -> None:
        self.run(str(PG_BIN / "initdb"), "-D", str(self.dir), "--auth=trust", "-U", "postgres")

    def start(self) -> None:
        options = f"-p {self.port} -F -c listen_addresses=127.0.0.1 -c unix_socket_directories="
        self.run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.dir),
            "-o",
            options,
            "-l",
            str(self.log),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop")

    @property
    def admin_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture(scope="module")
def cluster():
    if not (PG_BIN / "initdb").exists():
        _unavailable(f"PostgreSQL's initdb/pg_ctl are not in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="sdif-faults-"))
    cluster = Cluster(root)
    try:
        cluster.init()
        cluster.start()
    except (subprocess.CalledProcessError, OSError, LookupError) as error:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"a throwaway PostgreSQL cluster cannot start here: {error}")
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by a failed test
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def served(cluster, tmp_path, request):
    """A fresh database on the throwaway cluster, prepared, served by gunicorn."""
    name = f"faults_{request.node.name.split('_', 2)[-1][:40]}"
    db_url = create_database(cluster.admin_url, name)
    env = production_env(
        db_url,
        str(tmp_path / "static"),
        LOADTEST_DEMO_GOALS="0",
        LOADTEST_COMPRESS_STATIC="0",
        # Short-lived connections would hide the recovery this is about.
        CONN_MAX_AGE="60",
    )
    plan = prepare(env)
    server = Server(env, workers=2, log_dir=str(tmp_path))
    server.start()
    try:
        yield server, plan, db_url
    finally:
        server.stop()
        if cluster_is_up(cluster):
            drop_database(cluster.admin_url, name)


def cluster_is_up(cluster) -> bool:
    done = subprocess.run(  # noqa: S603
        [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(cluster.port)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _answers(results) -> set:
    return set(results.by_status())


@pytest.mark.ops
def test_database_restart_gives_503_then_recovers_without_partial_writes(cluster, served):
    server, plan, db_url = served
    probe = Browser(server.base)
    probe.login(plan["reviewer"], plan["password"])
    dashboard = f"/goals/{plan['goal']}/"
    seen_down = []
    seen_after = []

    def outage(driver):
        time.sleep(2)  # updates are flowing
        cluster.stop()
        for path in ("/healthz", dashboard, dashboard + "?group=quarter", "/audit/"):
            seen_down.append((path, *probe.call("GET", path)))
        time.sleep(1)
        cluster.start()
        # The app recovers by itself: no restart of gunicorn, no action of ours.
        for _ in range(100):
            status, _, _ = probe.call("GET", "/healthz")
            if status == 200:
                break
            time.sleep(0.1)
        for path in ("/healthz", dashboard, dashboard + "?group=quarter", "/audit/"):
            seen_after.append((path, probe.call("GET", path)[0]))
        time.sleep(2)  # updates flow again

    results = Driver(server.base, plan).run(0, during=outage)

    for path, status, headers, body in seen_down:
        assert status == 503, (path, status, body[:500])
        assert "Traceback" not in body
        if path != "/healthz":
            # The site's 503 page, rendered without the database: its heading in the
            # layout's main landmark, and the ways back.
            assert "<h1>Service temporarily unavailable</h1>" in body
            assert 'data-error-page="503"' in body and '<main id="main"' in body
            assert 'href="/"' in body and "data-try-again" in body
            assert headers["Retry-After"].isdigit()
    assert seen_after == [(path, 200) for path, _ in seen_after]
    # Everything the load driver got was an answer a user may see: never a 500.
    assert _answers(results) <= {"200", "302", "409", "503"}, results.table()
    assert "503" in _answers(results)
    assert not results.user_errors
    assert results.outcomes()["accepted"] > 0
    # No partial writes: accepted once with its history, refused nowhere, and an update
    # whose answer was a 503 is either wholly there (row and history) or wholly absent.
    assert verify(db_url, plan, results.updates) == []


@pytest.mark.ops
def test_a_worker_killed_mid_burst_loses_nothing_committed(served):
    server, plan, db_url = served
    killed = []

    def kill_a_worker(driver):
        time.sleep(2)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        # gunicorn's master replaces it; the burst goes on.
        for _ in range(100):
            pids = server.worker_pids()
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.1)
        time.sleep(2)

    results = Driver(server.base, plan).run(0, during=kill_a_worker)

    pids = server.worker_pids()
    assert killed and killed[0] not in pids and len(pids) == 2
    assert results.server_errors() == 0, results.table()
    assert not results.user_errors
    assert results.outcomes()["accepted"] > 0
    # 302 = committed: there exactly once with its history; an update whose connection
    # died with the worker is wholly there or wholly absent.
    assert verify(db_url, plan, results.updates) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_never_see_database_is_locked():
    from django.db import connection
    from django.test import Client

    from milestones.models import Milestone, StatusUpdate
    from strategies.models import Role
    from tests.factories import GoalFactory, MembershipFactory, MilestoneFactory

    goal = GoalFactory()
    milestones = [MilestoneFactory(goal=goal) for _ in range(2)]
    leaders = [MembershipFactory(goal=goal, role=Role.LEADER).user for _ in range(2)]
    period = "Q4 FY19"  # the factory goal's reporting quarter
    answers: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def writer(number, user):
        client = Client()
        client.force_login(user)
        try:
            for step in range(15):
                milestone = Milestone.objects.get(pk=milestones[step % 2].pk)
                prefix = f"m{milestone.pk}-"
                response = client.post(
                    f"/goals/{goal.slug}/milestones/{milestone.pk}/update/",
                    {
                        prefix + "status": ["on_track", "at_risk"][step % 2],
                        prefix + "comment": f"writer {number} step {step}",
                        prefix + "period": period,
                        prefix + "revised_due": "",
                        prefix + "version": milestone.version,
                    },
                )
                with lock:
                    answers.append(response.status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n, u)) for n, u in enumerate(leaders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(answers) == 30
    assert set(answers) <= {302, 409}, answers
    assert StatusUpdate.objects.filter(milestone__goal=goal).count() == answers.count(302)
