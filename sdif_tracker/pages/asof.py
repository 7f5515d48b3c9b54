"""The plan of the past, rebuilt from history on either of its two time axes; what
changed since the previous reporting quarter; and two quarters compared.

History has two time axes (DESIGN.md, "History"): when a change was recorded
(``history_date``, never backdated) and the reporting quarter it belongs to
(``history_quarter``). A *view* of the past names a cutoff on them:

- ``Moment`` — *as recorded on* a date: what the database held at the end of that day;
- ``ReportedFor`` — *as reported for* a quarter: every change that belongs to that
  quarter or an earlier one, in recorded order (optionally only those recorded by an
  instant: a published quarter's snapshot, or the quarter before a past moment).

Every view has ``quarter`` (the reporting quarter it stands for: overdue and "since last
quarter" read it), ``label``, ``param``/``query`` (the URL that shows it again) and
``rows(history)``, the history rows it may see. Every reconstruction then runs one query
per model whatever the number of rows or versions: each object's latest visible version
is picked by a correlated subquery on the history table (SQLite and PostgreSQL alike),
and a latest version that is a deletion drops the object. History is read through
simple-history's managers only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from operator import attrgetter
from typing import ClassVar

from django.contrib import messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from milestones.models import Milestone, ProgressSummary
from milestones.quarters import reporting_quarter
from strategies.models import Goal, Indicator, IndicatorValue, Strategy
from strategies.periods import MIN_FISCAL_YEAR, FiscalPeriod, check_day, quarters_between

# -- views of the past ---------------------------------------------------------------------


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last instant of ``day`` in the project's time zone (settings.TIME_ZONE)."""
    naive = datetime.datetime.combine(day, datetime.time.max)
    return timezone.make_aware(naive, timezone.get_default_timezone())


class _View:
    """What every view of the past offers the pages (see the module docstring). Each
    view defines ``param`` (the value of ``param_name`` that shows it again),
    ``quarter`` and ``recorded_by``."""

    param_name: ClassVar[str]

    @property
    def query(self) -> str:
        """The query string that shows this view again: "as_of=2019-06-30"."""
        return urlencode({self.param_name: self.param})

    def previous(self) -> ReportedFor | None:
        """What "since last quarter" compares this view with: as reported for the quarter
        before this view's quarter, never with anything recorded after this view's cutoff
        in time; None before the first quarter there is."""
        return previous_reported_for(self.quarter, recorded_by=self.recorded_by)


@dataclass(frozen=True)
class Moment(_View):
    """As recorded on ``day``: what the database held at the end of that day. It stands
    for the reporting quarter that contains the day."""

    day: datetime.date
    param_name: ClassVar[str] = "as_of"

    @property
    def at(self) -> datetime.datetime:
        return end_of_day(self.day)

    @property
    def recorded_by(self) -> datetime.datetime:
        return self.at

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
    def day_label(self) -> str:
        """ "30 June 2019 (end of Q3 FY19)", or "15 May 2019 (in Q3 FY19)"."""
        day = date_format(self.day, "j F Y")
        if self.is_quarter_end:
            return _("%(day)s (end of %(quarter)s)") % {"day": day, "quarter": self.quarter}
        return _("%(day)s (in %(quarter)s)") % {"day": day, "quarter": self.quarter}

    @property
    def label(self) -> str:
        """ "as recorded on 30 June 2019 (end of Q3 FY19)" """
        return _("as recorded on %(day)s") % {"day": self.day_label}

    def rows(self, history) -> QuerySet:
        """The history rows recorded by the end of the day."""
        return history.filter(history_date__lte=self.at)


@dataclass(frozen=True)
class ReportedFor(_View):
    """As reported for ``quarter``: every change that belongs to ``quarter`` or an earlier
    one, in recorded order; with ``recorded_by``, only those recorded by then."""

    quarter: FiscalPeriod
    recorded_by: datetime.datetime | None = None
    # Whether the quarter is published, where the page asked (``parse_reported_for``).
    is_published: bool = field(default=False, compare=False)
    param_name: ClassVar[str] = "quarter"

    @property
    def param(self) -> str:
        return str(self.quarter)

    @property
    def label(self) -> str:
        """ "as reported for Q3 FY19" """
        return _("as reported for %(quarter)s") % {"quarter": self.quarter}

    def rows(self, history) -> QuerySet:
        """The history rows stamped with ``quarter`` or earlier (and recorded by
        ``recorded_by``). A row with no quarter (an agency's) belongs to none."""
        rows = history.filter(history_quarter__lte=self.quarter.key)
        if self.recorded_by is not None:
            rows = rows.filter(history_date__lte=self.recorded_by)
        return rows


PastView = Moment | ReportedFor


