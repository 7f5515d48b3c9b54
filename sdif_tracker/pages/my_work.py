"""A leader's quarterly work: the goals they keep current and their open milestones with
no status update for the current reporting quarter, overdue first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from milestones.models import (
    CLOSED_STATUSES,
    Milestone,
    ProgressSummary,
    StatusUpdate,
    overdue_q,
)
from sdif_tracker import access
from sdif_tracker.pages.dashboard import UNDATED_KEY
from strategies.models import Goal, Membership, Role
from strategies.periods import FiscalPeriod, current_quarter


@dataclass(frozen=True)
class MyGoal:
    """A goal the user keeps current, with their role's name and what they may do."""

    goal: Goal  # with ``has_summary``: a summary exists for the quarter
    role_label: str
    perms: access.GoalPermissions


@dataclass
class MyWork:
    quarter: FiscalPeriod
    goals: list[MyGoal]
    milestones: list[Milestone]  # each with ``overdue_flag``


def my_work(user, today=None) -> MyWork:
    """The goals ``user`` keeps current and their open milestones with no status update
    for the current reporting quarter, overdue first: three queries whatever the size."""
    quarter = current_quarter(today)
    goals = list(
        access.editable_goals(user)
        .select_related("agency")
        .order_by("title")
        .annotate(
            has_summary=Exists(
                ProgressSummary.objects.filter(goal=OuterRef("pk"), period=quarter)
            ),
            # The role's name only; what the user may do is ``access``'s decision.
            role=Subquery(
                Membership.objects.filter(goal=OuterRef("pk"), user=user).values("role")[:1]
            ),
        )
    )
    rows = [
        MyGoal(
            goal=goal,
            role_label=Role(goal.role).label if goal.role else _("Administrator"),
            perms=access.permissions_for(user, goal),
        )
        for goal in goals
    ]
    updated_this_quarter = StatusUpdate.objects.filter(milestone=OuterRef("pk"), period=quarter)
    milestones = list(
        Milestone.objects.filter(goal__in=[g.pk for g in goals])
        .exclude(status__in=CLOSED_STATUSES)
        .with_effective_due()
        .annotate(
            updated_now=Exists(updated_this_quarter),
            overdue_flag=Case(
                When(overdue_q(today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            # Undated milestones last on every database (NULL sorts first on SQLite).
            due_order=Coalesce(
                "effective_due_key", Value(UNDATED_KEY), output_field=IntegerField()
            ),
        )
        .filter(updated_now=False)
        .select_related("goal", "strategy")
        .order_by("-overdue_flag", "due_order", "goal__title", "position", "pk")
    )
    return MyWork(quarter=quarter, goals=rows, milestones=milestones)
