"""The goal dashboard: its milestones filtered (one form for the live and the as-of
page), grouped by strategy or by quarter, and counted in the strategy × quarter matrix.

Each function issues a fixed number of queries whatever the number of rows; grouping
happens in Python over rows already fetched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django import forms
from django.db.models import (
    Count,
)
from django.utils.translation import gettext_lazy as _

from milestones.models import (
    Milestone,
    Status,
    overdue_q,
)
from sdif_tracker.pages.asof import PlanAsOf, SinceLastQuarter, annotate_changes
from strategies.models import Goal, Strategy
from strategies.periods import ONGOING_KEY, FiscalPeriod, fiscal_year_range

UNDATED_KEY = ONGOING_KEY + 1

# -- shared -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


def _as_period(value) -> FiscalPeriod | None:
    """A period from an annotation, which arrives as a FiscalPeriod or a raw key."""
    if value is None or isinstance(value, FiscalPeriod):
        return value
    return FiscalPeriod.from_key(value)


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


class DashboardFilterForm(forms.Form):
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

    def value(self, name: str):
        """The cleaned value of ``name``; None when it is empty or did not validate."""
        self.is_valid()
        return self.cleaned_data.get(name) or None

    @property
    def problems(self) -> list[str]:
        """One message per filter that was not understood (and so was ignored)."""
        self.is_valid()
        return [
            _("%(filter)s: %(error)s")
            % {"filter": self.fields[name].label, "error": " ".join(errors)}
            for name, errors in self.errors.items()
        ]


@dataclass
class MilestoneGroup:
    key: str  # stable, for anchors and tests: "strategy-3", "Q4 FY19", "Ongoing" ...
    milestones: list[Milestone]
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


def _fiscal_years(goal: Goal) -> list[int]:
    """The goal's fiscal years and those of every effective due of its milestones."""
    keys = (
        Milestone.objects.filter(goal=goal)
        .with_effective_due()
        .order_by()
        .values_list("effective_due_key", flat=True)
        .distinct()
    )
    years = set(goal.fiscal_years)
    for key in keys:
        period = _as_period(key)
        if period is not None and not period.is_ongoing:
            years.add(period.fiscal_year)
    return sorted(years)


def filtered_milestones(goal: Goal, form: DashboardFilterForm):
    """The goal's dashboard rows narrowed by the filters that validated."""
    milestones = Milestone.objects.for_dashboard(goal)
    if statuses := form.value("status"):
        milestones = milestones.filter(status__in=statuses)
    strategy = form.value("strategy")
    if strategy == UNALIGNED:
        milestones = milestones.filter(strategy__isnull=True)
    elif strategy:
        milestones = milestones.filter(strategy__number=int(strategy))
    if fiscal_year := form.value("fy"):
        milestones = milestones.filter(effective_due_key__range=fiscal_year_range(fiscal_year))
    if form.value("overdue"):
        milestones = milestones.filter(overdue_q())
    return milestones


def _group_by_strategy(
    milestones: list[Milestone], strategies: list[Strategy], *, keep_empty: bool
) -> list[MilestoneGroup]:
    by_strategy = defaultdict(list)
    for milestone in milestones:
        by_strategy[milestone.strategy_id].append(milestone)
    groups = [
        MilestoneGroup(f"strategy-{s.number}", by_strategy[s.pk], strategy=s)
        for s in strategies
        if keep_empty or by_strategy[s.pk]
    ]
    if by_strategy[None]:
        groups.append(MilestoneGroup("unaligned", by_strategy[None], is_unaligned=True))
    return groups


def _period_sort_key(period: FiscalPeriod | None) -> tuple[int, int]:
    # Time order, Ongoing last (its key is the largest), then milestones with no due.
    return (1, 0) if period is None else (0, period.key)


def _group_by_quarter(milestones: list[Milestone]) -> list[MilestoneGroup]:
    by_period = defaultdict(list)
    for milestone in milestones:
        by_period[milestone.effective_due].append(milestone)
    return [
        MilestoneGroup(
            str(period) if period is not None else "no-due-date",
            by_period[period],
            period=period,
            is_undated=period is None,
        )
        for period in sorted(by_period, key=_period_sort_key)
    ]