def previous_reported_for(
    quarter: FiscalPeriod, *, recorded_by: datetime.datetime | None = None
) -> ReportedFor | None:
    """As reported for the quarter before ``quarter``; None for the first quarter a period
    may name, which has nothing before it."""
    if quarter == FiscalPeriod(MIN_FISCAL_YEAR, 1):
        return None
    return ReportedFor(quarter.previous_quarter(), recorded_by=recorded_by)


def parse_moment(text: str, *, today: datetime.date | None = None) -> Moment:
    """A ``Moment`` from a date (``2019-06-30``) or a period (``Q3 FY19``, ``FY19``: the
    end of it). Raises ``ValueError`` with a message a person can act on. A day after
    ``today`` is refused: nothing has been recorded then (the cap on recorded time)."""
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


def parse_reported_for(text: str, goal: Goal) -> ReportedFor:
    """A ``ReportedFor`` from a quarter (``Q3 FY19``) of ``goal`` up to its reporting
    quarter. Raises ``ValueError`` with a message a person can act on."""
    try:
        period = FiscalPeriod.parse((text or "").strip())
    except ValueError as error:
        raise ValueError(str(error)) from None
    if not period.is_quarter:
        raise ValueError(
            _("“%(value)s” is not a quarter (write e.g. Q2 FY19).") % {"value": period}
        )
    current = reporting_quarter(goal)
    if period > current:
        raise ValueError(
            _("Nothing is reported for %(quarter)s yet: the goal is reporting on %(current)s.")
            % {"quarter": period, "current": current}
        )
    published = ProgressSummary.objects.published().filter(goal=goal, period=period).exists()
    return ReportedFor(period, is_published=published)


def goal_quarters(goal: Goal) -> list[FiscalPeriod]:
    """The goal's quarters from its first up to its reporting quarter, newest first (the
    quarter picker and "compare two quarters")."""
    quarter = reporting_quarter(goal)
    return quarters_between(min(goal.first_quarter, quarter), quarter)[::-1]


def requested_view(request, goal: Goal) -> PastView | None:
    """The view of the past asked for: ``?quarter=`` (as reported for) or ``?as_of=`` (as
    recorded on); None (with a message saying why) when neither is given or understood,
    so the page shows the current plan."""
    for name, parse in (
        ("quarter", lambda text: parse_reported_for(text, goal)),
        ("as_of", parse_moment),
    ):
        text = request.GET.get(name, "").strip()
        if not text:
            continue
        try:
            return parse(text)
        except ValueError as error:
            messages.warning(
                request, _("%(problem)s Showing the current plan.") % {"problem": error}
            )
            return None
    return None


# -- reconstruction ---------------------------------------------------------------------


