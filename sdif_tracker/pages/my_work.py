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
from sdif_tracker.access import is_admin
from sdif_tracker.pages.dashboard import UNDATED_KEY
from strategies.models import EDITOR_ROLES, Goal, Membership, Role
from strategies.periods import FiscalPeriod, current_quarter


@dataclass
class MyWork:
    quarter: FiscalPeriod
    goals: list[Goal]  # each with ``role``, ``has_summary``, ``perms``
    milestones: list[Milestone]  # each with ``overdue_flag``


def my_work(user, today=None) -> MyWork:
    """The goals ``user`` keeps current and their open milestones with no status update
    for the current reporting quarter, overdue first: three queries whatever the size."""
    quarter = current_quarter(today)
    goals = Goal.objects.select_related("agency").order_by("title")
    if is_admin(user):
        goals = goals.visible_to(user)
    else:
        goals = goals.filter(
            pk__in=Membership.objects.filter(user=user, role__in=EDITOR_ROLES).values("goal")
        )
    goals = list(
        goals.annotate(
            has_summary=Exists(
                ProgressSummary.objects.filter(goal=OuterRef("pk"), period=quarter)
            ),
            role=Subquery(
                Membership.objects.filter(goal=OuterRef("pk"), user=user).values("role")[:1]
            ),
        )
    )
    for goal in goals:
        goal.role_label = Role(goal.role).label if goal.role else _("Administrator")
        goal.can_write_summary = is_admin(user) or goal.role in (Role.LEADER, Role.DEPUTY)
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
    return MyWork(quarter=quarter, goals=goals, milestones=milestones)
