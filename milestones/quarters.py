"""The app's clock: each goal's reporting quarter, and what follows from it.

A goal reports on one quarter at a time: the quarter after its last published one (the
first quarter of its period when none is published), never past its period's last
quarter nor the quarter containing today. An admin may hold it on a quarter
(``Goal.reporting_quarter_set``). Overdue, due this quarter, the status form's period,
"since last quarter", completeness, My goals and the reminders all follow it; the
wall-clock date enters only through that cap. See DESIGN.md, "Reporting quarter".

Every history row also records the reporting quarter its change belongs to
(``history_quarter``): ``history_quarter_of`` works it out when the change names none.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _

from milestones.models import Milestone, ProgressSummary, StatusUpdate
from strategies.models import Goal
from strategies.periods import FiscalPeriod, current_quarter, quarters_between


def last_published_subquery():
    """The key of a goal's last published quarter, for ``annotate()`` on goals."""
    return Subquery(
        ProgressSummary.objects.published()
        .filter(goal=OuterRef("pk"))
        .values("goal")
        .annotate(last=Max("period"))
        .values("last")[:1]
    )


def with_reporting_quarter(goals: QuerySet[Goal]) -> QuerySet[Goal]:
    """Goals annotated with what ``reporting_quarter`` needs: no query per goal."""
    return goals.annotate(last_published_key=last_published_subquery())


def last_published_quarter(goal: Goal) -> FiscalPeriod | None:
    """The goal's last published quarter (from the annotation when present)."""
    if hasattr(goal, "last_published_key"):
        key = goal.last_published_key
    else:
        key = (
            ProgressSummary.objects.published()
            .filter(goal=goal)
            .aggregate(last=Max("period"))["last"]
        )
    if key is None:
        return None
    return key if isinstance(key, FiscalPeriod) else FiscalPeriod.from_key(key)


def reporting_quarter(goal: Goal, *, today: datetime.date | None = None) -> FiscalPeriod:
    """The quarter ``goal``'s people are reporting on now (kept on the instance until the
    goal is saved again or a quarter is published: ``forget_reporting_quarter``)."""
    stamp = (goal.version, goal.reporting_quarter_set)
    cached = getattr(goal, "_reporting_quarter", None)
    if cached is not None and today is None and cached[0] == stamp:
        return cached[1]
    if goal.reporting_quarter_set is not None:
        quarter = goal.reporting_quarter_set
    else:
        last = last_published_quarter(goal)
        quarter = last.next_quarter() if last is not None else goal.first_quarter
    quarter = min(quarter, goal.last_quarter, current_quarter(today))
    if today is None:
        goal._reporting_quarter = (stamp, quarter)
    return quarter


def reporting_is_done(goal: Goal) -> bool:
    """Every quarter of the goal's period is published (the last one is): nothing is left
    to report; the goal waits to be closed. No query with the ``with_reporting_quarter``
    annotation."""
    last = last_published_quarter(goal)
    return last is not None and last >= goal.last_quarter


def forget_reporting_quarter(goal: Goal) -> None:
    """After a publication or an admin's change: the next read works it out again."""
    goal.__dict__.pop("_reporting_quarter", None)
    goal.__dict__.pop("last_published_key", None)


def reporting_quarter_has_ended(goal: Goal, *, today: datetime.date | None = None) -> bool:
    """True once the reporting quarter is over: its data call can go out."""
    return reporting_quarter(goal, today=today) < current_quarter(today)


def published_quarters(goal: Goal) -> set[FiscalPeriod]:
    return set(
        ProgressSummary.objects.published().filter(goal=goal).values_list("period", flat=True)
    )


def reportable_quarters(goal: Goal) -> list[FiscalPeriod]:
    """The quarters a status update or quarterly update may report on now, newest first:
    the goal's quarters up to its reporting quarter that are not published."""
    if reporting_is_done(goal):
        return []
    published = published_quarters(goal)
    quarters = quarters_between(goal.first_quarter, reporting_quarter(goal))
    return [quarter for quarter in reversed(quarters) if quarter not in published]


def holdable_quarters(goal: Goal) -> list[FiscalPeriod]:
    """The quarters an admin may hold ``goal`` on, oldest first: those of its period
    after its last published one (a published quarter does not change; holding the goal
    there would stamp new changes into it)."""
    last = last_published_quarter(goal)
    first = last.next_quarter() if last is not None else goal.first_quarter
    return quarters_between(first, goal.last_quarter)


