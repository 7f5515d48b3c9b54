"""R3: the history pages with 1,000,000 history rows ÷ the same pages with 10,000.

Both sizes must be there at once for the rounds to interleave, and the audit log reads
every row there is, so each size is its own PostgreSQL database on DATABASE_URL's server
(``sdif_bench_r3_10k``, ``sdif_bench_r3_1m``), created, migrated and filled once:

- 20 demo goals with one milestone per 200 history rows wanted (40 at 10k, 5,000 at 1M),
  each with one status update, through the normal path (``generate_demo_data``);
- then the rest, to the row count wanted, through the documented bulk path
  (``generate_demo_data --history-rows``): ~100 status updates per milestone at both
  sizes, so a timeline is about as deep in either and only the tables' size differs;
- and one goal of the same shape in both (``r3-by-quarter``: 20 milestones, a status
  update for each of its 8 quarters, through the service) for the pages *as reported
  for* a quarter (dashboard and plan with ``?quarter=``).

A second run finds the rows there and generates nothing (only what is missing). The
databases are kept: drop them to start over.

A round asks each page once on each database, in rotating order. ``on_database`` points
Django's default connection at the database of the moment — every query of a request
follows it, the ORM's, ``transaction.atomic()``'s and the audit log's raw SQL alike
(``sdif_tracker/audit.py`` uses ``django.db.connection``, which a database router would
not move). The test suite runs ``measure_r3`` with both "sizes" on its one database.
"""

from __future__ import annotations

import copy
import io
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.run import LARGE_ROWS, SMALL_ROWS

REVIEWER_USERNAME = "bench-reviewer"
PAGES = [
    "timeline (milestone)",
    "audit log (admin)",
    "audit log (goal filter)",
    "audit log (reviewer)",
    "dashboard (as reported for)",
    "plan (as reported for)",
]
DEMO_GOAL = "demo-1"
# "As reported for" rebuilds one goal's plan from its history: measured on a goal of the
# same shape in both databases (the demo goals grow with the size), so that only the
# tables' size differs. Its milestones are reported on for every quarter of its period.
QUARTERS_GOAL = "r3-by-quarter"
REPORTED_FOR = "Q2 FY19"  # a quarter with later quarters' rows after it in every timeline


@dataclass(frozen=True)
class R3Sizes:
    small_rows: int = SMALL_ROWS
    large_rows: int = LARGE_ROWS
    goals: int = 20
    rows_per_milestone: int = 200
    quarters_goal_milestones: int = 20  # the "as reported for" goal (QUARTERS_GOAL)
    rounds: int = 15
    seed: int = 2026


@dataclass
class Database:
    """One size: its alias, and what filling it found and did."""

    label: str  # "10k", "1m"
    alias: str
    rows: int = 0
    milestones: int = 0
    generated_seconds: float = 0.0
    generated_rows: int = 0


@dataclass
class R3Result:
    ratio_lines: list[str]  # the table's R3 rows, one per page
    detail_lines: list[str] = field(default_factory=list)
    explain_lines: list[str] = field(default_factory=list)


def size_label(rows: int) -> str:
    """ "10k", "1m", "2500" — for database names and the table."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


# -- the databases ---------------------------------------------------------------------


def add_database(rows: int) -> Database:
    """Register (and create on the server, if missing) the PostgreSQL database of a size:
    DATABASE_URL's server and settings, the name ``sdif_bench_r3_<size>``."""
    from django.conf import settings
    from django.db import connections

    label = size_label(rows)
    alias, name = f"r3_{label}", f"sdif_bench_r3_{label}"
    default = connections["default"]
    if default.vendor != "postgresql":
        raise RuntimeError("R3 needs PostgreSQL (DATABASE_URL=postgres://...).")
    with default._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    if alias not in settings.DATABASES:
        database = copy.deepcopy(default.settings_dict)
        database["NAME"] = name
        # connections.settings is this same dict, so the alias is known at once.
        settings.DATABASES[alias] = database
    return Database(label=label, alias=alias)


@contextmanager
def on_database(alias: str):
    """Make ``alias`` Django's default connection for the block."""
    from django.db import DEFAULT_DB_ALIAS, connections

    original = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = connections[alias]
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = original


def history_rows() -> int:
    """Every history row of the project's tracked models."""
    from django.apps import apps

    return sum(
        model._default_manager.count()
        for label in ("strategies", "milestones")
        for model in apps.get_app_config(label).get_models()
        if model.__name__.startswith("Historical")
    )


