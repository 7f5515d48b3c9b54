"""Key indicators (reads): a goal's indicators with their values, for the indicator
pages. Their forms are in ``strategies.forms``, their writes in ``strategies.services``."""

from __future__ import annotations

from django.db.models import Prefetch

from strategies.models import Goal, Indicator, IndicatorValue


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
