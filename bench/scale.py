"""The pages at the issue's largest sizes, on a database filled beforehand.

    DATABASE_URL=postgres://.../sdif_scale .venv/bin/python bench/scale.py [--rounds 15]

``bench/run.py`` measures ratios on data it makes and rolls back; this script reads a
database already filled to the sizes the issue names (1,000 goals, 100,000 milestones,
1,000,000 history rows; README "Performance" shows the commands) and prints, for each
page a reader opens, its median and p95 over interleaved rounds and its SQL query count.
It writes nothing but a benchmark superuser (created once, with no password).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (  # noqa: E402 - after the project is on the path
    _bench_client,
    _get,
    _p95,
    _query_counts,
    _time_rounds,
    client_settings,
    setup_django,
)


def measure(rounds: int) -> list[str]:
    from django.db import connection
    from django.urls import reverse

    from milestones.models import Milestone
    from sdif_tracker.pages.portfolio import PORTFOLIO_PAGE_SIZE
    from strategies.models import Goal

    client, _user = _bench_client()

    goals = Goal.objects.count()
    milestones = Milestone.objects.count()
    history = sum(model.objects.count() for model in _history_models())
    goal = (
        Goal.objects.filter(slug__startswith="demo-")
        .order_by("-pk")  # the newest: the last the bulk path added to, if any
        .first()
    )
    if goal is None:
        raise SystemExit("No demo goal: fill the database first (README, Performance).")
    milestone = goal.milestones.order_by("-version").first()
    last_page = -(-goals // PORTFOLIO_PAGE_SIZE)
    pages = {
        "portfolio": reverse("portfolio"),
        "portfolio, last page": f"{reverse('portfolio')}?page={last_page}",
        "dashboard": goal.get_absolute_url(),
        "plan": goal.get_plan_url(),
        "milestone": milestone.get_absolute_url(),
        "timeline (milestone)": reverse(
            "milestone_history", kwargs={"slug": goal.slug, "pk": milestone.pk}
        ),
        "audit log": reverse("audit_log"),
        "audit log (goal filter)": f"{reverse('audit_log')}?goal={goal.pk}",
    }
    counts = _query_counts(client, pages)
    timings = _time_rounds({name: _get(client, url) for name, url in pages.items()}, rounds)
    names = list(pages)

    lines = [
        f"SDIF Tracker at scale — {connection.vendor}, {rounds} interleaved round(s)",
        f"data: {goals:,} goals, {milestones:,} milestones, {history:,} history rows; "
        f"dashboard goal {goal.slug} ({goal.milestones.count()} milestones), milestone "
        f"{milestone.pk} ({milestone.history.count()} versions)",
        "",
        f"{'page':<26} {'median ms':>10} {'p95 ms':>8} {'queries':>8}",
    ]
    for name in names:
        lines.append(
            f"{name:<26} {statistics.median(timings[name]):10.1f} "
            f"{_p95(timings[name]):8.1f} {counts[name]:8d}"
        )
    return lines


def _history_models():
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in {"strategies", "milestones"}
        and model.__name__.startswith("Historical")
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    setup_django()
    with client_settings():
        print("\n".join(measure(args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
