"""The goal dashboard: its milestones filtered (one form for the live and the as-of
page), grouped by strategy or by quarter, and counted in the strategy × quarter matrix.

The live page and the page as of a date share every rule: both fetch the whole plan (a
fixed number of queries whatever its size), then filter, group and count it in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter

from django import forms
from django.utils.translation import gettext_lazy as _

from milestones.models import Milestone, Status
from sdif_tracker.pages.asof import Moment, PlanAsOf, SinceLastQuarter
from sdif_tracker.pages.filters import ListFilterForm
from sdif_tracker.pages.rows import MilestoneRow, group_by_strategy, milestone_rows, shown_quarter
from strategies.models import Goal, Strategy
from strategies.periods import ONGOING_KEY, FiscalPeriod, fiscal_year_range

UNDATED_KEY = ONGOING_KEY + 1

# -- shared -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def status_breakdown(counts: dict[str, int]) -> list[StatusCount]:
    """Non-zero counts in the order of the statuses."""
    return [
        StatusCount(status.value, status.label, counts[status.value])
        for status in Status
        if counts.get(status.value)
    ]


# -- goal dashboard ------------------------------------------------------------------

GROUP_BY_STRATEGY = "strategy"
GROUP_BY_QUARTER = "quarter"
UNALIGNED = "none"


class DashboardFilterForm(ListFilterForm):
    """The dashboard's GET filters; a value that does not validate is reported and
    ignored, never an error page."""

    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    strategy = forms.ChoiceField(label=_("Strategy"), required=False)
    fy = forms.TypedChoiceField(
        label=_("Fiscal year due"),
        help_text=_("Of the effective due: the revised due where set."),
        coerce=int,
        empty_value=None,
        required=False,
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    group = forms.ChoiceField(
        label=_("Group by"),
        choices=[(GROUP_BY_STRATEGY, _("Strategy")), (GROUP_BY_QUARTER, _("Due quarter"))],
        required=False,
    )

    def __init__(self, data, *, strategies: list[Strategy], fiscal_years: list[int]):
        super().__init__(data)
        self.fields["strategy"].choices = [
            ("", _("All strategies")),
            *[
                (str(s.number), _("Strategy %(number)d") % {"number": s.number})
                for s in strategies
            ],
            (UNALIGNED, _("Not aligned to a strategy")),
        ]
        self.fields["fy"].choices = [("", _("Any year"))] + [
            (str(year), str(FiscalPeriod(year))) for year in fiscal_years
        ]

    @property
    def is_filtered(self) -> bool:
        return any(self.value(name) for name in ("status", "strategy", "fy", "overdue"))

    def matches(self, milestone: Milestone, quarter: FiscalPeriod) -> bool:
        """Whether ``milestone`` passes the filters that validated, "overdue" in the
        reporting quarter ``quarter``: the one definition of the filters, for the live
        and the past dashboards alike."""
        if (statuses := self.value("status")) and milestone.status not in statuses:
            return False
        strategy = self.value("strategy")
        if strategy == UNALIGNED and milestone.strategy_id is not None:
            return False
        if (
            strategy
            and strategy != UNALIGNED
            and (milestone.strategy is None or milestone.strategy.number != int(strategy))
        ):
            return False
        if fiscal_year := self.value("fy"):
            low, high = fiscal_year_range(fiscal_year)
            due = milestone.effective_due
            if due is None or not low <= due.key <= high:
                return False
        return not (self.value("overdue") and not milestone.is_overdue_in(quarter))


@dataclass
class MilestoneGroup:
    key: str  # stable, for anchors and tests: "strategy-3", "Q4 FY19", "Ongoing" ...
    rows: list[MilestoneRow]
    strategy: Strategy | None = None
    period: FiscalPeriod | None = None
    is_unaligned: bool = False
    is_undated: bool = False


@dataclass
class MatrixRow:
    strategy: Strategy | None
    cells: list[MatrixCell]
    total: int


@dataclass
class MatrixCell:
    period: FiscalPeriod | None
    count: int = 0
    breakdown: list[StatusCount] = field(default_factory=list)


@dataclass
class Matrix:
    periods: list[FiscalPeriod | None]
    rows: list[MatrixRow]
    column_totals: list[int]
    total: int


@dataclass
class Dashboard:
    form: DashboardFilterForm
    group_by: str
    groups: list[MilestoneGroup]
    matrix: Matrix
    milestone_count: int
    is_filtered: bool
    since: SinceLastQuarter | None = None


def _fiscal_years(goal: Goal, milestones: list[Milestone]) -> list[int]:
    """The goal's fiscal years and those of every effective due of its milestones."""
    years = set(goal.fiscal_years)
    years.update(
        m.effective_due.fiscal_year
        for m in milestones
        if m.effective_due is not None and not m.effective_due.is_ongoing
    )
    return sorted(years)


