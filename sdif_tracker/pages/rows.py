"""A milestone as the dashboard's and the plan's tables show it: the milestone and what its
row says about it in the reporting quarter shown (overdue, due this quarter, its change
since last quarter, deleted since), kept on a row object rather than on the model
instance; and milestones grouped by strategy, for every page that lists them that way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TypeVar

from milestones.models import Milestone
from milestones.quarters import reporting_quarter
from sdif_tracker.pages.asof import (
    Change,
    Moment,
    SinceLastQuarter,
    change_since_last_quarter,
    changes_since_last_quarter,
)
from strategies.models import Goal, Strategy
from strategies.periods import FiscalPeriod

Item = TypeVar("Item")


@dataclass
class MilestoneRow:
    milestone: Milestone
    overdue: bool = False  # its due period ended before the quarter shown began
    due_now: bool = False  # its due period ends within the quarter shown
    since: list[Change] = field(default_factory=list)  # since the previous quarter's end
    gone: bool = False  # deleted after the day shown: no link to a page that is gone


def milestone_rows(
    goal: Goal,
    milestones: list[Milestone],
    strategies: list[Strategy],
    shown: Moment | None,
    *,
    live_ids: set[int] | None = None,
) -> tuple[SinceLastQuarter, list[MilestoneRow]]:
    """A row for each of ``milestones`` — the plan at ``shown`` (None: now) — and the
    reference point of their changes; one query. ``live_ids``: those that still exist."""
    since, changes = changes_since_last_quarter(goal, milestones, strategies, shown)
    quarter = shown_quarter(goal, shown)
    rows = [
        MilestoneRow(
            milestone,
            overdue=milestone.is_overdue_in(quarter),
            due_now=milestone.is_due_in(quarter),
            since=changes[milestone.pk],
            gone=live_ids is not None and milestone.pk not in live_ids,
        )
        for milestone in milestones
    ]
    return since, rows


def shown_quarter(goal: Goal, shown: Moment | None) -> FiscalPeriod:
    """The reporting quarter a page reads "overdue" and "due this quarter" against: the
    quarter of the past view shown, or the goal's reporting quarter (never the date)."""
    return shown.quarter if shown is not None else reporting_quarter(goal)


def live_row(milestone: Milestone) -> MilestoneRow:
    """The row of one live milestone (the htmx row): two queries at most."""
    quarter = reporting_quarter(milestone.goal)
    return MilestoneRow(
        milestone,
        overdue=milestone.is_overdue_in(quarter),
        due_now=milestone.is_due_in(quarter),
        since=change_since_last_quarter(milestone),
    )


def group_by_strategy(
    items: Iterable[Item],
    strategies: list[Strategy],
    *,
    keep_empty: bool,
    strategy_id: Callable[[Item], int | None] = attrgetter("strategy_id"),
) -> list[tuple[Strategy | None, list[Item]]]:
    """``items`` under each of ``strategies`` in the order given (those with none left out
    unless ``keep_empty``), then those aligned to no strategy (None) if there are any."""
    by_strategy: dict[int | None, list[Item]] = defaultdict(list)
    for item in items:
        by_strategy[strategy_id(item)].append(item)
    groups = [(s, by_strategy[s.pk]) for s in strategies if keep_empty or by_strategy[s.pk]]
    if by_strategy[None]:
        groups.append((None, by_strategy[None]))
    return groups
