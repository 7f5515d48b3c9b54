"""The load test, one cohesive script (set up, drive, report): gunicorn (production
settings, WhiteNoise) on PostgreSQL, driven by Locust.

    make loadtest                      # 30 s on postgres://postgres@127.0.0.1:5432/sdif_load
    .venv/bin/python -m loadtest.run --duration 30 --pdf-readers 4 --keep

It creates a fresh database, migrates it, imports the SDIF plan plus a few generated
goals (the first made public, with a published quarter), creates 20 leaders and a
reviewer on the SDIF goal, collects static files into a temporary directory and starts
gunicorn (2 workers) on a free loopback port. Then Locust (loadtest/locustfile.py, in a
subprocess, headless) runs the mix for a fixed duration: reviewers read the portfolio,
the goal dashboard (by strategy and by quarter), the plan page, milestone pages and the
audit log, while the 20 leaders post status updates to the same few milestones (each
reads the milestone page for its version and CSRF token, then posts a unique comment),
and, with ``--pdf-readers``, anonymous visitors download the public goal's published
PDF. 302 means accepted, 409 a conflict (someone saved first) - both are correct
answers; any 5xx fails the run. Afterwards every accepted update must be in
StatusUpdate and in the milestone history exactly once, and no refused one anywhere.
Locust's CSV files are kept under loadtest/results/. The database is dropped at the end
unless ``--keep``.

The pieces (``Server``, ``Driver``, ``verify``) are reused by tests/ops.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
RESULTS = Path(__file__).with_name("results")
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
    """One user for probes beside the load: a cookie jar kept by hand (the cookies are
    Secure, the server plain HTTP)."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    def call(self, method, path, *, form=None, timeout=30.0):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, response_headers, text = request(
            self.base, method, path, body=body, headers=headers, timeout=timeout
        )
        for header in response_headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        return status, response_headers, text

    def login(self, username: str, password: str) -> None:
        _, _, page = self.call("GET", "/accounts/login/")
        form = {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "username": username,
            "password": password,
            "next": "/",
        }
        status, headers, _ = self.call("POST", "/accounts/login/", form=form)
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
class Update:
    comment: str
    milestone: int
    outcome: str  # "accepted", "conflict", "invalid", "unknown" (no answer) or "HTTP <status>"


@dataclass
class Page:
    """Locust's figures for one request name (and method); times in milliseconds."""

    name: str
    method: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rps: float


@dataclass
class Results:
    """What the Locust run recorded (loadtest/locustfile.py's record) and where its CSV
    files are."""

    duration: float
    pages: list[Page]
    statuses: dict[str, Counter]  # request name -> answers ("200", "error:ConnectionError")
    updates: list[Update]
    user_errors: list[str]
    csv_prefix: str  # "" when the CSV files were not kept

    @classmethod
    def from_record(cls, record: dict, csv_prefix: str) -> Results:
        return cls(
            duration=record["duration"],
            pages=[Page(**page) for page in record["pages"]],
            statuses={name: Counter(seen) for name, seen in record["statuses"].items()},
            updates=[Update(**update) for update in record["updates"]],
            user_errors=record["user_errors"],
            csv_prefix=csv_prefix,
        )

    def by_status(self, name: str | None = None) -> Counter:
        """Answers of every request, or of the requests called ``name``."""
        total = Counter()
        for page, seen in self.statuses.items():
            if name in (None, page):
                total.update(seen)
        return total

    def server_errors(self) -> int:
        return sum(n for status, n in self.by_status().items() if status.startswith("5"))

    def page(self, name: str) -> Page | None:
        return next((p for p in self.pages if p.name == name), None)

    def outcomes(self) -> Counter:
        return Counter(u.outcome for u in self.updates)

    def table(self) -> str:
        lines = [
            f"{'page':<28}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses",
        ]
        for page in self.pages:
            label = "ALL" if page.name == "ALL" else f"{page.method} {page.name}"
            seen = self.by_status(None if page.name == "ALL" else page.name)
            lines.append(
                f"{label:<28}{page.requests:>9}{page.p50:>9.0f}{page.p95:>9.0f}{page.p99:>9.0f}"
                "  " + ", ".join(f"{k}: {v}" for k, v in sorted(seen.items()))
            )
        total = self.page("ALL")
        lines.append("")
        lines.append(
            f"requests/s: {total.rps if total else 0:.1f} over {self.duration:.1f} s; "
            "status updates: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes().items()))
        )
        return "\n".join(lines)