def reporting_period_error(*, goal: Goal, period: FiscalPeriod) -> ValidationError | None:
    """Why ``period`` cannot be reported on for ``goal`` now (None if it can): only a
    quarter of the goal's period, not published, and not after its reporting quarter."""
    current = reporting_quarter(goal)
    values = {"period": period, "current": current, "cycle": goal_period_label(goal)}
    if reporting_is_done(goal):
        message = (
            _(
                "Every quarter of the goal's period, %(cycle)s, is published: nothing more is "
                "reported on it."
            )
            % values
        )
        code = "reporting_done"
    elif not period.is_quarter:
        message = _("Report on a quarter, e.g. %(current)s.") % values
        code = "period_quarter"
    elif not goal.first_quarter <= period <= goal.last_quarter:
        message = (
            _("%(period)s is outside the goal's period, %(cycle)s: report on %(current)s.")
            % values
        )
        code = "period_outside_goal"
    elif period > current:
        message = (
            _(
                "%(period)s is after the quarter being reported on, %(current)s: its update "
                "comes once %(current)s is published."
            )
            % values
        )
        code = "period_after_reporting_quarter"
    elif ProgressSummary.objects.published().filter(goal=goal, period=period).exists():
        message = _("%(period)s is published and does not change: report on %(current)s.") % values
        code = "period_published"
    else:
        return None
    return ValidationError(message, code=code)


def goal_period_label(goal: Goal) -> str:
    """ "FY18–FY19": the fiscal years a goal runs over (an en dash reads the same in
    every language)."""
    first, last = FiscalPeriod(goal.first_fiscal_year), FiscalPeriod(goal.last_fiscal_year)
    if first == last:
        return str(first)
    return f"{first}–{last}"


# -- each goal's reporting quarter in one query over many goals ----------------------------


def goals_by_quarter(goals: Iterable[Goal]) -> dict[FiscalPeriod, list[int]]:
    """The goals' ids by their reporting quarter (annotate the goals with
    ``with_reporting_quarter`` first: no query)."""
    groups: dict[FiscalPeriod, list[int]] = defaultdict(list)
    for goal in goals:
        groups[reporting_quarter(goal)].append(goal.pk)
    return dict(groups)


def per_goal_q(
    groups: dict[FiscalPeriod, list[int]], condition: Callable[[FiscalPeriod], Q], prefix=""
) -> Q:
    """``condition`` of each milestone's goal's reporting quarter (``overdue_q``,
    ``due_this_quarter_q``…), for one query over the milestones of ``groups``' goals:
    one term per distinct quarter, not per goal."""
    terms = [
        Q(**{f"{prefix}goal_id__in": goal_ids}) & condition(quarter)
        for quarter, goal_ids in groups.items()
    ]
    return functools.reduce(operator.or_, terms) if terms else Q(pk__in=[])


def reporting_key_case(groups: dict[FiscalPeriod, list[int]]) -> Case:
    """Each milestone's goal's reporting quarter key, for ``annotate()``."""
    whens = [When(goal_id__in=ids, then=Value(quarter.key)) for quarter, ids in groups.items()]
    return Case(*whens, default=Value(None), output_field=IntegerField())


# -- the second time axis of history ----------------------------------------------------------


def history_quarter_of(instance) -> int | None:
    """The reporting quarter (key) a change of ``instance`` belongs to, when the change
    names none: a status update's or quarterly update's own period; for anything else of
    a goal, the goal's reporting quarter at the time of the change; None for an agency."""
    if isinstance(instance, StatusUpdate | ProgressSummary):
        return instance.period.key if instance.period is not None else None
    if isinstance(instance, Goal):
        goal = instance
    elif isinstance(instance, Milestone) or hasattr(instance, "goal_id"):
        goal = _goal_of(instance)
    elif hasattr(instance, "indicator_id"):
        goal = _goal_of(instance.indicator)
    else:
        return None
    if goal is None or goal.pk is None:
        return None
    if goal.first_fiscal_year is None or goal.last_fiscal_year is None:
        return None
    return reporting_quarter(goal).key


def _goal_of(instance) -> Goal | None:
    if getattr(instance, "goal_id", None) is None:
        return None
    return instance.goal  # usually cached by the caller: no query
