"""Key indicators (reads): a goal's indicators with their values, for the indicator
pages; the rows of the actuals page; which indicators a plan shows, and the sources the
data accuracy statement names. Their forms are in ``strategies.forms``, their writes in
``strategies.services`` (definitions) and ``milestones.indicator_actuals`` (actuals)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from milestones.indicator_actuals import lock_quarter, period_due
from strategies.models import Goal, Indicator, IndicatorValue
from strategies.periods import FiscalPeriod


def goal_indicators(goal: Goal) -> list[Indicator]:
    """The goal's indicators with ``period_values`` (oldest first): two queries."""
    items = list(
        goal.indicators.order_by("position", "id").prefetch_related(
            Prefetch("values", queryset=IndicatorValue.objects.order_by("period"))
        )
    )
    # Through the goal's manager: each indicator's ``goal`` is this instance, not a query.
    for indicator in items:
        indicator.period_values = list(indicator.values.all())
    return items


@dataclass
class ActualRow:
    """One indicator on the actuals page: the period its actual is entered for in the
    quarter shown (None: not due then, an annual indicator before Q4), its value for
    that period if any, and the form (set by the view)."""

    indicator: Indicator
    period: FiscalPeriod | None
    value: IndicatorValue | None
    form: object = None
    conflict: list | None = None  # after a stale save: what others saved since

    @property
    def lock_quarter(self) -> FiscalPeriod | None:
        return lock_quarter(self.period) if self.period is not None else None


def actual_rows(goal: Goal, quarter: FiscalPeriod) -> list[ActualRow]:
    """Each indicator of ``goal`` with the period due in ``quarter`` and its value for it:
    two queries whatever the number of indicators."""
    items = list(goal.indicators.order_by("position", "id"))
    due = {indicator.pk: period_due(indicator, quarter) for indicator in items}
    periods = {period for period in due.values() if period is not None}
    values = {
        (v.indicator_id, v.period): v
        for v in IndicatorValue.objects.filter(
            indicator__in=[i.pk for i in items], period__in=periods
        )
    }
    return [
        ActualRow(
            indicator,
            due[indicator.pk],
            values.get((indicator.pk, due[indicator.pk])) if due[indicator.pk] else None,
        )
        for indicator in items
    ]


def shown_indicators(indicators: list, *, with_internal: bool) -> list:
    """The indicators a plan shows: the published ones, and with ``with_internal`` (a
    signed-in user reading the current plan) the internal ones too, which the page marks
    "Internal". A published quarter and the PDF show the published ones only."""
    return [i for i in indicators if with_internal or i.is_published]


@dataclass(frozen=True)
class IndicatorSource:
    name: str
    source: str


def published_sources(indicators: list) -> list[IndicatorSource]:
    """Each published indicator's data source, for the data accuracy statement ("Not
    stated" where an indicator names none)."""
    return [IndicatorSource(i.name, i.data_source.strip()) for i in indicators if i.is_published]
