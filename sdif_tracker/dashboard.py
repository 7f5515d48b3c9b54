"""Reads behind the pages: the portfolio roll-up, the goal dashboard (filters, groupings,
strategy × quarter matrix), a milestone's history, and the published plan.

Each function issues a fixed number of queries whatever the number of rows; grouping
and diffing happen in Python over rows already fetched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django import forms
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from milestones.models import (
    CLOSED_STATUSES,
    Milestone,
    ProgressSummary,
    Status,
    StatusUpdate,
    overdue_q,
    status_counts,
)
from sdif_tracker.access import is_admin
from sdif_tracker.asof import PlanAsOf, SinceLastQuarter, annotate_changes
from sdif_tracker.changes import describe_versions
from strategies.models import EDITOR_ROLES, Goal, IndicatorValue, Membership, Role, Strategy
from strategies.periods import ONGOING_KEY, FiscalPeriod, current_quarter, fiscal_year_range

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


def _status_breakdown(counts: dict[str, int]) -> list[StatusCount]:
    """Non-zero counts in the order of the statuses."""
    return [
        StatusCount(status.value, status.label, counts[status.value])
        for status in Status
        if counts.get(status.value)
    ]


# -- portfolio -------------------------------------------------------------------


PORTFOLIO_PAGE_SIZE = 50
PORTFOLIO_SEARCH_MAX = 200


@dataclass
class PortfolioPage:
    """One page of the portfolio: its goals with their roll-up, and where it stands."""

    goals: list[Goal]
    number: int
    num_pages: int
    total: int
    start: int  # 1-based position of the first goal shown (0 when none)
    end: int
    search: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def search_param(self) -> str | None:
        """``q`` for the page links: the search in force, or None to drop an ignored one."""
        return self.search or None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def _page_number(raw, num_pages: int, problems: list[str]) -> int:
    if raw in (None, ""):
        return 1
    try:
        number = int(raw)
    except (TypeError, ValueError):
        shown = "".join(c for c in raw[:20] if c.isprintable()) + ("…" if len(raw) > 20 else "")
        problems.append(_("“%(page)s” is not a page number; showing page 1.") % {"page": shown})
        return 1
    if number < 1 or number > num_pages:
        last = max(num_pages, 1)
        problems.append(
            _("There is no page %(page)s; showing page %(shown)s of %(pages)s.")
            % {"page": number, "shown": min(max(number, 1), last), "pages": last}
        )
        return min(max(number, 1), last)
    return number


def portfolio_page(user, params) -> PortfolioPage:
    """The goals ``user`` may see, ``PORTFOLIO_PAGE_SIZE`` a page in the goals' order,
    optionally narrowed by ``?q=`` (title, short name, agency or slug), with their
    status roll-up: three queries (the count, the page, its roll-up), whatever the number
    of goals and milestones.

    Each goal gets ``status_rollup`` (non-zero counts by status), ``milestone_count``,
    ``overdue_count`` and ``last_updated`` (latest milestone change, else the goal's).
    A bad page or an overlong search gets a message in ``problems``, never an error.
    """
    problems: list[str] = []
    search = (params.get("q") or "").strip()
    if len(search) > PORTFOLIO_SEARCH_MAX:
        problems.append(
            _("The search text is longer than %(max)s characters, so it was ignored.")
            % {"max": PORTFOLIO_SEARCH_MAX}
        )
        search = ""
    elif not search.isprintable():
        # Control characters match no title, and PostgreSQL refuses a NUL outright.
        problems.append(_("The search text contains control characters, so it was ignored."))
        search = ""
    visible = Goal.objects.visible_to(user)
    if search:
        visible = visible.filter(
            Q(title__icontains=search)
            | Q(short_name__icontains=search)
            | Q(agency__name__icontains=search)
            | Q(slug__icontains=search)
        )
    total = visible.count()
    num_pages = max(-(-total // PORTFOLIO_PAGE_SIZE), 1)
    number = _page_number(params.get("page"), num_pages, problems)
    offset = (number - 1) * PORTFOLIO_PAGE_SIZE
    goals = list(
        # The primary key last: goals with the same agency and title keep one order
        # from page to page, so none shows twice or never.
        visible.select_related("agency").order_by(*Goal._meta.ordering, "pk")[
            offset : offset + PORTFOLIO_PAGE_SIZE
        ]
    )
    # The roll-up of the page's goals only, grouped over their milestones alone: one
    # query whose cost follows the page, not the portfolio (aggregating over a join
    # of every goal with its milestones took 2 s at 100,000 milestones).
    rollup = {
        row["goal"]: row
        for row in Milestone.objects.filter(goal__in=[goal.pk for goal in goals])
        .with_effective_due()
        .order_by()
        .values("goal")
        .annotate(
            **status_counts(),
            milestone_count=Count("pk"),
            overdue_count=Count("pk", filter=overdue_q()),
            last_updated=Max("updated_at"),
        )
    }
    for goal in goals:
        row = rollup.get(goal.pk, {})
        goal.milestone_count = row.get("milestone_count", 0)
        goal.overdue_count = row.get("overdue_count", 0)
        goal.last_updated = row.get("last_updated") or goal.updated_at
        goal.status_rollup = _status_breakdown(
            {status.value: row.get(f"count_{status.value}", 0) for status in Status}
        )
    return PortfolioPage(
        goals=goals,
        number=number,
        num_pages=num_pages,
        total=total,
        start=offset + 1 if goals else 0,
        end=offset + len(goals),
        search=search,
        problems=problems,
    )


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
            cells.append(MatrixCell(period, sum(by_status.values()), _status_breakdown(by_status)))
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


# -- milestone detail ----------------------------------------------------------------


# The milestone page shows the latest of each; the timeline page has every version.
MILESTONE_PAGE_VERSIONS = 10
MILESTONE_PAGE_UPDATES = 12  # three years of quarterly updates


@dataclass
class Latest:
    """The latest ``items`` of something a milestone accumulates, and how many there are."""

    items: list
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)


def milestone_history(milestone: Milestone, limit: int = MILESTONE_PAGE_VERSIONS) -> Latest:
    """The milestone's latest ``limit`` versions, newest first, each with its field
    changes (old → new), and the number of versions in all: two queries (plus one per
    kind of related object named), however long the history."""
    # One version more than shown: the oldest shown is diffed against it. Each row also
    # carries the count of all versions (a window over the whole history).
    records = list(
        milestone.history.annotate(total=Window(Count("history_id"))).order_by(
            "-history_date", "-history_id"
        )[: limit + 1]
    )
    entries = describe_versions(records, Milestone)[:limit]
    return Latest(entries, records[0].total if records else 0)


def milestone_status_updates(milestone: Milestone, limit: int = MILESTONE_PAGE_UPDATES) -> Latest:
    """The milestone's latest ``limit`` status updates, oldest first, with their authors,
    and the number of updates in all: one query."""
    latest = list(
        milestone.status_updates.select_related("author")
        .annotate(total=Window(Count("id")))
        .order_by("-created_at", "-id")[:limit]
    )
    latest.reverse()
    return Latest(latest, latest[0].total if latest else 0)


# -- published plan ------------------------------------------------------------------


@dataclass
class PublishedPlan:
    goal: Goal
    strategies: list[Strategy]
    progress: list[ProgressSummary]
    milestones: list[Milestone]
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
    return PublishedPlan(
        goal=goal,
        strategies=strategies,
        progress=list(ProgressSummary.objects.filter(goal=goal).order_by("-period")),
        milestones=milestones,
        indicators=indicators,
        since=annotate_changes(goal, milestones, strategies, None),
    )


def published_plan_as_of(plan: PlanAsOf) -> PublishedPlan:
    """The published plan as it stood at ``plan.moment`` (rebuilt with progress and
    indicators), with the change since the quarter before it."""
    return PublishedPlan(
        goal=plan.goal,
        strategies=plan.strategies,
        progress=plan.progress,
        milestones=plan.milestones,
        indicators=plan.indicators,
        since=annotate_changes(plan.goal, plan.milestones, plan.strategies, plan.moment),
    )


# -- a leader's quarterly work ---------------------------------------------------------


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