class Driver:
    """The mix, run by Locust (loadtest/locustfile.py) in a subprocess of its own: its
    gevent monkey-patching stays out of this process (and out of pytest's).

    ``readers`` reviewers read every page while the plan's leaders post status updates;
    ``pdf_readers`` anonymous visitors download the public goal's published PDF.
    Locust's CSV files go to ``csv_prefix`` + ``_stats.csv`` etc. (a temporary
    directory when not given).
    """

    def __init__(
        self,
        base: str,
        plan: dict,
        *,
        readers: int = 4,
        pdf_readers: int = 0,
        csv_prefix: str | None = None,
        run_id: str | None = None,
    ):
        if pdf_readers and not plan.get("public_pdf"):
            raise ValueError("PDF readers need a public goal: prepare with demo goals")
        self.base = base
        self.plan = plan
        self.readers = readers
        self.pdf_readers = pdf_readers
        self.csv_prefix = csv_prefix
        self.run_id = run_id or uuid.uuid4().hex[:8]

    def run(self, duration: float, *, during=None, start_timeout: float = 60.0) -> Results:
        """Start Locust, wait until every user runs, call ``during(driver)`` if given,
        let ``duration`` seconds pass in all, then stop Locust as SIGTERM does (its
        graceful shutdown: users stopped, figures printed, CSV written)."""
        work = Path(tempfile.mkdtemp(prefix="sdif-locust-"))
        prefix = self.csv_prefix or str(work / "locust")
        Path(prefix).parent.mkdir(parents=True, exist_ok=True)
        plan_file, record, ready = work / "plan.json", work / "record.json", work / "ready"
        plan_file.write_text(json.dumps(self.plan))
        users = ["Reviewer", "Leader"] + (["PublicPdfReader"] if self.pdf_readers else [])
        count = self.readers + len(self.plan["leaders"]) + self.pdf_readers
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LOADTEST_PLAN": str(plan_file),
            "LOADTEST_RECORD": str(record),
            "LOADTEST_READY": str(ready),
            "LOADTEST_RUN_ID": self.run_id,
            "LOADTEST_READERS": str(self.readers),
            "LOADTEST_PDF_READERS": str(self.pdf_readers),
        }
        log_path = Path(prefix + "_locust.log")
        try:
            with log_path.open("wb") as log:
                process = subprocess.Popen(  # noqa: S603 - fixed argv
                    [
                        PYTHON,
                        "-m",
                        "locust",
                        f"--locustfile={LOCUSTFILE}",
                        "--headless",
                        f"--users={count}",
                        f"--spawn-rate={count}",
                        f"--host=http://{self.base}",
                        f"--csv={prefix}",
                        "--only-summary",
                        "--loglevel=WARNING",
                        *users,
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                deadline = time.monotonic() + start_timeout
                while not ready.exists():
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"Locust did not start:\n{log_path.read_text()}")
                    time.sleep(0.05)
                started = time.monotonic()
                if during is not None:
                    during(self)
                remaining = duration - (time.monotonic() - started)
                if remaining > 0:
                    time.sleep(remaining)
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if not record.exists():
                raise RuntimeError(f"Locust wrote no record:\n{log_path.read_text()}")
            kept = prefix if self.csv_prefix else ""
            return Results.from_record(json.loads(record.read_text()), kept)
        finally:
            shutil.rmtree(work, ignore_errors=True)


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


def run_load(
    duration: float, *, pdf_readers: int = 0, csv_prefix: str | None = None, **environment
) -> tuple[Results, list[str], str]:
    """The whole load test: (results, verification problems, gunicorn log)."""
    with Environment(**environment) as env:
        driver = Driver(env.server.base, env.plan, pdf_readers=pdf_readers, csv_prefix=csv_prefix)
        results = driver.run(duration)
        problems = verify(env.db_url, env.plan, results.updates)
        return results, problems, env.server.log()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", 30)))
    parser.add_argument("--admin-url", default=os.environ.get("LOADTEST_ADMIN_URL", ADMIN_URL))
    parser.add_argument("--database", default="sdif_load")
    parser.add_argument(
        "--pdf-readers",
        type=int,
        default=int(os.environ.get("PDF_READERS", 4)),
        help="anonymous clients downloading the public goal's published PDF (0: none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 60:
        parser.error("--duration must be between 1 and 60 seconds")
    if args.pdf_readers < 0:
        parser.error("--pdf-readers cannot be negative")
    csv_prefix = str(RESULTS / time.strftime("%Y%m%d-%H%M%S"))
    print(
        f"load test: {args.duration:.0f} s, gunicorn 2 workers, database {args.database}, "
        f"{args.pdf_readers} anonymous PDF readers"
    )
    results, problems, log = run_load(
        args.duration,
        pdf_readers=args.pdf_readers,
        csv_prefix=csv_prefix,
        admin_url=args.admin_url,
        name=args.database,
        keep=args.keep,
    )
    print(results.table())
    print(f"Locust's CSV files: {csv_prefix}_stats.csv, _stats_history.csv, _failures.csv")
    failed = False
    if results.server_errors():
        failed = True
        print(f"FAIL: {results.server_errors()} responses were 5xx")
        print(log[-5000:])
    if results.user_errors:
        failed = True
        print("FAIL: Locust users raised:", *results.user_errors[:20], sep="\n  ")
    if problems:
        failed = True
        print("FAIL: lost or doubled status updates:", *problems[:20], sep="\n  ")
    else:
        accepted = results.outcomes()["accepted"]
        print(f"verified: {accepted} accepted updates each once in StatusUpdate and history;")
        print("          no refused update written.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