_row_strategy_id = attrgetter("milestone.strategy_id")


def _group_by_strategy(
    rows: list[MilestoneRow], strategies: list[Strategy], *, keep_empty: bool
) -> list[MilestoneGroup]:
    return [
        MilestoneGroup(f"strategy-{strategy.number}", items, strategy=strategy)
        if strategy is not None
        else MilestoneGroup("unaligned", items, is_unaligned=True)
        for strategy, items in group_by_strategy(
            rows, strategies, keep_empty=keep_empty, strategy_id=_row_strategy_id
        )
    ]


def _period_sort_key(period: FiscalPeriod | None) -> tuple[int, int]:
    # Time order, Ongoing last (its key is the largest), then milestones with no due.
    return (1, 0) if period is None else (0, period.key)


def _group_by_quarter(rows: list[MilestoneRow]) -> list[MilestoneGroup]:
    by_period = defaultdict(list)
    for row in rows:
        by_period[row.milestone.effective_due].append(row)
    return [
        MilestoneGroup(
            str(period) if period is not None else "no-due-date",
            by_period[period],
            period=period,
            is_undated=period is None,
        )
        for period in sorted(by_period, key=_period_sort_key)
    ]


def _matrix(milestones: list[Milestone], strategies: list[Strategy]) -> Matrix:
    """Strategy × effective-due-period counts with a status breakdown, counted over the
    rows the page lists (already fetched, so no query)."""
    counts = defaultdict(lambda: defaultdict(int))  # (strategy id, period) -> status -> n
    for milestone in milestones:
        counts[milestone.strategy_id, milestone.effective_due][milestone.status] += 1
    periods = sorted({period for _, period in counts}, key=_period_sort_key)
    row_strategies: list[Strategy | None] = list(strategies)
    if any(strategy_id is None for strategy_id, _ in counts):
        row_strategies.append(None)

    rows = []
    for strategy in row_strategies:
        strategy_id = strategy.pk if strategy is not None else None
        cells = []
        for period in periods:
            by_status = counts.get((strategy_id, period), {})
            cells.append(MatrixCell(period, sum(by_status.values()), status_breakdown(by_status)))
        rows.append(MatrixRow(strategy, cells, sum(cell.count for cell in cells)))
    column_totals = [sum(row.cells[i].count for row in rows) for i in range(len(periods))]
    return Matrix(periods, rows, column_totals, sum(column_totals))


def _dashboard(
    goal: Goal,
    strategies: list[Strategy],
    milestones: list[Milestone],
    params,
    *,
    shown: Moment | None,
    live_ids: set[int] | None = None,
) -> Dashboard:
    """The dashboard of ``milestones`` (the whole plan at ``shown``; None: now), filtered,
    grouped and counted in Python over the rows fetched: one query, for the changes."""
    form = DashboardFilterForm(
        params, strategies=strategies, fiscal_years=_fiscal_years(goal, milestones)
    )
    quarter = shown_quarter(goal, shown)
    milestones = [m for m in milestones if form.matches(m, quarter)]
    since, rows = milestone_rows(goal, milestones, strategies, shown, live_ids=live_ids)
    group_by = form.value("group") or GROUP_BY_STRATEGY
    if group_by == GROUP_BY_QUARTER:
        groups = _group_by_quarter(rows)
    else:
        groups = _group_by_strategy(rows, strategies, keep_empty=not form.is_filtered)
    return Dashboard(
        form=form,
        group_by=group_by,
        groups=groups,
        matrix=_matrix(milestones, strategies),
        milestone_count=len(milestones),
        is_filtered=form.is_filtered,
        since=since,
    )


def goal_dashboard(goal: Goal, params) -> Dashboard:
    """Everything the goal dashboard shows for the GET ``params``: three queries."""
    strategies = list(goal.strategies.order_by("number"))
    # Through the goal's manager, so each milestone links by its slug without a query.
    milestones = list(goal.milestones.for_dashboard(goal))
    return _dashboard(goal, strategies, milestones, params, shown=None)


def goal_dashboard_as_of(plan: PlanAsOf, params) -> Dashboard:
    """The goal dashboard as it stood at ``plan.moment``, from a reconstruction: the same
    groupings, matrix and filters (overdue as of that day); two queries."""
    # Milestones deleted since are shown without a link to a page that is gone.
    live_ids = set(Milestone.objects.filter(goal_id=plan.goal.pk).values_list("pk", flat=True))
    return _dashboard(
        plan.goal, plan.strategies, plan.milestones, params, shown=plan.moment, live_ids=live_ids
    )
