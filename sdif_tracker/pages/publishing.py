"""Quarterly updates and their publication (reads): the frozen plan of a published
quarter (rebuilt from history as reported for that quarter at the moment it was
published), what was corrected since, and the portfolio's risk heat map. Publishing
itself is ``milestones.services.publish_quarter``.

A published quarter is frozen twice over: its ``ProgressSummary`` refuses edits (the
services raise ``PublishedSummaryError``), and its plan is always rebuilt from the
history rows that belong to the quarter or an earlier one *and* were recorded by
``published_at`` (an imported plan publishes several quarters at one import time, so the
recorded time alone would not do). Later edits never change what was published; a later
change that belongs to the quarter is shown beside it as a correction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from milestones.models import ProgressSummary
from milestones.quarters import reporting_quarter
from sdif_tracker.pages import asof, plan
from sdif_tracker.pages.dashboard import StatusCount, status_breakdown
from strategies.models import Goal
from strategies.periods import FiscalPeriod, quarters_between


def next_quarter(period: FiscalPeriod) -> FiscalPeriod:
    """The quarter after ``period`` (a quarter), or the first quarter after a fiscal year."""
    if period.is_whole_year:
        return FiscalPeriod(period.fiscal_year + 1, 1)
    if period.quarter == 4:
        return FiscalPeriod(period.fiscal_year + 1, 1)
    return FiscalPeriod(period.fiscal_year, period.quarter + 1)


# -- the published plan of a quarter (reads) --------------------------------------------


@dataclass(frozen=True)
class PublicationMoment(asof.ReportedFor):
    """A published quarter's snapshot: as reported for ``quarter``, from the changes
    recorded by ``recorded_by`` (the instant it was published)."""

    @classmethod
    def of(cls, summary: ProgressSummary) -> PublicationMoment:
        return cls(summary.period, recorded_by=summary.published_at)

    @property
    def label(self) -> str:
        """ "as published for Q3 FY19 on 3 July 2019" """
        return _("as published for %(quarter)s on %(day)s") % {
            "quarter": self.quarter,
            "day": date_format(timezone.localtime(self.recorded_by), "j F Y"),
        }


def published_summary(goal: Goal, period: FiscalPeriod) -> ProgressSummary | None:
    return ProgressSummary.objects.published().filter(goal=goal, period=period).first()


def quarter_update(goal: Goal, period: FiscalPeriod) -> ProgressSummary | None:
    """The goal's update for ``period``, published or not."""
    return ProgressSummary.objects.filter(goal=goal, period=period).first()


def goal_summaries(goal: Goal) -> list[ProgressSummary]:
    """The goal's quarterly updates, published or not, newest period first: one query."""
    return list(ProgressSummary.objects.filter(goal=goal).order_by("-period"))


@dataclass
class QuarterPlan:
    summary: ProgressSummary  # the live row: who published and when
    plan: plan.PublishedPlan | None  # as it stood when published; None: nothing belonged to it
    # Changes belonging to the quarter recorded after it was published, by milestone.
    corrections: list[asof.Correction] = field(default_factory=list)

    @property
    def last_correction(self) -> asof.Correction | None:
        return max(self.corrections, key=lambda c: c.recorded_at, default=None)


def _snapshot(
    goal: Goal, moment: PublicationMoment
) -> tuple[asof.PlanAsOf, plan.PublishedPlan | None]:
    """The plan a publication at ``moment`` freezes, with the quarter's update only (None:
    nothing of the goal belonged to the quarter then), and the plan it was built from."""
    past = asof.plan_as_of(goal, moment, with_progress=True, with_indicators=True)
    if not past.existed:
        return past, None
    past.progress = [p for p in past.progress if p.period == moment.quarter]
    return past, plan.published_plan_as_of(past)


def quarter_plan(
    goal: Goal, summary: ProgressSummary, *, with_corrections: bool = False
) -> QuarterPlan:
    """The plan of a published quarter exactly as it stood when it was published, with
    that quarter's update only: a fixed number of queries (asof.plan_as_of); on request
    (one more query) what was corrected for it since."""
    past, frozen_plan = _snapshot(goal, PublicationMoment.of(summary))
    if frozen_plan is None:  # nothing of the goal belonged to the quarter then
        return QuarterPlan(summary=summary, plan=None)
    frozen = QuarterPlan(summary=summary, plan=frozen_plan)
    if with_corrections:
        frozen.corrections = asof.corrections_since(
            goal,
            past.milestones,
            past.strategies,
            summary.period,
            after=summary.published_at,
        )
    return frozen