def fill(database: Database, rows: int, sizes: R3Sizes, *, migrate: bool = True) -> None:
    """Bring ``database`` to at least ``rows`` history rows: the demo plan through the
    normal path if it has none, then the missing rows through the bulk path."""
    from django.core.management import call_command
    from django.db import connection

    from milestones.models import Milestone
    from strategies.models import Goal

    progress = sys.stderr if rows > 100_000 else io.StringIO()
    with on_database(database.alias):
        if migrate:
            call_command("migrate", verbosity=0, interactive=False)
        started = time.perf_counter()
        before = history_rows()
        if not Goal.objects.filter(slug__startswith="demo-").exists():
            milestones = max(rows // sizes.rows_per_milestone, sizes.goals)
            call_command(
                "generate_demo_data",
                goals=sizes.goals,
                milestones_per_goal=milestones // sizes.goals,
                updates_per_milestone=1,
                seed=sizes.seed,
                stdout=io.StringIO(),
                stderr=progress,
            )
        admin, _reviewer = _bench_users()
        _quarters_goal(admin, sizes.quarters_goal_milestones)
        missing = rows - history_rows()
        if missing > 0:
            missing += missing % 2  # an update writes two rows
            call_command(
                "generate_demo_data",
                history_rows=missing,
                seed=sizes.seed,
                stdout=io.StringIO(),
                stderr=progress,
            )
        database.rows = history_rows()
        database.generated_rows = database.rows - before
        if database.generated_rows and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would leave them
        database.generated_seconds = (
            time.perf_counter() - started if database.generated_rows else 0
        )
        database.milestones = Milestone.objects.count()


def _bench_users():
    """The admin and a reviewer of the first demo goal (their membership has history)."""
    from django.contrib.auth import get_user_model

    from audit.history import recorded_change
    from bench.run import BENCH_USERNAME
    from strategies.models import Goal, Membership, Role

    user_model = get_user_model()
    admin = user_model.objects.filter(username=BENCH_USERNAME).first()
    if admin is None:
        admin = user_model.objects.create_superuser(BENCH_USERNAME, "bench@example.gov", None)
    reviewer, _created = user_model.objects.get_or_create(username=REVIEWER_USERNAME)
    goal = Goal.objects.get(slug=DEMO_GOAL)
    if not Membership.objects.filter(user=reviewer, goal=goal).exists():
        with recorded_change(user=admin, source="bench", reason="Benchmark reviewer"):
            membership = Membership(user=reviewer, goal=goal, role=Role.REVIEWER)
            membership.full_clean()
            membership.save()
    return admin, reviewer


def _quarters_goal(admin, milestones: int):
    """The goal the "as reported for" pages show, made once through the services: its
    plan written while it reports on its first quarter (so that the plan belongs to every
    quarter), then held by an admin on its last quarter so that every quarter can be
    reported on."""
    from audit.history import recorded_change
    from milestones.models import Milestone, Status
    from milestones.quarters import forget_reporting_quarter
    from milestones.services import record_status_update
    from strategies.models import Agency, Goal, Strategy
    from strategies.periods import FiscalPeriod

    if Goal.objects.filter(slug=QUARTERS_GOAL).exists():
        return
    quarters = [FiscalPeriod(year, q) for year in (2018, 2019) for q in (1, 2, 3, 4)]
    statuses = [Status.NOT_STARTED, Status.ON_TRACK, Status.AT_RISK, Status.ON_TRACK]
    with recorded_change(user=admin, source="bench", reason="Benchmark goal by quarter"):
        goal = Goal(
            agency=Agency.objects.order_by("pk").first(),
            title="Report every quarter (benchmark)",
            short_name="R3Q",
            slug=QUARTERS_GOAL,
            statement="By the end of FY19, report on every quarter.",
            first_fiscal_year=2018,
            last_fiscal_year=2019,
            reporting_quarter_set=quarters[0],
        )
        goal.full_clean()
        goal.save()
        strategies = []
        for number in (1, 2):
            strategy = Strategy(goal=goal, number=number, title=f"Strategy {number}")
            strategy.full_clean()
            strategy.save()
            strategies.append(strategy)
        for position in range(1, milestones + 1):
            milestone = Milestone(
                goal=goal,
                strategy=strategies[position % 2],
                position=position,
                title=f"Milestone {position}",
                due=quarters[(position - 1) * len(quarters) // milestones],
            )
            milestone.full_clean()
            milestone.save()
        goal.reporting_quarter_set = quarters[-1]
        goal.save()
        forget_reporting_quarter(goal)
        for milestone in goal.milestones.order_by("position"):
            position = milestone.position
            for number, quarter in enumerate(quarters):
                milestone = record_status_update(
                    milestone=milestone,
                    user=admin,
                    status=statuses[(position + number) % len(statuses)],
                    comment=f"Reported for {quarter}.",
                    period=quarter,
                    expected_version=milestone.version,
                ).milestone


# -- the measurement -------------------------------------------------------------------


def _pages(database: Database) -> dict:
    """page name -> (client, url) on ``database``, signed in there."""
    from django.test import Client
    from django.urls import reverse
    from django.utils.http import urlencode

    from strategies.models import Goal

    with on_database(database.alias):
        admin, reviewer = _bench_users()
        goal = Goal.objects.get(slug=DEMO_GOAL)
        milestone = goal.milestones.order_by("position", "pk").first()
        as_admin, as_reviewer = Client(), Client()
        as_admin.force_login(admin)
        as_reviewer.force_login(reviewer)
    log = reverse("audit_log")
    quarters_goal = Goal.objects.using(database.alias).get(slug=QUARTERS_GOAL)
    reported_for = f"?{urlencode({'quarter': REPORTED_FOR})}"
    return {
        "timeline (milestone)": (
            as_admin,
            reverse("milestone_history", kwargs={"slug": goal.slug, "pk": milestone.pk}),
        ),
        "audit log (admin)": (as_admin, log),
        "audit log (goal filter)": (as_admin, f"{log}?goal={goal.slug}"),
        "audit log (reviewer)": (as_reviewer, log),
        "dashboard (as reported for)": (
            as_admin,
            quarters_goal.get_absolute_url() + reported_for,
        ),
        "plan (as reported for)": (as_admin, quarters_goal.get_plan_url() + reported_for),
    }


def _request(database: Database, client, url: str):
    def run():
        with on_database(database.alias):
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} on {database.label} answered {response.status_code}")
        return response

    return run


def _queries(database: Database, client, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with on_database(database.alias):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        # Read while ``connection`` still means this database.
        queries = [query["sql"] for query in captured.captured_queries]
    if response.status_code != 200:
        raise RuntimeError(f"{url} on {database.label} answered {response.status_code}")
    return queries


def _check_reported_for(database: Database, pages: dict) -> None:
    """The "as reported for" pages show the plan of the quarter (not an empty page): a
    benchmark of nothing would pass every ratio."""
    for name in ("dashboard (as reported for)", "plan (as reported for)"):
        client, url = pages[name]
        with on_database(database.alias):
            content = client.get(url).content
        if b"data-milestone-position" not in content or b"asof-banner" not in content:
            raise RuntimeError(f"{url} on {database.label} shows no plan as reported for.")


def explain(database: Database, sql: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a query a page ran (its values are inlined)."""
    from django.db import connection

    with on_database(database.alias), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return [row[0] for row in cursor.fetchall()]


def measure_r3(
    sizes: R3Sizes, small: Database, large: Database, *, explain_audit: bool = False
) -> R3Result:
    """Time every page on both databases (filled already), interleaved; the table rows."""
    from bench.run import TARGETS, _median, _p95, _time_rounds

    pages = {database.label: _pages(database) for database in (small, large)}
    # Query counts first (the requests also warm both connections and caches).
    sql = {
        (name, database.label): _queries(database, *pages[database.label][name])
        for database in (small, large)
        for name in PAGES
    }
    for database in (small, large):
        _check_reported_for(database, pages[database.label])
    operations = {
        (name, database.label): _request(database, *pages[database.label][name])
        for name in PAGES
        for database in (small, large)
    }
    timings = _time_rounds(operations, sizes.rounds)
    medians = {key: _median(values) for key, values in timings.items()}
    p95s = {key: _p95(values) for key, values in timings.items()}

    target = TARGETS["R3"]
    ratio_lines = []
    for name in PAGES:
        top, bottom = medians[name, large.label], medians[name, small.label]
        ratio = top / bottom
        label = f"R3 {name} {large.label} ÷ {small.label}"
        ratio_lines.append(
            f"{label:<40} {top:8.1f} {bottom:8.1f} {ratio:7.2f}  ≤ {target:<4} "
            f"{'pass' if ratio <= target else 'MISS'}"
        )

    def described(database: Database) -> str:
        made = (
            f"{database.generated_rows:,} generated in {database.generated_seconds:.1f} s"
            if database.generated_rows
            else "reused"
        )
        return (
            f"{database.label}: {database.rows:,} history rows, "
            f"{database.milestones:,} milestones ({made})"
        )

    detail = [
        f"R3 data (sdif_bench_r3_*): {described(small)}; {described(large)}",
        "",
        f"{'R3 SQL queries per page':<28} {small.label:>6} {large.label:>6}  equal",
    ]
    for name in PAGES:
        few, many = len(sql[name, small.label]), len(sql[name, large.label])
        detail.append(f"{name:<28} {few:>6} {many:>6}  {'✓' if few == many else '✗'}")
    detail += ["", f"{'R3 page':<34} {'median':>8} {'p95':>8}"]
    for name in PAGES:
        for database in (small, large):
            key = (name, database.label)
            detail.append(
                f"{name + ' @' + database.label:<34} {medians[key]:8.1f} {p95s[key]:8.1f}"
            )

    explain_lines = []
    if explain_audit:
        for name in PAGES[1:4]:
            audit_sql = next(q for q in sql[name, large.label] if "UNION ALL" in q)
            explain_lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) — {name} @{large.label}:"]
            explain_lines += explain(large, audit_sql)
    return R3Result(ratio_lines, detail, explain_lines)


def run_r3(sizes: R3Sizes, *, explain_audit: bool = False) -> R3Result:
    """The real thing: two databases, filled if need be, then the rounds."""
    small, large = add_database(sizes.small_rows), add_database(sizes.large_rows)
    for database, rows in ((small, sizes.small_rows), (large, sizes.large_rows)):
        fill(database, rows, sizes)
        if database.generated_rows:
            print(
                f"R3: {database.label} database filled in {database.generated_seconds:.1f} s "
                f"({database.generated_rows:,} history rows)",
                file=sys.stderr,
            )
    return measure_r3(sizes, small, large, explain_audit=explain_audit)
