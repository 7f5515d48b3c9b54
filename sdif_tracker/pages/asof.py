"""The plan as it stood at a past moment, rebuilt from history; what changed since the
previous reporting quarter; and two quarters compared.

Every reconstruction runs one query per model whatever the number of rows or versions:
the latest version of each object at the moment is picked by a correlated subquery on
the history table (works on SQLite and PostgreSQL), and a latest version that is a
deletion drops the object. History is read through simple-history's managers only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from operator import attrgetter

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from milestones.models import Milestone, ProgressSummary
from strategies.models import Goal, Indicator, IndicatorValue, Strategy
from strategies.periods import MIN_FISCAL_YEAR, FiscalPeriod, check_day, current_quarter

# -- moments ----------------------------------------------------------------------------


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of ``day`` in the project's time zone (settings.TIME_ZONE)."""
    naive = datetime.datetime.combine(day, datetime.time.max)
    return timezone.make_aware(naive, timezone.get_default_timezone())


@dataclass(frozen=True)
class Moment:
    """A past instant the plan is shown at: the end of ``day``."""

    day: datetime.date

    @property
    def at(self) -> datetime.datetime:
        return end_of_day(self.day)

    @property
    def quarter(self) -> FiscalPeriod:
        return FiscalPeriod.containing(self.day)

    @property
    def is_quarter_end(self) -> bool:
        return self.quarter.end == self.day

    @property
    def param(self) -> str:
        """The ``as_of`` value that shows this moment again."""
        return self.day.isoformat()

    @property
    def label(self) -> str:
        """ "30 June 2019 (end of Q3 FY19)", or "15 May 2019 (in Q3 FY19)"."""
        day = date_format(self.day, "j F Y")
        if self.is_quarter_end:
            return _("%(day)s (end of %(quarter)s)") % {"day": day, "quarter": self.quarter}
        return _("%(day)s (in %(quarter)s)") % {"day": day, "quarter": self.quarter}


def parse_moment(text: str, *, today: datetime.date | None = None) -> Moment:
    """A ``Moment`` from a date (``2019-06-30``) or a period (``Q3 FY19``, ``FY19``: the
    end of it). Raises ``ValueError`` with a message a person can act on."""
    today = today or timezone.localdate()
    text = (text or "").strip()
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        try:
            period = FiscalPeriod.parse(text)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date or a quarter (write e.g. 2019-06-30 or Q3 FY19).")
                % {"value": text[:40]}
            ) from None
        if period.is_ongoing:
            raise ValueError(_("“Ongoing” has no end: choose a date or a quarter.")) from None
        day = period.end
    if day > today:
        raise ValueError(
            _("%(day)s is in the future.") % {"day": date_format(day, "j F Y")}
        ) from None
    check_day(day)  # a past date before the first fiscal year a page can show
    return Moment(day)


def quarter_moment(period: FiscalPeriod, *, today: datetime.date | None = None) -> Moment:
    """The end of a quarter, or today for the quarter in progress."""
    today = today or timezone.localdate()
    return Moment(min(period.end, today))


def previous_quarter_moment(moment: Moment | None) -> Moment:
    """The end of the reporting quarter before the one ``moment`` (None: now) falls in."""
    quarter = moment.quarter if moment is not None else current_quarter()
    if quarter == FiscalPeriod(MIN_FISCAL_YEAR, 1):
        # No quarter before the first one a period may name, and nothing was recorded
        # then: its first day is as far back as there is to compare with.
        return Moment(quarter.start)
    return Moment(quarter.previous_quarter().end)


def reporting_quarters(goal: Goal, *, today: datetime.date | None = None) -> list[FiscalPeriod]:
    """Every quarter from the goal's first fiscal year up to the current one, newest first."""
    quarter = current_quarter(today)
    first = FiscalPeriod(min(goal.first_fiscal_year, quarter.fiscal_year), 1)
    quarters = [quarter]
    while quarter > first:
        quarter = quarter.previous_quarter()
        quarters.append(quarter)
    return quarters


