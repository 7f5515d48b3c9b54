"""A leader's quarterly work: the active goals they keep current, each with the quarter it
reports on, and their open milestones with no status update for their goal's reporting
quarter, overdue first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from milestones import review
from milestones.models import (
    CLOSED_STATUSES,
    Milestone,
    ProgressSummary,
    due_this_quarter_q,
    overdue_q,
    updated_for_quarter,
)
from milestones.quarters import (
    goals_by_quarter,
    per_goal_q,
    reporting_is_done,
    reporting_key_case,
    reporting_quarter,
    with_reporting_quarter,
)
from sdif_tracker import access
from sdif_tracker.pages.dashboard import UNDATED_KEY
from sdif_tracker.pages.review_status import Standing, Step, may_take, standing
from strategies.models import Goal, Membership, Role
from strategies.periods import FiscalPeriod


@dataclass(frozen=True)
class MyGoal:
    """A goal the user keeps current, with their role's name, what they may do, the
    quarter it reports on and whether that quarter's summary of progress is written."""

    goal: Goal
    role_label: str
    perms: access.GoalPermissions
    quarter: FiscalPeriod
    has_summary: bool
    # Where that quarter's update stands in its review chain, and whose move it is.
    update: Standing | None = None

    @property
    def next_action(self) -> str:
        """What this user does next in the update's review chain ("Submit", "Returned:
        fix and resubmit", "Publish"), or "" when it is not their move (writing the
        update has its own button)."""
        if self.update is None or self.update.step == Step.WRITE:
            return ""
        return self.update.step.action if may_take(self.update.step, self.perms) else ""


@dataclass
class MyWork:
    goals: list[MyGoal]
    # Each with ``reporting_quarter`` (its goal's), ``overdue_flag`` and ``due_now_flag``.
    milestones: list[Milestone]

    @property
    def quarter(self) -> FiscalPeriod | None:
        """The reporting quarter of all the user's goals when they share one (usually),
        else None."""
        quarters = {row.quarter for row in self.goals}
        return quarters.pop() if len(quarters) == 1 else None


def my_work(user) -> MyWork:
    """The active goals ``user`` keeps current and their open milestones with no status
    update for their goal's reporting quarter, overdue first: four queries whatever the
    size (goals, their summaries, milestones, and the user's roles)."""
    goals = [
        goal
        for goal in with_reporting_quarter(access.editable_goals(user))
        .select_related("agency")
        .order_by("title")
        .annotate(
            # The role's name only; what the user may do is ``access``'s decision.
            role=Subquery(
                Membership.objects.filter(goal=OuterRef("pk"), user=user).values("role")[:1]
            ),
        )
        # A goal whose every quarter is published has nothing left to update.
        if not reporting_is_done(goal)
    ]
    # Each goal's update for its reporting quarter, in one query.
    quarters = {goal.pk: reporting_quarter(goal) for goal in goals}
    written = {
        summary.goal_id: summary
        for summary in ProgressSummary.objects.filter(goal__in=list(quarters))
        if summary.period == quarters[summary.goal_id]
    }
    rows = [
        MyGoal(
            goal=goal,
            role_label=Role(goal.role).label if goal.role else _("Administrator"),
            perms=access.permissions_for(user, goal),
            quarter=quarters[goal.pk],
            has_summary=goal.pk in written,
            update=standing(
                written.get(goal.pk),
                goal.agency,
                quarters[goal.pk],
                url=review.review_url(goal, quarters[goal.pk]),
            ),
        )
        for goal in goals
    ]
    return MyWork(goals=rows, milestones=_milestones_to_update(goals))


def _milestones_to_update(goals: list[Goal]) -> list[Milestone]:
    """Open milestones of ``goals`` with no status update for their goal's reporting
    quarter, overdue first, then by due period: one query."""
    groups = goals_by_quarter(goals)
    milestones = list(
        Milestone.objects.filter(goal__in=[g.pk for g in goals])
        .exclude(status__in=CLOSED_STATUSES)
        .with_effective_due()
        .annotate(reporting_key=reporting_key_case(groups))
        .annotate(
            updated_now=updated_for_quarter(OuterRef("reporting_key")),
            overdue_flag=_flag(per_goal_q(groups, overdue_q)),
            due_now_flag=_flag(per_goal_q(groups, due_this_quarter_q)),
            # Undated milestones last on every database (NULL sorts first on SQLite).
            due_order=Coalesce(
                "effective_due_key", Value(UNDATED_KEY), output_field=IntegerField()
            ),
        )
        .filter(updated_now=False)
        .select_related("goal", "strategy")
        .order_by("-overdue_flag", "due_order", "goal__title", "position", "pk")
    )
    for milestone in milestones:
        milestone.reporting_quarter = FiscalPeriod.from_key(milestone.reporting_key)
    return milestones


def _flag(condition) -> Case:
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )
