"""Quarterly updates and their publication (reads): the frozen plan of a published
quarter (rebuilt from history as of the moment it was published), and the portfolio's
risk heat map. Publishing itself is ``milestones.services.publish_quarter``.

A published quarter is frozen twice over: its ``ProgressSummary`` refuses edits (the
services raise ``PublishedSummaryError``), and its plan is always rebuilt from history as
of ``published_at``, so later edits to milestones, strategies, indicators or the goal
never change what was published.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from milestones.models import ProgressSummary
from sdif_tracker.pages import asof, plan
from strategies.models import Goal
from strategies.periods import FiscalPeriod, current_quarter


def next_quarter(period: FiscalPeriod) -> FiscalPeriod:
    """The quarter after ``period`` (a quarter), or the first quarter after a fiscal year."""
    if period.is_whole_year:
        return FiscalPeriod(period.fiscal_year + 1, 1)
    if period.quarter == 4:
        return FiscalPeriod(period.fiscal_year + 1, 1)
    return FiscalPeriod(period.fiscal_year, period.quarter + 1)


# -- the published plan of a quarter (reads) --------------------------------------------


@dataclass(frozen=True)
class PublicationMoment(asof.Moment):
    """The exact instant a quarter was published, standing for that quarter: the plan is
    rebuilt at ``instant`` and "change from last quarter" runs against the quarter before
    ``period``."""

    instant: datetime.datetime | None = None
    period: FiscalPeriod | None = None

    @property
    def at(self) -> datetime.datetime:
        return self.instant

    @property
    def quarter(self) -> FiscalPeriod:
        return self.period


def published_summary(goal: Goal, period: FiscalPeriod) -> ProgressSummary | None:
    return ProgressSummary.objects.published().filter(goal=goal, period=period).first()


def goal_summaries(goal: Goal) -> list[ProgressSummary]:
    """The goal's quarterly updates, published or not, newest period first: one query."""
    return list(ProgressSummary.objects.filter(goal=goal).order_by("-period"))


@dataclass
class QuarterPlan:
    summary: ProgressSummary  # the live row: who published and when
    plan: plan.PublishedPlan  # the plan as it stood when published


def quarter_plan(goal: Goal, summary: ProgressSummary) -> QuarterPlan:
    """The plan of a published quarter exactly as it stood when it was published, with
    that quarter's update only: a fixed number of queries (asof.plan_as_of)."""
    moment = PublicationMoment(
        day=timezone.localdate(summary.published_at),
        instant=summary.published_at,
        period=summary.period,
    )
    past = asof.plan_as_of(goal, moment, with_progress=True, with_indicators=True)
    past.progress = [p for p in past.progress if p.period == summary.period]
    return QuarterPlan(summary=summary, plan=plan.published_plan_as_of(past))


def edition_label(
    *, published: ProgressSummary | None = None, as_of: asof.Moment | None = None
) -> str:
    """Which plan a printed copy is, for its running header: "Q3 FY19 update, published
    3 July 2019", "As it stood on 30 June 2019 (end of Q3 FY19)" or "Current plan, Q1
    FY20, printed 5 October 2019"."""
    if published is not None:
        return _("%(period)s update, published %(day)s") % {
            "period": published.period,
            "day": date_format(timezone.localtime(published.published_at), "j F Y"),
        }
    if as_of is not None:
        return _("As it stood on %(moment)s") % {"moment": as_of.label}
    today = timezone.localdate()
    return _("Current plan, %(quarter)s, printed %(day)s") % {
        "quarter": current_quarter(today),
        "day": date_format(today, "j F Y"),
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


def risk_heatmap(goals: list[Goal], *, today: datetime.date | None = None) -> HeatMap:
    """Goals × reporting quarters (of the goals' fiscal years, up to the current quarter),
    each cell the published risk: one query whatever the number of goals."""
    if not goals:
        return HeatMap([], [])
    current = current_quarter(today)
    published = {
        (s.goal_id, s.period): s
        for s in ProgressSummary.objects.published()
        .filter(goal__in=[g.pk for g in goals])
        .only("pk", "goal_id", "period", "risk", "published_at")
    }
    first = min(goal.first_fiscal_year for goal in goals)
    last = min(max(goal.last_fiscal_year for goal in goals), current.fiscal_year)
    # The goals' reporting quarters so far, and any other quarter something was published in.
    quarters = {
        FiscalPeriod(year, quarter)
        for year in range(first, last + 1)
        for quarter in (1, 2, 3, 4)
        if FiscalPeriod(year, quarter) <= current
    }
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