def ended_quarter_ends(goal: Goal, *, today: datetime.date | None = None) -> list[Moment]:
    """The ends of the goal's reporting quarters that have ended, newest first (the picker)."""
    today = today or timezone.localdate()
    return [Moment(q.end) for q in reporting_quarters(goal, today=today) if q.end < today]


# -- reconstruction ---------------------------------------------------------------------


def latest_versions(history, at: datetime.datetime, **filters):
    """History rows of ``history`` (a simple-history manager) that are each object's
    latest version at ``at``, deletions left out, narrowed by ``filters``: one query."""
    newest = (
        history.filter(id=OuterRef("id"), history_date__lte=at)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return (
        history.filter(history_date__lte=at, **filters)
        .filter(history_id=Subquery(newest))
        .exclude(history_type="-")
    )


def _instances(records) -> list:
    return [record.instance for record in records]


def milestones_at(goal: Goal, at: datetime.datetime) -> list[Milestone]:
    """The goal's milestones as they stood at ``at``, in plan order (no relations set)."""
    milestones = _instances(latest_versions(Milestone.history, at, goal_id=goal.pk))
    milestones.sort(key=lambda m: (m.position, m.pk))
    return milestones


@dataclass
class PlanAsOf:
    """A goal as it stood at ``moment``; ``goal`` is None when it did not exist yet."""

    moment: Moment
    goal: Goal | None
    strategies: list[Strategy] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    progress: list[ProgressSummary] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)

    @property
    def existed(self) -> bool:
        return self.goal is not None


