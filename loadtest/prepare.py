"""Set up a load-test database: ``python -m loadtest.prepare`` (settings from the environment).

Migrates, imports the SDIF plan, generates a few demo goals, collects static files and
creates ``LOADTEST_LEADERS`` leaders and one reviewer on the SDIF goal (one password,
hashed once). With demo goals, the first is made public with a published quarter, whose
PDF anonymous clients download. Prints a JSON description of what the driver needs on
its last line.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from urllib.parse import urlencode

import django

PASSWORD = "load-test-password-2026"  # noqa: S105 - throwaway database only
GOAL = "sdif"


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from audit.history import get_system_user, recorded_change
    from milestones.models import Milestone, StatusUpdate
    from strategies.models import Goal, Membership, Role

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0)
    plan = Path(settings.BASE_DIR, "plans/sdif-fy19.yaml")
    call_command("import_plan", str(plan), if_absent=True, stdout=quiet)
    goals = int(os.environ.get("LOADTEST_DEMO_GOALS", "3"))
    if goals:
        call_command(
            "generate_demo_data",
            goals=goals,
            milestones_per_goal=10,
            updates_per_milestone=1,
            seed=2026,
            stdout=quiet,
            stderr=quiet,
        )
    if os.environ.get("LOADTEST_COLLECTSTATIC", "1") == "1":
        call_command("collectstatic", interactive=False, verbosity=0)

    goal = Goal.objects.get(slug=GOAL)
    user_model = get_user_model()
    hashed = make_password(PASSWORD)
    leaders = [
        f"load-leader-{n:02d}" for n in range(int(os.environ.get("LOADTEST_LEADERS", "20")))
    ]
    with recorded_change(
        user=get_system_user(), reason="Load test users", source="command:loadtest"
    ):
        for username, role in [
            *((name, Role.LEADER) for name in leaders),
            ("load-reviewer", Role.REVIEWER),
        ]:
            user, _ = user_model.objects.get_or_create(username=username)
            user.password = hashed
            user.save()
            Membership.objects.get_or_create(user=user, goal=goal, defaults={"role": role})

    # Sessions made here, as a sign-in would: 20 password hashes at each start would cost
    # seconds of CPU (the driver still signs the reviewer in through the login form).
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    sessions = {}
    for user in user_model.objects.filter(username__in=[*leaders, "load-reviewer"]):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions[user.username] = session.session_key

    milestones = list(Milestone.objects.filter(goal=goal).order_by("pk"))
    public = publish_public_goal() if goals else None
    description = {
        "password": PASSWORD,
        "sessions": sessions,
        "leaders": leaders,
        "reviewer": "load-reviewer",
        "goal": GOAL,
        "milestones": [{"pk": m.pk, "url": m.get_absolute_url()} for m in milestones],
        "other_goals": list(Goal.objects.exclude(pk=goal.pk).values_list("slug", flat=True)),
        "status_update_table": StatusUpdate._meta.db_table,
        "milestone_history_table": Milestone.history.model._meta.db_table,
        # The published quarter's PDF of a public goal: what anyone may download.
        "public_pdf": public,
    }
    print(json.dumps(description))


def _chain_user(goal, role):
    """The load test's user for a step of the review chain: a site administrator for the
    goal team's steps (``role`` None), else a holder of the agency-wide ``role``."""
    from django.contrib.auth import get_user_model

    from audit.history import get_system_user, recorded_change
    from strategies.models import AgencyRole

    users = get_user_model()._default_manager
    if role is None:
        user, _ = users.get_or_create(username="loadtest-admin", defaults={"is_staff": True})
        return users.get(pk=user.pk)
    user, _ = users.get_or_create(username=f"loadtest-{role}")
    with recorded_change(
        user=get_system_user(), reason="Load test: the review chain", source="command:loadtest"
    ):
        AgencyRole.objects.get_or_create(user=user, agency=goal.agency, role=role)
    return users.get(pk=user.pk)


def publish_public_goal() -> str:
    """Make the first demo goal public and publish a quarter of it; returns the URL of
    that quarter's PDF, which anonymous visitors may download."""
    from audit.history import get_system_user, recorded_change
    from milestones.models import Risk
    from milestones.quarters import reporting_quarter
    from milestones.review import TRANSITIONS, Action
    from milestones.services import publish_quarter, save_progress_summary
    from sdif_tracker.access import permissions_for
    from strategies.models import AgencyRoleKind, Goal, Sensitivity

    system = get_system_user()
    goal = Goal.objects.get(slug="demo-1")
    with recorded_change(
        user=system, reason="Load test: a public goal", source="command:loadtest"
    ):
        goal.sensitivity = Sensitivity.PUBLIC
        goal.full_clean()
        goal.save()
    # The quarter the goal reports on: the one a quarterly update is published for.
    period = reporting_quarter(goal)
    summary = save_progress_summary(
        goal=goal,
        user=system,
        period=period,
        summary="Load test: the published quarter.",
        details={"risk": Risk.LOW},
    )
    # Published the way an agency publishes: through its review chain, each step taken by
    # a user holding that step's role.
    steps = (
        (Action.SUBMIT, None),
        (Action.APPROVE, AgencyRoleKind.PERFORMANCE_OFFICE),
        (Action.CLEAR, AgencyRoleKind.EXAMINER),
    )
    for action, role in steps:
        user = _chain_user(goal, role)
        summary.goal = goal
        summary = TRANSITIONS[action](
            summary=summary,
            user=user,
            permissions=permissions_for(user, goal),
            expected_version=summary.version,
        )
    publish_quarter(goal=goal, user=_chain_user(goal, None), period=period)
    return f"/goals/{goal.slug}/plan.pdf?" + urlencode({"quarter": str(period)})


if __name__ == "__main__":
    main()
