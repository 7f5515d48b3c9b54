"""Load test: gunicorn (production settings, WhiteNoise) on PostgreSQL, driven from loopback.

    make loadtest                      # 30 s on postgres://postgres@127.0.0.1:5432/sdif_load
    .venv/bin/python -m loadtest.run --duration 30 --keep

Standard library only: threads with ``http.client``, one cookie jar per simulated user.
It creates a fresh database, migrates it, imports the SDIF plan plus a few generated
goals, creates 20 leaders and a reviewer on the SDIF goal, collects static files into a
temporary directory and starts gunicorn (2 workers) on a free loopback port. For a fixed
duration, the reviewer's threads read the portfolio, the goal dashboard (by strategy and
by quarter), the plan page, milestone pages and the audit log, while the 20 leaders post
status updates to the same few milestones: each reads the milestone page for its version
and CSRF token, then posts a unique comment. 302 means accepted, 409 a conflict (someone
saved first) - both are correct answers; any 5xx fails the run. Afterwards every
accepted update must be in StatusUpdate and in the milestone history exactly once, and
no refused one anywhere. The database is dropped at the end unless ``--keep``.

The pieces (``Server``, ``Driver``, ``verify``) are reused by tests/ops.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# Updates move between these (Delayed needs a revised due; TBD is only a starting point).
STATUSES = ["not_started", "on_track", "at_risk", "completed"]
OVERLAPPING_MILESTONES = 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def create_database(admin_url: str, name: str) -> str:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def production_env(db_url: str, static_root: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "CONN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="loadtest.settings",
        LOADTEST_STATIC_ROOT=static_root,
        DATABASE_URL=db_url,
        DEBUG="0",
        SECRET_KEY="load-test-secret-" + uuid.uuid4().hex,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def prepare(env: dict[str, str]) -> dict:
    """Migrate and fill the database; returns loadtest.prepare's description."""
    done = subprocess.run(  # noqa: S603 - fixed argv
        [PYTHON, "-m", "loadtest.prepare"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadtest.prepare failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Server:
    """gunicorn on a free loopback port; its log goes to a file for the report."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, log_dir: str):
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log_path = Path(log_dir, f"gunicorn-{self.port}.log")
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                GUNICORN,
                "sdif_tracker.wsgi",
                f"--workers={self.workers}",
                f"--bind={self.base}",
                "--timeout=30",
                "--graceful-timeout=5",
                "--access-logfile=-",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            try:
                status, _, _ = request(self.base, "GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(  # noqa: S603 - fixed argv
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],  # noqa: S607 - procps
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(pid) for pid in out.split()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def request(base, method, path, *, body=None, headers=None, timeout=30.0):
    """One request on a fresh connection: (status, headers, body text)."""
    host, port = base.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read().decode("utf-8", errors="replace")
        return response.status, response.headers, data
    finally:
        conn.close()


class Browser:
    """One user: a cookie jar (kept by hand: the cookies are Secure, the server plain HTTP)."""

    def __init__(self, base: str, stats: Stats | None = None):
        self.base = base
        self.cookies: dict[str, str] = {}
        self.stats = stats

    def call(self, name, method, path, *, form=None, timeout=30.0):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            status, response_headers, text = request(
                self.base, method, path, body=body, headers=headers, timeout=timeout
            )
        except (OSError, http.client.HTTPException) as error:
            if self.stats:
                self.stats.add(
                    name, f"error:{type(error).__name__}", time.perf_counter() - started
                )
            raise
        if self.stats:
            self.stats.add(name, status, time.perf_counter() - started)
        for header in response_headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        return status, response_headers, text

    def login(self, username: str, password: str) -> None:
        _, _, page = self.call("login", "GET", "/accounts/login/")
        form = {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "username": username,
            "password": password,
            "next": "/",
        }
        status, headers, _ = self.call("login", "POST", "/accounts/login/", form=form)
        if status != 302 or "/accounts/login" in headers.get("Location", ""):
            raise RuntimeError(f"login of {username} failed: {status}")


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*?name="{re.escape(name)}"', page
    )
    if match is None:
        raise ValueError(f"no field {name} in the page")
    return html.unescape(match.group(1))


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[tuple[str, object, float]] = field(default_factory=list)

    def add(self, name, status, seconds):
        with self.lock:
            self.samples.append((name, status, seconds))


@dataclass
class Update:
    comment: str
    milestone: int
    outcome: str  # "accepted", "conflict", "invalid", "unknown" (no answer) or the status


@dataclass
class Results:
    duration: float
    stats: Stats
    updates: list[Update]
    thread_errors: list[str]

    def by_status(self) -> Counter:
        return Counter(str(status) for _, status, _ in self.stats.samples)

    def server_errors(self) -> int:
        return sum(
            1 for _, status, _ in self.stats.samples if isinstance(status, int) and status >= 500
        )

    def table(self) -> str:
        samples = self.stats.samples
        lines = [
            f"{'page':<22}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses",
        ]
        names = sorted({name for name, _, _ in samples})
        for name in [*names, "ALL"]:
            rows = [s for s in samples if name in ("ALL", s[0])]
            if not rows:
                continue
            times = sorted(s[2] * 1000 for s in rows)
            statuses = Counter(str(s[1]) for s in rows)
            lines.append(
                f"{name:<22}{len(rows):>9}{percentile(times, 50):>9.0f}"
                f"{percentile(times, 95):>9.0f}{percentile(times, 99):>9.0f}  "
                + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
            )
        outcomes = Counter(u.outcome for u in self.updates)
        lines.append("")
        lines.append(
            f"requests/s: {len(samples) / self.duration:.1f} over {self.duration:.1f} s; "
            f"status updates: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        )
        return "\n".join(lines)


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


class Driver:
    """The mix: reviewer threads read every page; leader threads post status updates."""

    def __init__(self, base: str, plan: dict, *, readers: int = 4, run_id: str | None = None):
        self.base = base
        self.plan = plan
        self.readers = readers
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.stats = Stats()
        self.updates: list[Update] = []
        self.updates_lock = threading.Lock()
        self.thread_errors: list[str] = []
        self.stop = threading.Event()
        self.milestones = plan["milestones"][:OVERLAPPING_MILESTONES]

    def sign_in(self) -> tuple[list[Browser], list[Browser]]:
        """The first reader signs in through the login form; the others use sessions
        made by loadtest.prepare (hashing 20 passwords would cost seconds at each start)."""
        sessions = self.plan["sessions"]
        first = Browser(self.base, self.stats)
        first.login(self.plan["reviewer"], self.plan["password"])
        readers = [first]
        for _ in range(self.readers - 1):
            readers.append(Browser(self.base, self.stats))
            readers[-1].cookies["sessionid"] = sessions[self.plan["reviewer"]]
        leaders = []
        for name in self.plan["leaders"]:
            leaders.append(Browser(self.base, self.stats))
            leaders[-1].cookies["sessionid"] = sessions[name]
        self.stats.samples.clear()  # sign-in is set-up, not load
        return leaders, readers

    def _guard(self, target, *args):
        try:
            target(*args)
        except Exception as error:  # noqa: BLE001 - reported, fails the run
            self.thread_errors.append(f"{type(error).__name__}: {error}")

    def read_loop(self, browser: Browser, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - load mix, not security
        goal = self.plan["goal"]
        pages = [
            ("portfolio", "/"),
            ("dashboard by strategy", f"/goals/{goal}/?group=strategy"),
            ("dashboard by quarter", f"/goals/{goal}/?group=quarter"),
            ("plan", f"/goals/{goal}/plan/"),
            ("audit log", "/audit/"),
        ]
        while not self.stop.is_set():
            name, path = rng.choice(pages)
            if rng.random() < 0.3:
                name, path = "milestone page", rng.choice(self.plan["milestones"])["url"]
            try:
                browser.call(name, "GET", path)
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)

    def update_loop(self, browser: Browser, number: int) -> None:
        rng = random.Random(number)  # noqa: S311 - load mix, not security
        sequence = 0
        while not self.stop.is_set():
            milestone = rng.choice(self.milestones)
            try:
                status, _, page = browser.call("milestone page", "GET", milestone["url"])
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            if status != 200:
                time.sleep(0.05)
                continue
            prefix = f"m{milestone['pk']}-"
            sequence += 1
            comment = f"load {self.run_id} leader {number} update {sequence}"
            form = {
                "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
                prefix + "status": rng.choice(STATUSES),
                prefix + "comment": comment,
                prefix + "period": hidden(page, prefix + "period"),
                prefix + "revised_due": "",
                prefix + "version": hidden(page, prefix + "version"),
            }
            outcome = "unknown"
            try:
                status, headers, _ = browser.call(
                    "status update", "POST", milestone["url"] + "update/", form=form
                )
            except (OSError, http.client.HTTPException):
                pass
            else:
                location = urlsplit(headers.get("Location", "")).path
                if status == 302 and location == milestone["url"]:
                    outcome = "accepted"
                elif status == 409:
                    outcome = "conflict"
                elif status == 400:
                    outcome = "invalid"
                else:
                    outcome = f"HTTP {status}"
            with self.updates_lock:
                self.updates.append(Update(comment, milestone["pk"], outcome))

    def run(self, duration: float, *, during=None) -> Results:
        """Drive the mix for ``duration`` seconds; ``during(driver)`` runs alongside."""
        leaders, readers = self.sign_in()
        threads = [
            threading.Thread(target=self._guard, args=(self.update_loop, b, n))
            for n, b in enumerate(leaders)
        ] + [
            threading.Thread(target=self._guard, args=(self.read_loop, b, 1000 + n))
            for n, b in enumerate(readers)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        try:
            if during is not None:
                during(self)
            remaining = duration - (time.perf_counter() - started)
            if remaining > 0:
                self.stop.wait(remaining)
        finally:
            self.stop.set()
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - started
        return Results(elapsed, self.stats, list(self.updates), list(self.thread_errors))


def verify(db_url: str, plan: dict, updates: list[Update]) -> list[str]:
    """Problems found: each accepted update once in StatusUpdate and once in the history,
    each refused one nowhere, an unanswered one at most once (and in both or neither)."""
    import psycopg2

    run_comments = [u.comment for u in updates]
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            counts = {}
            for table in (plan["status_update_table"], plan["milestone_history_table"]):
                cur.execute(
                    f'SELECT comment, count(*) FROM "{table}" '  # noqa: S608 - our table names
                    "WHERE comment = ANY(%s) GROUP BY comment",
                    (run_comments,),
                )
                counts[table] = dict(cur.fetchall())
    finally:
        conn.close()
    updates_in = counts[plan["status_update_table"]]
    history_in = counts[plan["milestone_history_table"]]
    problems = []
    for u in updates:
        found = (updates_in.get(u.comment, 0), history_in.get(u.comment, 0))
        if u.outcome == "accepted" and found != (1, 1):
            problems.append(
                f"accepted {u.comment!r}: StatusUpdate x{found[0]}, history x{found[1]}"
            )
        elif u.outcome in ("conflict", "invalid") and found != (0, 0):
            problems.append(
                f"refused {u.comment!r}: StatusUpdate x{found[0]}, history x{found[1]}"
            )
        elif u.outcome not in ("accepted", "conflict", "invalid") and found not in (
            (0, 0),
            (1, 1),
        ):
            problems.append(
                f"{u.outcome} {u.comment!r}: StatusUpdate x{found[0]}, history x{found[1]}"
            )
    return problems


@dataclass
class Environment:
    """A fresh database on a PostgreSQL server, prepared, with gunicorn serving it."""

    admin_url: str = ADMIN_URL
    name: str = "sdif_load"
    workers: int = 2
    demo_goals: int = 3
    compress_static: bool = True
    keep: bool = False

    def __enter__(self) -> Environment:
        self.tmp = tempfile.mkdtemp(prefix="sdif-load-")
        self.db_url = create_database(self.admin_url, self.name)
        self.env = production_env(
            self.db_url,
            str(Path(self.tmp, "static")),
            LOADTEST_DEMO_GOALS=str(self.demo_goals),
            LOADTEST_COMPRESS_STATIC="1" if self.compress_static else "0",
        )
        try:
            self.plan = prepare(self.env)
            self.server = Server(self.env, workers=self.workers, log_dir=self.tmp)
            self.server.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        server = getattr(self, "server", None)
        if server is not None:
            server.stop()
        if not self.keep:
            drop_database(self.admin_url, self.name)
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_load(duration: float, **environment) -> tuple[Results, list[str], str]:
    """The whole load test: (results, verification problems, gunicorn log)."""
    with Environment(**environment) as env:
        results = Driver(env.server.base, env.plan).run(duration)
        problems = verify(env.db_url, env.plan, results.updates)
        return results, problems, env.server.log()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", 30)))
    parser.add_argument("--admin-url", default=os.environ.get("LOADTEST_ADMIN_URL", ADMIN_URL))
    parser.add_argument("--database", default="sdif_load")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 60:
        parser.error("--duration must be between 1 and 60 seconds")
    print(f"load test: {args.duration:.0f} s, gunicorn 2 workers, database {args.database}")
    results, problems, log = run_load(
        args.duration, admin_url=args.admin_url, name=args.database, keep=args.keep
    )
    print(results.table())
    failed = False
    if results.server_errors():
        failed = True
        print(f"FAIL: {results.server_errors()} responses were 5xx")
        print(log[-5000:])
    if results.thread_errors:
        failed = True
        print("FAIL: driver threads stopped:", *results.thread_errors, sep="\n  ")
    if problems:
        failed = True
        print("FAIL: lost or doubled status updates:", *problems[:20], sep="\n  ")
    else:
        accepted = sum(1 for u in results.updates if u.outcome == "accepted")
        print(f"verified: {accepted} accepted updates each once in StatusUpdate and history;")
        print("          no refused update written.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
