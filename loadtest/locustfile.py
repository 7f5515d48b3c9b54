"""The load test's traffic, for Locust; started by loadtest/run.py, never by hand.

    locust -f loadtest/locustfile.py --headless ... Reviewer Leader [PublicPdfReader]

Configured through the environment: ``LOADTEST_PLAN`` (loadtest.prepare's JSON
description, as a file), ``LOADTEST_RECORD`` (where to write what happened),
``LOADTEST_READY`` (a file written once every user is signed in), ``LOADTEST_RUN_ID``,
``LOADTEST_READERS`` and ``LOADTEST_PDF_READERS``.

Every user runs a closed loop (no think time), as many requests as the server answers:
reviewers read every page, leaders post status updates to the same few milestones, and
anonymous visitors download a public goal's published PDF. The record written when
Locust quits holds every status update's unique comment and outcome (so that
loadtest.run can check the database), the statuses seen per request name, the users'
exceptions and Locust's own figures per request name.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import gevent
import gevent.event
from locust import HttpUser, constant, events, task
from requests.cookies import RequestsCookieJar

from loadtest.run import OVERLAPPING_MILESTONES, STATUSES, hidden

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
RUN_ID = os.environ["LOADTEST_RUN_ID"]
READERS = int(os.environ.get("LOADTEST_READERS", "4"))
PDF_READERS = int(os.environ.get("LOADTEST_PDF_READERS", "0"))
USERS = READERS + len(PLAN["leaders"]) + PDF_READERS

# What loadtest.run reads back: filled by the users and the request listener below.
updates: list[dict] = []
statuses: dict[str, Counter] = {}
user_errors: list[str] = []
locust_environment = None  # set by the init event
users_started = 0
everyone_started = gevent.event.Event()


class PlainHttpCookies(RequestsCookieJar):
    """Production marks its cookies Secure (TLS ends at the load balancer); gunicorn
    answers plain HTTP on loopback here, so keep them sendable, as the proxy would.
    (A cookie policy would not do: requests copies the jar for every request.)"""

    def extract_cookies(self, response, request):
        super().extract_cookies(response, request)
        for cookie in self:
            cookie.secure = False


class SiteUser(HttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self):
        self.client.cookies = PlainHttpCookies()
        try:
            self.set_up()
        finally:
            user_started()
        # No traffic before every user is signed in: the measured run starts together.
        everyone_started.wait()

    def set_up(self) -> None:
        """Sign in; a failure is a user error, reported by loadtest.run."""

    def use_session(self, username: str) -> None:
        """Signed in through a session loadtest.prepare made (20 password hashes at each
        start would cost seconds of CPU)."""
        self.client.cookies.set("sessionid", PLAN["sessions"][username], domain="127.0.0.1")


class Reviewer(SiteUser):
    """Reads the portfolio, the dashboard both ways, the plan, milestone pages and the
    audit log; the first one signs in through the login form."""

    fixed_count = READERS
    numbers = itertools.count()

    def set_up(self):
        number = next(self.numbers)
        self.rng = random.Random(1000 + number)  # noqa: S311 - load mix, not security
        goal = PLAN["goal"]
        self.pages = [
            ("portfolio", "/"),
            ("dashboard by strategy", f"/goals/{goal}/?group=strategy"),
            ("dashboard by quarter", f"/goals/{goal}/?group=quarter"),
            ("plan", f"/goals/{goal}/plan/"),
            ("audit log", "/audit/"),
        ]
        if number == 0:
            self.sign_in()
        else:
            self.use_session(PLAN["reviewer"])

    def sign_in(self) -> None:
        page = self.client.get("/accounts/login/", name="login page", allow_redirects=False)
        form = {
            "csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"),
            "username": PLAN["reviewer"],
            "password": PLAN["password"],
            "next": "/",
        }
        with self.client.post(
            "/accounts/login/",
            data=form,
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or "/accounts/login" in answer.headers.get(
                "Location", ""
            ):
                answer.failure(f"sign-in refused: {answer.status_code}")
                raise RuntimeError(f"login of {PLAN['reviewer']} failed: {answer.status_code}")

    @task
    def read(self):
        name, path = self.rng.choice(self.pages)
        if self.rng.random() < 0.3:
            name, path = "milestone page", self.rng.choice(PLAN["milestones"])["url"]
        # Redirects are not followed: a page that sends the reviewer to sign in shows
        # as a 302, not as the sign-in page's 200.
        self.client.get(path, name=name, allow_redirects=False)


class Leader(SiteUser):
    """Reads a milestone page for its version and CSRF token, then posts a status update
    with a unique comment. 302 back to the page is accepted, 409 a conflict (someone
    saved first): both are correct answers."""

    fixed_count = len(PLAN["leaders"])
    numbers = itertools.count()

    def set_up(self):
        self.number = next(self.numbers)
        self.rng = random.Random(self.number)  # noqa: S311 - load mix, not security
        self.sequence = 0
        self.use_session(PLAN["leaders"][self.number])

    @task
    def update(self):
        milestone = self.rng.choice(PLAN["milestones"][:OVERLAPPING_MILESTONES])
        page = self.client.get(milestone["url"], name="milestone page", allow_redirects=False)
        if page.status_code != 200:
            gevent.sleep(0.05)
            return
        prefix = f"m{milestone['pk']}-"
        self.sequence += 1
        comment = f"load {RUN_ID} leader {self.number} update {self.sequence}"
        form = {
            "csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"),
            prefix + "status": self.rng.choice(STATUSES),
            prefix + "comment": comment,
            prefix + "period": hidden(page.text, prefix + "period"),
            prefix + "revised_due": "",
            prefix + "version": hidden(page.text, prefix + "version"),
        }
        # Recorded before it is sent: stopped mid-request, it stays "unknown", which
        # loadtest.run.verify accepts only as wholly written or wholly absent.
        update = {"comment": comment, "milestone": milestone["pk"], "outcome": "unknown"}
        updates.append(update)
        with self.client.post(
            milestone["url"] + "update/",
            data=form,
            name="status update",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            location = urlsplit(answer.headers.get("Location", "")).path
            if answer.status_code == 302 and location == milestone["url"]:
                update["outcome"] = "accepted"
            elif answer.status_code == 409:
                update["outcome"] = "conflict"
                answer.success()
            elif answer.status_code == 400:
                update["outcome"] = "invalid"
                answer.failure("400: the update was refused as invalid")
            elif answer.status_code:
                update["outcome"] = f"HTTP {answer.status_code}"
                answer.failure(f"unexpected answer {answer.status_code}")


class PublicPdfReader(SiteUser):
    """An anonymous visitor downloading a public goal's published quarter as PDF."""

    fixed_count = PDF_READERS

    @task
    def download(self):
        with self.client.get(
            PLAN["public_pdf"], name="public plan PDF", allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code == 200 and not answer.content.startswith(b"%PDF"):
                answer.failure("200 without a PDF")


@events.request.add_listener
def count_status(name, response, exception, **_):
    status = getattr(response, "status_code", 0)
    key = str(status) if status else f"error:{type(exception).__name__}"
    statuses.setdefault(name, Counter())[key] += 1


@events.user_error.add_listener
def keep_error(user_instance, exception, tb, **_):
    user_errors.append(f"{type(user_instance).__name__}: {type(exception).__name__}: {exception}")


def user_started() -> None:
    """Once every user has signed in, the measured run starts: Locust's figures are reset
    (sign-in is set-up, not load) and loadtest.run is told, by the ready file."""
    global users_started  # noqa: PLW0603 - one counter for the process
    users_started += 1
    if users_started == USERS:
        locust_environment.stats.reset_all()
        statuses.clear()
        everyone_started.set()
        Path(os.environ["LOADTEST_READY"]).write_text(str(users_started))


@events.init.add_listener
def remember(environment, **_):
    global locust_environment  # noqa: PLW0603 - the quit event does not pass it
    locust_environment = environment


@events.quit.add_listener
def write_record(**_):
    """Runs after every user has stopped."""
    stats = locust_environment.stats
    total = stats.total
    pages = []
    measured = [entry for entry in stats.entries.values() if entry.num_requests]
    for entry in [*sorted(measured, key=lambda e: e.name), total]:
        pages.append(
            {
                "name": "ALL" if entry is total else entry.name,
                "method": entry.method or "",
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50": entry.get_response_time_percentile(0.5),
                "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99),
                "rps": entry.total_rps,
            }
        )
    duration = (total.last_request_timestamp or total.start_time) - total.start_time
    Path(os.environ["LOADTEST_RECORD"]).write_text(
        json.dumps(
            {
                "duration": duration,
                "pages": pages,
                "statuses": statuses,
                "updates": updates,
                "user_errors": user_errors,
            }
        )
    )
    # Locust's CSV writer rewrites its files once a second: one more turn, so the kept
    # CSV holds the final figures and not those of a second before the end.
    gevent.sleep(1.1)
