"""The Clearance page in ``bench/run.py``: its query count at 10 goals and at them all.

Every goal gets a quarterly update waiting somewhere in its review chain (submitted,
approved, cleared, or returned with a comment, in turn), so each group of the page has
rows; it is read by a reviewer who is the performance office and the examiner of every
agency, and by the benchmark's superuser (the goal team's group: ready to publish and
returned).
"""

from __future__ import annotations

REVIEWER_USERNAME = "bench-reviewer"


def reviewer_client():
    """A client signed in as the benchmark's reviewer (created once, no password)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _created = get_user_model().objects.get_or_create(
        username=REVIEWER_USERNAME, defaults={"email": "reviewer@example.gov"}
    )
    client = Client()
    client.force_login(user)
    return client


def add_waiting_updates() -> int:
    """Give every goal without one an update waiting in the chain (for the first quarter
    of its period, where it has none yet), and the reviewer both agency-wide review roles
    over every agency; returns how many goals have one."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from django.utils import timezone

    from audit.history import recorded_change
    from milestones.models import REVIEW_LOCKED_STATES, ProgressSummary, ReviewState
    from strategies.models import Agency, AgencyRole, AgencyRoleKind, Goal
    from strategies.periods import FiscalPeriod

    reviewer = get_user_model().objects.get(username=REVIEWER_USERNAME)
    for agency in Agency.objects.all():
        for role in (AgencyRoleKind.PERFORMANCE_OFFICE, AgencyRoleKind.EXAMINER):
            AgencyRole.objects.get_or_create(user=reviewer, agency=agency, role=role)
    states = [
        (ReviewState.SUBMITTED, ""),
        (ReviewState.APPROVED, ""),
        (ReviewState.CLEARED, ""),
        (ReviewState.DRAFT, "Name the data source of each indicator."),
    ]
    waiting = ProgressSummary.objects.filter(
        Q(review_state__in=REVIEW_LOCKED_STATES)
        | (Q(review_state=ReviewState.DRAFT) & ~Q(returned_comment=""))
    )
    goals = Goal.objects.exclude(pk__in=waiting.values("goal")).order_by("pk")
    with recorded_change(user=reviewer, source="bench", reason="Benchmark"):
        for index, goal in enumerate(goals):
            period = FiscalPeriod(goal.first_fiscal_year, 1)
            if ProgressSummary.objects.filter(goal=goal, period=period).exists():
                continue
            state, comment = states[index % len(states)]
            ProgressSummary.objects.create(
                goal=goal,
                period=period,
                summary="- Benchmark update.",
                review_state=state,
                review_state_at=timezone.now(),
                returned_comment=comment,
            )
    return waiting.values("goal").distinct().count()


def clearance_urls() -> dict[str, str]:
    from django.urls import reverse

    return {"clearance": reverse("clearance")}


def query_counts(admin_client, reviewer, count) -> dict[str, int]:
    """The page's query counts for the reviewer and the superuser (``count``:
    ``bench.run._query_counts``)."""
    url = clearance_urls()["clearance"]
    return {
        **count(reviewer, {"clearance (reviewer)": url}),
        **count(admin_client, {"clearance (admin)": url}),
    }
