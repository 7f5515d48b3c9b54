"""The goal dashboard, the quarter's work list: one line of counts for the reporting
quarter (updated, overdue, due this quarter; each a filter), its milestones filtered (one
form for the live and the as-of page), grouped by strategy or by quarter, and counted in
the strategy × quarter matrix.

The live page and the page as of a date share every rule: both fetch the whole plan (a
fixed number of queries whatever its size), then filter, group and count it in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from operator import attrgetter

from django import forms
from django.http import QueryDict
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from milestones import review
from milestones.models import Milestone, ProgressSummary, Status, updated_for_quarter
from sdif_tracker.pages.asof import Moment, PlanAsOf, SinceLastQuarter
from sdif_tracker.pages.filters import ListFilterForm
from sdif_tracker.pages.review_status import Standing, standing
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
DUE_NOW = "now"  # ?due=now: due this quarter
UNDATED = "none"  # ?due=none: no due date
UPDATED_YES = "yes"
UPDATED_NO = "no"  # still to update: open, with no status update for the quarter
FILTERS = ("status", "strategy", "fy", "due", "overdue", "updated")


def is_updated(milestone: Milestone) -> bool | None:
    """Whether ``milestone`` has a status update for the reporting quarter (the
    ``updated_now`` annotation of ``milestones.models.updated_for_quarter``); None when
    unknown (a past view)."""
    return getattr(milestone, "updated_now", None)


def is_to_update(milestone: Milestone) -> bool:
    """Still to update for the quarter: open and not updated (My goals' list)."""
    return not milestone.is_closed and is_updated(milestone) is False


def filter_link(params, **values) -> str:
    """A query string for the dashboard filtered by ``values`` alone (the grouping and a
    past view kept, every other filter dropped): the matrix's and the work line's links."""
    kept = [
        (key, value)
        for key, items in params.lists()
        if key not in FILTERS and key != "page"
        for value in items
    ]
    return "?" + urlencode([*kept, *values.items()])


def due_param(period: FiscalPeriod | None) -> str:
    """The ``?due=`` value of an effective due period (the matrix's filter links)."""
    return UNDATED if period is None else str(period)


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
    due = forms.ChoiceField(label=_("Due"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    updated = forms.ChoiceField(
        label=_("Updated for the reporting quarter"),
        choices=[
            ("", _("Either")),
            (UPDATED_NO, _("Still to update")),
            (UPDATED_YES, _("Updated")),
        ],
        required=False,
    )
    group = forms.ChoiceField(
        label=_("Group by"),
        choices=[(GROUP_BY_STRATEGY, _("Strategy")), (GROUP_BY_QUARTER, _("Due quarter"))],
        required=False,
    )

    def __init__(
        self,
        data,
        *,
        strategies: list[Strategy],
        fiscal_years: list[int],
        due_periods: list[FiscalPeriod | None] = (),
        knows_updated: bool = True,
    ):
        super().__init__(data)
        # A past view does not know "updated for the quarter": it ignores that filter,
        # so it does not count as one (no "(filtered)", no "Clear filters" for it).
        self.applied = FILTERS if knows_updated else tuple(f for f in FILTERS if f != "updated")
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
        self.fields["due"].choices = [
            ("", _("Any time")),
            (DUE_NOW, _("Due this quarter")),
            *[
                (due_param(period), str(period) if period else _("No due date"))
                for period in due_periods
            ],
        ]

    @property
    def is_filtered(self) -> bool:
        return any(self.value(name) for name in self.applied)

    def matches(self, milestone: Milestone, quarter: FiscalPeriod) -> bool:
        """Whether ``milestone`` passes the filters that validated, "overdue", "due
        this quarter" and "updated" in the reporting quarter ``quarter``: the one
        definition of the filters, for the live and the past dashboards alike (a past
        view does not know "updated" and ignores it)."""
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
        if (due := self.value("due")) and not (
            milestone.is_due_in(quarter)
            if due == DUE_NOW
            else due_param(milestone.effective_due) == due
        ):
            return False
        updated = self.value("updated")
        if updated and is_updated(milestone) is not None:
            if updated == UPDATED_NO and not is_to_update(milestone):
                return False
            if updated == UPDATED_YES and not is_updated(milestone):
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

    @property
    def anchor(self) -> str:
        return f"group-{slugify(self.key)}"

    @property
    def heading_id(self) -> str:
        return f"{self.anchor}-heading"


@dataclass(frozen=True)
class WorkSummary:
    """The dashboard's one line: the reporting quarter and its counts over the whole
    plan (not the filtered list). ``updated``/``to_report``: None on a past view."""

    quarter: FiscalPeriod
    updated: int | None
    to_report: int | None  # open milestones, and closed ones updated for the quarter
    overdue: int
    due_now: int
    # Each count's link: the list filtered to what it counts.
    to_update_href: str = ""
    overdue_href: str = ""
    due_now_href: str = ""


def work_summary(milestones: list[Milestone], quarter: FiscalPeriod, params=None) -> WorkSummary:
    """Count ``milestones`` (all the plan's) for the quarter, in Python: no query.
    ``params``: the page's GET parameters, whose grouping and past view the links keep."""
    params = params if params is not None else QueryDict()
    known = bool(milestones) and is_updated(milestones[0]) is not None
    updated = sum(1 for m in milestones if is_updated(m)) if known else None
    return WorkSummary(
        quarter=quarter,
        updated=updated,
        to_report=(updated + sum(1 for m in milestones if is_to_update(m))) if known else None,
        overdue=sum(1 for m in milestones if m.is_overdue_in(quarter)),
        due_now=sum(1 for m in milestones if m.is_due_in(quarter)),
        to_update_href=filter_link(params, updated=UPDATED_NO),
        overdue_href=filter_link(params, overdue="1"),
        due_now_href=filter_link(params, due=DUE_NOW),
    )


def live_milestones(
    goal: Goal, quarter: FiscalPeriod, strategies: list[Strategy] | None = None
) -> list[Milestone]:
    """The goal's milestones as the live dashboard lists them, in plan order, each
    knowing whether it is updated for ``quarter``: one query. With ``strategies`` (the
    goal's, fetched already) each milestone's strategy is set from them, not joined."""
    # Through the goal's manager, so each milestone links by its slug without a query.
    milestones = goal.milestones.with_effective_due().order_by("position", "id")
    if strategies is None:
        milestones = milestones.select_related("strategy")
    milestones = list(milestones.annotate(updated_now=updated_for_quarter(quarter)))
    if strategies is not None:
        by_id = {strategy.pk: strategy for strategy in strategies}
        for milestone in milestones:
            Milestone.strategy.field.set_cached_value(milestone, by_id.get(milestone.strategy_id))
    return milestones


def goal_work_summary(goal: Goal, params=None) -> WorkSummary:
    """The live work line alone (after a save, to refresh it in place): one query.
    ``params``: the GET parameters of the page it goes back into, kept by its links."""
    quarter = shown_quarter(goal, None)
    return work_summary(live_milestones(goal, quarter), quarter, params)


@dataclass
class MatrixRow:
    strategy: Strategy | None
    cells: list[MatrixCell]
    total: int
    href: str = ""  # the list filtered to the row's strategy


@dataclass
class MatrixCell:
    period: FiscalPeriod | None
    count: int = 0
    href: str = ""  # the list filtered to the cell's strategy and due period


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
    summary: WorkSummary
    since: SinceLastQuarter | None = None
    # The whole plan shown, before the filters (for the completeness check).
    strategies: list[Strategy] = field(default_factory=list)
    plan_milestones: list[Milestone] = field(default_factory=list)
    # Where the reporting quarter's update stands in its review chain (the live page only).
    update: Standing | None = None


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


def _matrix(milestones: list[Milestone], strategies: list[Strategy], params) -> Matrix:
    """Strategy × effective-due-period counts over the whole plan (already fetched, so
    no query), whatever the list's filters; each non-zero cell links to the list
    filtered to exactly its milestones (the other filters dropped, so it lists the
    number it shows)."""
    counts = defaultdict(int)  # (strategy id, period) -> n
    for milestone in milestones:
        counts[milestone.strategy_id, milestone.effective_due] += 1
    periods = sorted({period for _, period in counts}, key=_period_sort_key)
    row_strategies: list[Strategy | None] = list(strategies)
    if any(strategy_id is None for strategy_id, _ in counts):
        row_strategies.append(None)

    rows = []
    for strategy in row_strategies:
        strategy_id = strategy.pk if strategy is not None else None
        strategy_key = str(strategy.number) if strategy is not None else UNALIGNED
        cells = []
        for period in periods:
            count = counts.get((strategy_id, period), 0)
            href = (
                filter_link(params, strategy=strategy_key, due=due_param(period)) if count else ""
            )
            cells.append(MatrixCell(period, count, href))
        rows.append(
            MatrixRow(
                strategy,
                cells,
                sum(cell.count for cell in cells),
                filter_link(params, strategy=strategy_key),
            )
        )
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
    quarter = shown_quarter(goal, shown)
    form = DashboardFilterForm(
        params,
        strategies=strategies,
        fiscal_years=_fiscal_years(goal, milestones),
        due_periods=sorted({m.effective_due for m in milestones}, key=_period_sort_key),
        knows_updated=shown is None,
    )
    summary = work_summary(milestones, quarter, params)
    plan_milestones = milestones
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
        matrix=_matrix(plan_milestones, strategies, params),
        milestone_count=len(milestones),
        is_filtered=form.is_filtered,
        summary=summary,
        since=since,
        strategies=strategies,
        plan_milestones=plan_milestones,
    )


def goal_dashboard(goal: Goal, params) -> Dashboard:
    """Everything the goal dashboard shows for the GET ``params``: four queries."""
    strategies = list(goal.strategies.order_by("number"))
    quarter = shown_quarter(goal, None)
    milestones = live_milestones(goal, quarter, strategies)
    board = _dashboard(goal, strategies, milestones, params, shown=None)
    board.update = quarter_update(goal, quarter)
    return board


def quarter_update(goal: Goal, quarter: FiscalPeriod) -> Standing:
    """Where the goal's update for ``quarter`` stands and whose move it is, with the link
    to its review page: one query (the goal's agency is fetched with the goal)."""
    summary = ProgressSummary.objects.filter(goal=goal, period=quarter).first()
    return standing(summary, goal.agency, quarter, url=review.review_url(goal, quarter))


def goal_dashboard_as_of(plan: PlanAsOf, params) -> Dashboard:
    """The goal dashboard as it stood at ``plan.moment``, from a reconstruction: the same
    groupings, matrix and filters (overdue as of that day); two queries."""
    # Milestones deleted since are shown without a link to a page that is gone.
    live_ids = set(Milestone.objects.filter(goal_id=plan.goal.pk).values_list("pk", flat=True))
    return _dashboard(
        plan.goal, plan.strategies, plan.milestones, params, shown=plan.moment, live_ids=live_ids
    )