def plan_as_of(
    live_goal: Goal,
    moment: Moment,
    *,
    with_progress: bool = False,
    with_indicators: bool = False,
) -> PlanAsOf:
    """``live_goal``'s plan as it stood at ``moment``: the goal, its strategies and
    milestones (3 queries), and on request its progress summaries (1) and indicators
    with their values (2). Relations between them are resolved from the same moment."""
    at = moment.at
    record = (
        Goal.changes.filter(id=live_goal.pk, history_date__lte=at)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if record is None or record.history_type == "-":
        return PlanAsOf(moment, None)
    goal = record.instance
    # Links and URLs use today's slug: an old slug would lead nowhere.
    goal.slug = live_goal.slug
    if goal.agency_id == live_goal.agency_id:
        goal.agency = live_goal.agency

    strategies = _instances(latest_versions(Strategy.history, at, goal_id=goal.pk))
    strategies.sort(key=lambda s: (s.number, s.pk))
    by_id = {s.pk: s for s in strategies}
    for strategy in strategies:
        strategy.goal = goal

    milestones = milestones_at(live_goal, at)
    milestone_by_id = {m.pk: m for m in milestones}
    for milestone in milestones:
        milestone.goal = live_goal
        # Through the field cache: assigning None would also clear strategy_id.
        Milestone.strategy.field.set_cached_value(milestone, by_id.get(milestone.strategy_id))
        Milestone.depends_on.field.set_cached_value(
            milestone, milestone_by_id.get(milestone.depends_on_id)
        )

    plan = PlanAsOf(moment, goal, strategies, milestones)
    if with_progress:
        plan.progress = sorted(
            _instances(latest_versions(ProgressSummary.history, at, goal_id=goal.pk)),
            key=lambda p: p.period,
            reverse=True,
        )
    if with_indicators:
        indicators = _instances(latest_versions(Indicator.history, at, goal_id=goal.pk))
        indicators.sort(key=lambda i: (i.position, i.pk))
        values = _instances(
            latest_versions(
                IndicatorValue.history, at, indicator_id__in=[i.pk for i in indicators]
            )
        )
        for indicator in indicators:
            indicator.period_values = sorted(
                (v for v in values if v.indicator_id == indicator.pk), key=lambda v: v.period
            )
        plan.indicators = indicators
    return plan


# -- change since last quarter ------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    text: str
    kind: str  # "new", "status", "due", "strategy", "title", "comment", "none"


def _due_label(period: FiscalPeriod | None) -> str:
    return str(period) if period is not None else _("no due date")


# What two versions of a milestone are compared on, in the order changes are listed. The
# due is the effective due (the revised due where set), as the filters, the matrix and
# "overdue" read it: a correction of the original due behind a revision is no move.
MILESTONE_FIELDS = {
    "status": attrgetter("status"),
    "due": attrgetter("effective_due"),
    "strategy": attrgetter("strategy_id"),
    "title": attrgetter("title"),
    "comment": attrgetter("comment"),
}


def milestone_diff(before: Milestone, after: Milestone) -> frozenset[str]:
    """The names in ``MILESTONE_FIELDS`` on which two versions of a milestone differ."""
    return frozenset(
        name for name, value in MILESTONE_FIELDS.items() if value(before) != value(after)
    )


def milestone_changes(
    milestone: Milestone, before: Milestone | None, strategies: dict[int, Strategy]
) -> list[Change]:
    """What changed in ``milestone`` since ``before`` (None: it did not exist then), in
    words: New / Status: A → B / Due moved: A → B / … / No change."""
    if before is None:
        return [Change(_("New"), "new")]
    changed = milestone_diff(before, milestone)
    changes = []
    if "status" in changed:
        changes.append(
            Change(
                _("Status: %(old)s → %(new)s")
                % {"old": before.get_status_display(), "new": milestone.get_status_display()},
                "status",
            )
        )
    if "due" in changed:
        changes.append(
            Change(
                _("Due moved: %(old)s → %(new)s")
                % {
                    "old": _due_label(before.effective_due),
                    "new": _due_label(milestone.effective_due),
                },
                "due",
            )
        )
    if "strategy" in changed:
        strategy = strategies.get(milestone.strategy_id)
        if milestone.strategy_id is None:
            text = _("No longer aligned to a strategy")
        elif strategy is not None:
            text = _("Moved to strategy %(number)d") % {"number": strategy.number}
        else:
            text = _("Moved to another strategy")
        changes.append(Change(text, "strategy"))
    if "title" in changed:
        changes.append(Change(_("Title changed"), "title"))
    if "comment" in changed:
        changes.append(Change(_("Comment changed"), "comment"))
    return changes or [Change(_("No change"), "none")]


@dataclass(frozen=True)
class SinceLastQuarter:
    """The reference point of the "since last quarter" column."""

    moment: Moment

    @property
    def label(self) -> str:
        """ "the end of Q2 FY19 (31 March 2019)" """
        return _("the end of %(quarter)s (%(day)s)") % {
            "quarter": self.moment.quarter,
            "day": date_format(self.moment.day, "j F Y"),
        }


def changes_since_last_quarter(
    goal: Goal, milestones: list[Milestone], strategies: list[Strategy], shown: Moment | None
) -> tuple[SinceLastQuarter, dict[int, list[Change]]]:
    """Each of ``milestones`` (the plan at ``shown``; None: now) against the end of the
    previous quarter: that reference point and the changes by milestone id; one query."""
    reference = previous_quarter_moment(shown)
    previous = {m.pk: m for m in milestones_at(goal, reference.at)}
    by_id = {s.pk: s for s in strategies}
    changes = {m.pk: milestone_changes(m, previous.get(m.pk), by_id) for m in milestones}
    return SinceLastQuarter(reference), changes


def change_since_last_quarter(milestone: Milestone) -> list[Change]:
    """``changes_since_last_quarter`` for one live milestone (the htmx row): one query."""
    reference = previous_quarter_moment(None)
    record = (
        Milestone.history.filter(id=milestone.pk, history_date__lte=reference.at)
        .order_by("-history_date", "-history_id")
        .first()
    )
    before = record.instance if record is not None and record.history_type != "-" else None
    strategies = {milestone.strategy_id: milestone.strategy} if milestone.strategy_id else {}
    return milestone_changes(milestone, before, strategies)


def requested_moment(request) -> Moment | None:
    """The ``as_of`` moment asked for; None (with a message saying why) when it is
    missing or not understood, so the page shows the current plan instead."""
    text = request.GET.get("as_of", "").strip()
    if not text:
        return None
    try:
        return parse_moment(text)
    except ValueError as error:
        messages.warning(request, _("%(problem)s Showing the current plan.") % {"problem": error})
        return None