def _matrix(milestones, strategies: list[Strategy]) -> Matrix:
    """Strategy × effective-due-period counts with a status breakdown, in one query."""
    counts = defaultdict(lambda: defaultdict(int))  # (strategy id, period) -> status -> n
    for row in (
        milestones.order_by()
        .values("strategy_id", "effective_due_key", "status")
        .annotate(n=Count("pk"))
    ):
        period = _as_period(row["effective_due_key"])
        counts[row["strategy_id"], period][row["status"]] += row["n"]
    return _matrix_from_counts(counts, strategies)


def _matrix_of(milestones: list[Milestone], strategies: list[Strategy]) -> Matrix:
    """``_matrix`` counted in Python, for milestones rebuilt from history."""
    counts = defaultdict(lambda: defaultdict(int))
    for milestone in milestones:
        counts[milestone.strategy_id, milestone.effective_due][milestone.status] += 1
    return _matrix_from_counts(counts, strategies)


def _matrix_from_counts(counts, strategies: list[Strategy]) -> Matrix:
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


def goal_dashboard(goal: Goal, params) -> Dashboard:
    """Everything the goal dashboard shows for the GET ``params``: four queries."""
    strategies = list(goal.strategies.order_by("number"))
    form = DashboardFilterForm(params, strategies=strategies, fiscal_years=_fiscal_years(goal))
    form.is_valid()
    group_by = form.value("group") or GROUP_BY_STRATEGY
    queryset = filtered_milestones(goal, form)
    milestones = list(queryset)
    for milestone in milestones:
        milestone.goal = goal  # links need the goal's slug: no query per row
        milestone.overdue_flag = milestone.is_overdue
    is_filtered = any(form.value(name) for name in ("status", "strategy", "fy", "overdue"))
    if group_by == GROUP_BY_QUARTER:
        groups = _group_by_quarter(milestones)
    else:
        groups = _group_by_strategy(milestones, strategies, keep_empty=not is_filtered)
    return Dashboard(
        form=form,
        group_by=group_by,
        groups=groups,
        matrix=_matrix(queryset, strategies),
        milestone_count=len(milestones),
        is_filtered=is_filtered,
        since=annotate_changes(goal, milestones, strategies, None),
    )


def _matches(milestone: Milestone, form: DashboardFilterForm, today) -> bool:
    """``filtered_milestones``'s filters, for one milestone rebuilt from history."""
    if (statuses := form.value("status")) and milestone.status not in statuses:
        return False
    strategy = form.value("strategy")
    if strategy == UNALIGNED and milestone.strategy_id is not None:
        return False
    if (
        strategy
        and strategy != UNALIGNED
        and (milestone.strategy is None or milestone.strategy.number != int(strategy))
    ):
        return False
    due = milestone.effective_due
    if fiscal_year := form.value("fy"):
        low, high = fiscal_year_range(fiscal_year)
        if due is None or not low <= due.key <= high:
            return False
    return not (form.value("overdue") and not milestone.is_overdue_on(today))


def goal_dashboard_as_of(plan: PlanAsOf, params) -> Dashboard:
    """The goal dashboard as it stood at ``plan.moment``, from a reconstruction: the same
    groupings, matrix and filters (overdue as of that day), one more query for the
    change since the quarter before."""
    goal, strategies, day = plan.goal, plan.strategies, plan.moment.day
    years = set(goal.fiscal_years)
    years.update(
        m.effective_due.fiscal_year
        for m in plan.milestones
        if m.effective_due is not None and not m.effective_due.is_ongoing
    )
    form = DashboardFilterForm(params, strategies=strategies, fiscal_years=sorted(years))
    form.is_valid()
    group_by = form.value("group") or GROUP_BY_STRATEGY
    milestones = [m for m in plan.milestones if _matches(m, form, day)]
    # Milestones deleted since are shown without a link to a page that is gone.
    live = set(Milestone.objects.filter(goal_id=goal.pk).values_list("pk", flat=True))
    for milestone in milestones:
        milestone.overdue_flag = milestone.is_overdue_on(day)
        milestone.is_gone = milestone.pk not in live
    is_filtered = any(form.value(name) for name in ("status", "strategy", "fy", "overdue"))
    if group_by == GROUP_BY_QUARTER:
        groups = _group_by_quarter(milestones)
    else:
        groups = _group_by_strategy(milestones, strategies, keep_empty=not is_filtered)
    return Dashboard(
        form=form,
        group_by=group_by,
        groups=groups,
        matrix=_matrix_of(milestones, strategies),
        milestone_count=len(milestones),
        is_filtered=is_filtered,
        since=annotate_changes(goal, milestones, strategies, plan.moment),
    )
