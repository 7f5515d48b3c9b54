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
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench-admin"


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(rounds: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from milestones.models import Milestone
    from sdif_tracker.dashboard import PORTFOLIO_PAGE_SIZE
    from strategies.history import get_system_user, recorded_change
    from strategies.models import Goal

    user_model = get_user_model()
    user = user_model.objects.filter(username=USERNAME).first()
    if user is None:
        with recorded_change(user=get_system_user(), reason="Benchmark user"):
            user = user_model.objects.create_superuser(USERNAME, "bench@example.gov", None)
    client = Client()
    client.force_login(user)

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
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name} ({url}) answered {response.status_code}")
        counts[name] = len(queries)

    timings = {name: [] for name in pages}
    names = list(pages)
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            client.get(pages[name])
            timings[name].append((time.perf_counter() - start) * 1000)

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

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdif_tracker.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import override_settings

    with override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        print("\n".join(measure(args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
