"""The benchmark table of issue 7: ratios measured side by side in one process.

    make bench                       # PostgreSQL, DATABASE_URL=postgres://.../sdif_bench
    .venv/bin/python bench/run.py --rounds 15 --portfolio-goals 1000

This machine is noisy, so absolute times mean little: each ratio compares two
operations run in the same round, in rotating order, and the table reports medians
(and p95) over the rounds. The data are made by ``manage.py generate_demo_data``, so
they carry history written through the normal path. Page query counts are taken once
on a small goal and once on a large one and must be equal. Everything runs in one
transaction that is rolled back at the end, so runs do not pile data up.

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
TRIVIAL_URL = "/accounts/password_change/done/"
BENCH_USERNAME = "bench-admin"

# name -> (target, "ratio" or "ms")
TARGETS = {"R1": 3.0, "R2": 1.5, "R3": 1.5, "R4": 3.0, "portfolio_p95_ms": 300.0}


@dataclass(frozen=True)
class Sizes:
    rounds: int = 15
    dashboard_milestones: int = 50
    small_milestones: int = 10
    updates_per_milestone: int = 3
    portfolio_goals: int = 200
    portfolio_milestones: int = 2
    seed: int = 2026


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
    from milestones.services import record_status_update
    from strategies.periods import current_quarter

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
            period=current_quarter(),
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


def measure(sizes: Sizes) -> list[str]:
    """Make the data, run the rounds, return the table as lines of text."""
    from django.db import connection

    from strategies.history import recorded_change

    client, user = _bench_client()
    # The small goal first: query counts at small data are taken before the rest exists.
    (small_goal,) = _generate(1, sizes.small_milestones, 1, sizes.seed)
    small_counts = _query_counts(client, _page_urls(small_goal))
    (goal,) = _generate(1, sizes.dashboard_milestones, sizes.updates_per_milestone, sizes.seed)
    others = max(sizes.portfolio_goals - 2, 1)
    _generate(others, sizes.portfolio_milestones, 1, sizes.seed + 1)
    from strategies.models import Goal

    total_goals = Goal.objects.count()
    large_urls = _page_urls(goal)
    large_counts = _query_counts(client, large_urls)

    update_target, save_target = goal.milestones.order_by("-position")[:2]
    operations = {
        "dashboard": _get(client, goal.get_absolute_url()),
        "trivial": _get(client, TRIVIAL_URL),
        "admin changelist": _get(
            client, f"/admin/milestones/milestone/?goal__id__exact={goal.pk}"
        ),
        "portfolio": _get(client, large_urls["portfolio"]),
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
        "R3: not measured in this run (needs 1,000,000 history rows)",
        ratio_line(
            "R4 status update ÷ plain save()",
            "status update (service)",
            "plain save()",
            TARGETS["R4"],
        ),
        "",
        f"portfolio ({total_goals} goals): median {medians['portfolio']:.1f} ms, "
        f"p95 {p95s['portfolio']:.1f} ms (target p95 ≤ {TARGETS['portfolio_p95_ms']:.0f} ms: "
        f"{'pass' if p95s['portfolio'] <= TARGETS['portfolio_p95_ms'] else 'MISS'}), "
        f"{large_counts['portfolio']} queries",
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
        "",
        f"{'operation':<28} {'median':>8} {'p95':>8}",
    ]
    lines += [f"{name:<28} {medians[name]:8.1f} {p95s[name]:8.1f}" for name in operations]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=Sizes.rounds)
    parser.add_argument("--portfolio-goals", type=int, default=Sizes.portfolio_goals)
    parser.add_argument("--seed", type=int, default=Sizes.seed)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.portfolio_goals < 3:
        parser.error("--rounds must be at least 1 and --portfolio-goals at least 3")

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdif_tracker.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction
    from django.test.utils import override_settings

    # The test client talks to "testserver" over plain HTTP; templates need no manifest.
    with override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        sizes = Sizes(rounds=args.rounds, portfolio_goals=args.portfolio_goals, seed=args.seed)
        # One transaction, rolled back: every run starts from the same (migrated) database
        # and leaves it as it found it.
        with transaction.atomic():
            lines = measure(sizes)
            transaction.set_rollback(True)
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