def latest_versions(history, view: PastView, *, deletions: bool = False, **filters):
    """History rows of ``history`` (a simple-history manager) that are each object's
    latest version in ``view``, narrowed by ``filters``; deletions left out unless
    asked for: one query. Callers narrow by ``history_goal_id``: with the view's cutoff
    it is a range of one index ((goal, quarter) or (goal, date)), whatever the size of
    the table."""
    visible = view.rows(history)
    newest = (
        visible.filter(id=OuterRef("id"))
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    rows = visible.filter(**filters).filter(history_id=Subquery(newest))
    return rows if deletions else rows.exclude(history_type="-")


def _instances(records) -> list:
    return [record.instance for record in records]


def milestones_at(goal: Goal, view: PastView) -> list[Milestone]:
    """The goal's milestones in ``view``, in plan order (no relations set)."""
    milestones = _instances(latest_versions(Milestone.history, view, history_goal_id=goal.pk))
    milestones.sort(key=lambda m: (m.position, m.pk))
    return milestones


@dataclass
class PlanAsOf:
    """A goal in a view of the past (``moment``); ``goal`` is None when it had no version
    there (it did not exist yet, or nothing of it was reported for the quarter)."""

    moment: PastView
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
    moment: PastView,
    *,
    with_progress: bool = False,
    with_indicators: bool = False,
) -> PlanAsOf:
    """``live_goal``'s plan in the view ``moment``: the goal, its strategies and
    milestones (3 queries), and on request its progress summaries (1) and indicators
    with their values (2). Relations between them are resolved in the same view."""
    record = (
        moment.rows(Goal.changes)
        .filter(id=live_goal.pk)
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
    # Which goals continue it is today's fact too (the header links to them).
    if hasattr(live_goal, "is_continued"):
        goal.is_continued = live_goal.is_continued

    strategies = _instances(latest_versions(Strategy.history, moment, history_goal_id=goal.pk))
    strategies.sort(key=lambda s: (s.number, s.pk))
    by_id = {s.pk: s for s in strategies}
    for strategy in strategies:
        strategy.goal = goal

    milestones = milestones_at(live_goal, moment)
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
            _instances(latest_versions(ProgressSummary.history, moment, history_goal_id=goal.pk)),
            key=lambda p: p.period,
            reverse=True,
        )
    if with_indicators:
        indicators = _instances(
            latest_versions(Indicator.history, moment, history_goal_id=goal.pk)
        )
        indicators.sort(key=lambda i: (i.position, i.pk))
        values = _instances(
            latest_versions(
                IndicatorValue.history,
                moment,
                history_goal_id=goal.pk,
                indicator_id__in=[i.pk for i in indicators],
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
    """The reference point of the "since last quarter" column: the plan as reported for
    the quarter before ``quarter`` (``reference``; None when there is none before it)."""

    quarter: FiscalPeriod  # the quarter of the plan shown
    reference: ReportedFor | None

    @property
    def label(self) -> str:
        """ "the plan as reported for Q2 FY19" """
        if self.reference is None:
            return _("the start of %(quarter)s") % {"quarter": self.quarter}
        return _("the plan as reported for %(quarter)s") % {"quarter": self.reference.quarter}


def since_last_quarter(goal: Goal, shown: PastView | None) -> SinceLastQuarter:
    """What the plan ``shown`` (None: the current plan, which stands for the goal's
    reporting quarter) is compared with."""
    if shown is None:
        quarter = reporting_quarter(goal)
        return SinceLastQuarter(quarter, previous_reported_for(quarter))
    return SinceLastQuarter(shown.quarter, shown.previous())


def changes_since_last_quarter(
    goal: Goal, milestones: list[Milestone], strategies: list[Strategy], shown: PastView | None
) -> tuple[SinceLastQuarter, dict[int, list[Change]]]:
    """Each of ``milestones`` (the plan ``shown``; None: now) against the plan as reported
    for the quarter before: that reference point and the changes by milestone id; one
    query at most."""
    since = since_last_quarter(goal, shown)
    previous = _compared_versions(goal, since.reference) if since.reference is not None else {}
    by_id = {s.pk: s for s in strategies}
    changes = {m.pk: milestone_changes(m, previous.get(m.pk), by_id) for m in milestones}
    return since, changes


# What ``milestone_changes`` reads of the version compared with (MILESTONE_FIELDS).
_COMPARED = ("id", "status", "due", "revised_due", "strategy_id", "title", "comment")


def _compared_versions(goal: Goal, view: PastView) -> dict[int, Milestone]:
    """The goal's milestones in ``view`` with only the fields compared, by id: one query,
    lighter than ``milestones_at`` (the dashboard lists every milestone)."""
    rows = latest_versions(Milestone.history, view, history_goal_id=goal.pk).values(*_COMPARED)
    return {row["id"]: Milestone(**row) for row in rows}


def change_since_last_quarter(milestone: Milestone) -> list[Change]:
    """``changes_since_last_quarter`` for one live milestone (the htmx row): one query."""
    reference = since_last_quarter(milestone.goal, None).reference
    record = None
    if reference is not None:
        record = (
            reference.rows(Milestone.history)
            .filter(id=milestone.pk)
            .order_by("-history_date", "-history_id")
            .first()
        )
    before = record.instance if record is not None and record.history_type != "-" else None
    strategies = {milestone.strategy_id: milestone.strategy} if milestone.strategy_id else {}
    return milestone_changes(milestone, before, strategies)


# -- a published quarter corrected afterwards -------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """A milestone whose version as reported for a published quarter differs from the
    published one: recorded after publication, by ``username``, at ``recorded_at``."""

    milestone_id: int
    title: str
    changes: list[Change]  # published → as reported for now
    recorded_at: datetime.datetime
    username: str


def corrections_since(
    goal: Goal,
    published: list[Milestone],
    strategies: list[Strategy],
    quarter: FiscalPeriod,
    *,
    after: datetime.datetime,
) -> list[Correction]:
    """Where the plan as reported for ``quarter`` now differs from ``published`` (its
    milestones as published at ``after``, with its ``strategies``) because of changes
    belonging to ``quarter`` or earlier recorded after publication, in plan order: one
    query."""
    records = latest_versions(
        Milestone.history, ReportedFor(quarter), deletions=True, history_goal_id=goal.pk
    ).filter(history_date__gt=after)
    before = {m.pk: m for m in published}
    by_id = {s.pk: s for s in strategies}
    corrections = []
    for record in records:
        old = before.get(record.id)
        if record.history_type == "-":
            if old is None:
                continue
            changes = [Change(_("Removed from the plan"), "removed")]
        else:
            new = record.instance
            if old is not None and not milestone_diff(old, new):
                continue
            changes = milestone_changes(new, old, by_id)
        corrections.append(
            Correction(
                milestone_id=record.id,
                title=record.title,
                changes=changes,
                recorded_at=record.history_date,
                username=record.history_username or _("someone"),
            )
        )
    position = {m.pk: (m.position, m.pk) for m in published}
    corrections.sort(key=lambda c: position.get(c.milestone_id, (10**9, c.milestone_id)))
    return corrections
