"""``{% goal_lifecycle goal as lifecycle %}``: what the goal header and the plan page show
of a goal's clock and cycle, so that every page including them shows it without each
view building it: the reporting quarter (not on a page of the past), whether the goal is
closed and may be closed, and the goals of the cycles before and after it.

The linked goals are only those the reader may see: the template context's
``visible_goals`` (the site's context processor, ``sdif_tracker.access.visible_goals``
for the reader) decides; without it none is linked, so nothing leaks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django import template
from django.db.models import Q

from milestones.lifecycle import can_close
from milestones.quarters import reporting_quarter
from strategies.models import Goal
from strategies.periods import FiscalPeriod

register = template.Library()


@dataclass(frozen=True)
class GoalLifecycle:
    reporting_quarter: FiscalPeriod | None  # None on a page of the past
    closed_on: datetime.datetime | None
    can_close: bool  # closing is offered (to admins)
    continued_by: Goal | None
    continues: list[Goal] = field(default_factory=list)


@register.simple_tag(takes_context=True)
def goal_lifecycle(context, goal) -> GoalLifecycle:
    """``goal``'s lifecycle for the page in ``context``: one query for the links, and
    none for the quarter when the goal was fetched through ``sdif_tracker.access``
    (annotated with its last published quarter)."""
    past = bool(context.get("as_of"))
    visible = context.get("visible_goals")
    if callable(visible):  # evaluated only here, when a page shows the links
        visible = visible()
    continued_by, continues = None, []
    # ``is_continued``: annotated by sdif_tracker.access (no query when nothing links).
    linked_at_all = goal.continued_by_id is not None or getattr(goal, "is_continued", True)
    if visible is not None and linked_at_all:
        # Both directions in one query: the goal it names, and the goals naming it.
        linked = Q(continued_by_id=goal.pk)
        if goal.continued_by_id is not None:
            linked |= Q(pk=goal.continued_by_id)
        for other in visible.filter(linked).order_by("first_fiscal_year", "pk"):
            if other.pk == goal.continued_by_id:
                continued_by = other
            else:
                continues.append(other)
    return GoalLifecycle(
        reporting_quarter=None if past else reporting_quarter(goal),
        closed_on=goal.closed_at,
        can_close=not past and can_close(goal),
        continued_by=continued_by,
        continues=continues,
    )
