"""The benchmark table: ratios measured side by side in one process.

    make bench                       # PostgreSQL, DATABASE_URL=postgres://.../sdif_bench
    .venv/bin/python bench/run.py --rounds 15 --portfolio-goals 200   # quicker
    .venv/bin/python bench/run.py --skip-r3          # without the history databases
    .venv/bin/python bench/run.py --history-rows 200000 --explain

This machine is noisy, so absolute times mean little: each ratio compares two
operations run in the same round, in rotating order, and the table reports medians
(and p95) over the rounds. The data are made by ``manage.py generate_demo_data``, so
they carry history written through the normal path. Page query counts are taken once
on a small goal and once on a large one and must be equal. Everything runs in one
transaction that is rolled back at the end, so runs do not pile data up — except R3,
which needs a million history rows and keeps them in databases of its own
(``bench/r3.py``: made once, reused by later runs).

``measure()`` does the work and returns the table's lines; ``main()`` sets Django up,
runs it and prints. The test suite runs ``measure()`` at a tiny size.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# R3's sizes (bench/r3.py; repeated here so --help needs no Django).
SMALL_ROWS = 10_000
LARGE_ROWS = 1_000_000
TRIVIAL_URL = "/accounts/password_change/done/"
BENCH_USERNAME = "bench-admin"

# name -> (target, "ratio" or "ms"); R1 at most 5 with 50 milestones (issue 13).
TARGETS = {"R1": 5.0, "R2": 1.5, "R3": 1.5, "R4": 3.0, "portfolio_p95_ms": 300.0}


@dataclass(frozen=True)
class Sizes:
    rounds: int = 15
    dashboard_milestones: int = 50
    small_milestones: int = 10
    updates_per_milestone: int = 3
    portfolio_goals: int = 1000
    portfolio_milestones: int = 2
    seed: int = 2026
    # The quality report reads every goal: its queries are counted at this many goals,
    # then at them all (``portfolio_goals``).
    quality_small_goals: int = 10


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _generate(goals: int, milestones: int, updates: int, seed: int):
    from django.core.management import call_command

    from strategies.models import Goal

    before = set(Goal.objects.values_list("pk", flat=True))
    call_command(
        "generate_demo_data",
        goals=goals,
        milestones_per_goal=milestones,
        updates_per_milestone=updates,
        seed=seed,
        stdout=io.StringIO(),
        stderr=sys.stderr if goals > 20 else io.StringIO(),
    )
    return list(Goal.objects.exclude(pk__in=before).order_by("pk"))


def _bench_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(username=BENCH_USERNAME).first()
    if user is None:
        user = user_model.objects.create_superuser(BENCH_USERNAME, "bench@example.gov", None)
    client = Client()
    client.force_login(user)
    return client, user


def _page_urls(goal) -> dict[str, str]:
    from django.urls import reverse

    milestone = goal.milestones.order_by("position").first()
    return {
        "portfolio": reverse("portfolio"),
        "dashboard (by strategy)": goal.get_absolute_url(),
        "dashboard (by quarter)": goal.get_absolute_url() + "?group=quarter",
        "milestone": milestone.get_absolute_url(),
        "plan": goal.get_plan_url(),
        "my goals": reverse("my_goals"),
        "audit log": reverse("audit_log"),
        "timeline (milestone)": reverse(
            "milestone_history", kwargs={"slug": goal.slug, "pk": milestone.pk}
        ),
    }


def _quality_urls() -> dict[str, str]:
    from django.urls import reverse

    return {
        "quality report": reverse("quality_report"),
        "quality report CSV": reverse("quality_export"),
    }


def _query_counts(client, urls: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{name} ({url}) answered {response.status_code}")
        counts[name] = len(queries)
    return counts


def _get(client, url):
    def run():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return run


def _status_updates(milestone, user):
    """A status update through the service, alternating two statuses."""
    from milestones.models import Status
    from milestones.quarters import reporting_quarter
    from milestones.services import record_status_update

    state = {"milestone": milestone, "turn": 0}
    statuses = [Status.ON_TRACK, Status.NOT_STARTED]

    def run():
        current = state["milestone"]
        state["turn"] += 1
        update = record_status_update(
            milestone=current,
            user=user,
            status=statuses[state["turn"] % 2],
            comment=f"Bench update {state['turn']}.",
            period=reporting_quarter(current.goal),
            expected_version=current.version,
        )
        state["milestone"] = update.milestone

    return run


def _plain_saves(milestone):
    state = {"turn": 0}

    def run():
        state["turn"] += 1
        milestone.comment = f"Bench save {state['turn']}."
        milestone.save()

    return run


def _time_rounds(operations: dict, rounds: int) -> dict[str, list[float]]:
    """Each round runs every operation once, starting one further along each time."""
    names = list(operations)
    timings = {name: [] for name in names}
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            operations[name]()
            timings[name].append((time.perf_counter() - start) * 1000)
    return timings


def measure(sizes: Sizes, r3=None) -> list[str]:
    """Make the data, run the rounds, return the table as lines of text; ``r3`` (a
    ``bench.r3.R3Result``, measured beforehand on its own databases) fills the R3 rows."""
    from django.db import connection

    from audit.history import recorded_change
    from bench import clearance

    client, user = _bench_client()
    # The small goal first: query counts at small data are taken before the rest exists.
    (small_goal,) = _generate(1, sizes.small_milestones, 1, sizes.seed)
    small_counts = _query_counts(client, _page_urls(small_goal))
    # The quality report at 10 goals (the small one and nine more), then at them all.
    from strategies.models import Goal

    quality_goals = max(sizes.quality_small_goals - Goal.objects.count(), 0)
    quality_small = _generate(quality_goals, 2, 1, sizes.seed + 2) if quality_goals else []
    small_quality_goals = Goal.objects.count()
    small_counts.update(_query_counts(client, _quality_urls()))
    # The Clearance page at the same 10 goals, each with an update waiting (bench/clearance.py).
    reviewer = clearance.reviewer_client()
    small_waiting = clearance.add_waiting_updates()
    small_counts.update(clearance.query_counts(client, reviewer, _query_counts))
    (goal,) = _generate(1, sizes.dashboard_milestones, sizes.updates_per_milestone, sizes.seed)
    others = max(sizes.portfolio_goals - 2 - len(quality_small), 1)
    _generate(others, sizes.portfolio_milestones, 1, sizes.seed + 1)
    from strategies.models import Goal

    total_goals = Goal.objects.count()
    large_urls = _page_urls(goal)
    large_counts = _query_counts(client, large_urls)
    large_counts.update(_query_counts(client, _quality_urls()))
    large_waiting = clearance.add_waiting_updates()
    large_counts.update(clearance.query_counts(client, reviewer, _query_counts))

    from sdif_tracker.pages.portfolio import PORTFOLIO_PAGE_SIZE

    last_page = -(-total_goals // PORTFOLIO_PAGE_SIZE)
    update_target, save_target = goal.milestones.order_by("-position")[:2]
    operations = {
        "dashboard": _get(client, goal.get_absolute_url()),
        "trivial": _get(client, TRIVIAL_URL),
        "admin changelist": _get(
            client, f"/admin/milestones/milestone/?goal__id__exact={goal.pk}"
        ),
        "portfolio": _get(client, large_urls["portfolio"]),
        # The last page: the page query's OFFSET is at its largest.
        "portfolio, last page": _get(client, f"{large_urls['portfolio']}?page={last_page}"),
        "status update (service)": _status_updates(update_target, user),
        "plain save()": _plain_saves(save_target),
    }
    with recorded_change(user=user, source="bench", reason="Benchmark"):
        timings = _time_rounds(operations, sizes.rounds)
    medians = {name: _median(values) for name, values in timings.items()}
    p95s = {name: _p95(values) for name, values in timings.items()}

    def ratio_line(label, top, bottom, target):
        ratio = medians[top] / medians[bottom]
        verdict = "pass" if ratio <= target else "MISS"
        return (
            f"{label:<40} {medians[top]:8.1f} {medians[bottom]:8.1f} {ratio:7.2f}"
            f"  ≤ {target:<4} {verdict}"
        )

    rounds = sizes.rounds
    lines = [
        f"SDIF Tracker benchmark — {connection.vendor}, {rounds} interleaved round(s), "
        f"medians in ms",
        f"data: dashboard goal {sizes.dashboard_milestones} milestones × "
        f"{sizes.updates_per_milestone} updates; {total_goals} goals in all",
        "",
        f"{'ratio':<40} {'median':>8} {'÷ median':>8} {'ratio':>7}  target",
        ratio_line("R1 dashboard ÷ trivial view", "dashboard", "trivial", TARGETS["R1"]),
        ratio_line(
            "R2 dashboard ÷ admin changelist", "dashboard", "admin changelist", TARGETS["R2"]
        ),
        *(r3.ratio_lines if r3 else ["R3: not measured in this run (--skip-r3)"]),
        ratio_line(
            "R4 status update ÷ plain save()",
            "status update (service)",
            "plain save()",
            TARGETS["R4"],
        ),
        "",
        *(
            f"{name} ({total_goals} goals, {PORTFOLIO_PAGE_SIZE} a page): median "
            f"{medians[name]:.1f} ms, p95 {p95s[name]:.1f} ms (target p95 ≤ "
            f"{TARGETS['portfolio_p95_ms']:.0f} ms: "
            f"{'pass' if p95s[name] <= TARGETS['portfolio_p95_ms'] else 'MISS'}), "
            f"{large_counts['portfolio']} queries"
            for name in ("portfolio", "portfolio, last page")
        ),
        "",
        f"{'SQL queries per page':<28} {'small':>6} {'large':>6}  equal",
    ]
    for name in small_counts:
        small, large = small_counts[name], large_counts[name]
        lines.append(f"{name:<28} {small:>6} {large:>6}  {'✓' if small == large else '✗'}")
    lines += [
        f"(small: a goal of {sizes.small_milestones} milestones × 1 update; large: a goal of "
        f"{sizes.dashboard_milestones} × {sizes.updates_per_milestone} and "
        f"{total_goals} goals)",
        f"(quality report: {small_quality_goals} goals, then {total_goals})",
        f"(clearance: {small_waiting} goals with an update waiting, then {large_waiting})",
        "",
        f"{'operation':<28} {'median':>8} {'p95':>8}",
    ]
    lines += [f"{name:<28} {medians[name]:8.1f} {p95s[name]:8.1f}" for name in operations]
    if r3:
        lines += ["", *r3.detail_lines, *r3.explain_lines]
    return lines


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdif_tracker.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    # The pages are measured as an administrator already past sign-in; the second
    # factor's gate (accounts/middleware.py) is sign-in's cost, not a page's.
    os.environ.setdefault("MFA_REQUIRED_FOR_ADMINS", "0")
    import django

    django.setup()


def client_settings():
    """The test client talks to "testserver" over plain HTTP; templates need no manifest."""
    from django.conf import settings
    from django.test.utils import override_settings

    return override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=Sizes.rounds)
    parser.add_argument("--portfolio-goals", type=int, default=Sizes.portfolio_goals)
    parser.add_argument("--seed", type=int, default=Sizes.seed)
    parser.add_argument(
        "--history-rows",
        type=int,
        default=LARGE_ROWS,
        help=f"R3's large size (its small one is {SMALL_ROWS:,} history rows)",
    )
    parser.add_argument("--skip-r3", action="store_true", help="no R3 (and no databases)")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the R3 audit queries"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.portfolio_goals < 3:
        parser.error("--rounds must be at least 1 and --portfolio-goals at least 3")
    if args.history_rows <= SMALL_ROWS:
        parser.error(f"--history-rows must be above {SMALL_ROWS:,}")

    setup_django()
    from django.db import connection, transaction

    from bench.r3 import R3Sizes, run_r3

    if not args.skip_r3 and connection.vendor != "postgresql":
        parser.error("R3 needs PostgreSQL (DATABASE_URL=postgres://...); or pass --skip-r3")

    with client_settings():
        sizes = Sizes(rounds=args.rounds, portfolio_goals=args.portfolio_goals, seed=args.seed)
        r3 = None
        if not args.skip_r3:
            r3 = run_r3(
                R3Sizes(large_rows=args.history_rows, rounds=args.rounds, seed=args.seed),
                explain_audit=args.explain,
            )
        # One transaction, rolled back: every run starts from the same (migrated) database
        # and leaves it as it found it.
        with transaction.atomic():
            lines = measure(sizes, r3)
            transaction.set_rollback(True)
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