def publication_preview(goal: Goal, period: FiscalPeriod, *, at=None) -> plan.PublishedPlan | None:
    """What publishing ``period`` at ``at`` (default: now) freezes: the very plan
    ``quarter_plan`` shows once it is published (the same snapshot rule, at that instant);
    None when nothing of the goal belongs to the quarter."""
    moment = PublicationMoment(period, recorded_by=at or timezone.now())
    return _snapshot(goal, moment)[1]


def changed_since_preview(goal: Goal, period: FiscalPeriod, seen) -> list[asof.Correction]:
    """What changed in the plan as reported for ``period`` since its publication preview
    was shown at ``seen``: the corrections rule of a published quarter, applied to the
    preview (empty: publishing now freezes what the user saw)."""
    past, frozen_plan = _snapshot(goal, PublicationMoment(period, recorded_by=seen))
    if frozen_plan is None:
        return []
    return asof.corrections_since(goal, past.milestones, past.strategies, period, after=seen)


def status_counts(plan_rows) -> list[StatusCount]:
    """How many of the milestones in ``plan_rows`` are in each status, in the scale's order."""
    return status_breakdown(Counter(row.milestone.status for row in plan_rows))


def edition_label(
    goal: Goal,
    *,
    published: ProgressSummary | None = None,
    as_of: asof.PastView | None = None,
) -> str:
    """Which plan a printed copy is, for its running header: "Q3 FY19 update, published
    3 July 2019", "The plan as reported for Q4 FY19", "The plan as recorded on 30 June
    2019 (end of Q3 FY19)" or "Current plan, reporting on Q4 FY19, printed 5 October
    2019" (the day it was printed: a recorded time)."""
    if published is not None:
        return _("%(period)s update, published %(day)s") % {
            "period": published.period,
            "day": date_format(timezone.localtime(published.published_at), "j F Y"),
        }
    if as_of is not None:
        return _("The plan %(view)s") % {"view": as_of.label}
    return _("Current plan, reporting on %(quarter)s, printed %(day)s") % {
        "quarter": reporting_quarter(goal),
        "day": date_format(timezone.localdate(), "j F Y"),
    }


def data_statement_source(progress: list[ProgressSummary]) -> ProgressSummary | None:
    """The update whose data accuracy and reliability statement the plan prints: the
    newest one that states any of it."""
    for summary in progress:
        if summary.data_statement:
            return summary
    return None


# -- the portfolio's risk heat map ------------------------------------------------------


@dataclass
class HeatCell:
    period: FiscalPeriod
    summary: ProgressSummary | None  # the published update, if any

    @property
    def risk(self) -> str:
        return self.summary.risk if self.summary is not None else ""

    @property
    def risk_label(self) -> str:
        return self.summary.get_risk_display() if self.summary is not None else ""


@dataclass
class HeatRow:
    goal: Goal
    cells: list[HeatCell]


@dataclass
class HeatMap:
    quarters: list[FiscalPeriod]
    rows: list[HeatRow]

    @property
    def has_any(self) -> bool:
        return any(cell.summary for row in self.rows for cell in row.cells)


def _goal_quarters(goal: Goal) -> list[FiscalPeriod]:
    """The goal's quarters from its first up to its reporting quarter."""
    return quarters_between(goal.first_quarter, reporting_quarter(goal))


def risk_heatmap(goals: list[Goal]) -> HeatMap:
    """Goals × reporting quarters (each goal's quarters up to its reporting quarter, and
    any quarter something was published in), each cell the published risk: one query
    whatever the number of goals."""
    if not goals:
        return HeatMap([], [])
    published = {
        (s.goal_id, s.period): s
        for s in ProgressSummary.objects.published()
        .filter(goal__in=[g.pk for g in goals])
        .only("pk", "goal_id", "period", "risk", "published_at")
    }
    for goal in goals:
        if not hasattr(goal, "last_published_key"):
            # What ``reporting_quarter`` would otherwise ask for, goal by goal.
            goal.last_published_key = max(
                (period.key for goal_id, period in published if goal_id == goal.pk),
                default=None,
            )
    quarters = {quarter for goal in goals for quarter in _goal_quarters(goal)}
    quarters = sorted(quarters | {period for _goal, period in published})
    rows = []
    for goal in goals:
        cells = []
        for quarter in quarters:
            summary = published.get((goal.pk, quarter))
            if summary is not None:
                summary.goal = goal  # its URL needs the slug: no query per cell
            cells.append(HeatCell(quarter, summary))
        rows.append(HeatRow(goal, cells))
    return HeatMap(quarters, rows)
