"""The plan as published, built once for the plan page, a published quarter and the PDF:
the goal, strategies, progress summaries, milestones and indicators, with each
milestone's change since the previous quarter; six queries whatever its size."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Prefetch,
)

from milestones.models import (
    Milestone,
    ProgressSummary,
)
from sdif_tracker.pages.asof import PlanAsOf, SinceLastQuarter
from sdif_tracker.pages.rows import MilestoneRow, milestone_rows
from strategies.models import Goal, IndicatorValue, Strategy


@dataclass
class PublishedPlan:
    goal: Goal
    strategies: list[Strategy]
    progress: list[ProgressSummary]
    rows: list[MilestoneRow]  # the milestones in plan order
    indicators: list  # each with ``period_values``, oldest period first
    since: SinceLastQuarter | None = None


def published_plan(goal: Goal) -> PublishedPlan:
    """The goal's action plan as published, with each milestone's change since the
    previous quarter: six queries whatever its size."""
    strategies = list(goal.strategies.order_by("number"))
    milestones = list(
        Milestone.objects.filter(goal=goal).select_related("strategy").order_by("position", "id")
    )
    indicators = list(
        goal.indicators.order_by("position", "id").prefetch_related(
            Prefetch("values", queryset=IndicatorValue.objects.order_by("period"))
        )
    )
    for indicator in indicators:
        indicator.period_values = list(indicator.values.all())
    since, rows = milestone_rows(goal, milestones, strategies, None)
    return PublishedPlan(
        goal=goal,
        strategies=strategies,
        progress=list(ProgressSummary.objects.filter(goal=goal).order_by("-period")),
        rows=rows,
        indicators=indicators,
        since=since,
    )


def published_plan_as_of(plan: PlanAsOf) -> PublishedPlan:
    """The published plan in the view ``plan.moment`` (rebuilt with progress and
    indicators), with the change since the plan as reported for the quarter before."""
    since, rows = milestone_rows(plan.goal, plan.milestones, plan.strategies, plan.moment)
    return PublishedPlan(
        goal=plan.goal,
        strategies=plan.strategies,
        progress=plan.progress,
        rows=rows,
        indicators=plan.indicators,
        since=since,
    )
