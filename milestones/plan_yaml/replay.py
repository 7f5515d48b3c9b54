"""Writing what a plan reported in its quarters: its status updates and quarterly updates
replayed quarter by quarter, each change stamped with the quarter it belongs to.

The recorded time of every row is the import's (history is never backdated) and its
source the import's; ``history_quarter`` is the quarter the change reports on, so "as
reported for Q3 FY19" shows the plan as the file says it stood then. Status updates are
append-only: an update recorded already is not added again, and a file whose history
contradicts the recorded one is refused, as is a change to a published quarter.
"""

from __future__ import annotations

from itertools import groupby

from django.utils import timezone

from audit.history import recorded_change
from milestones.models import Milestone, ProgressSummary, ReviewState, StatusUpdate
from milestones.plan_yaml.data import MilestoneData, PlanData, PlanError, ProgressData, UpdateData
from milestones.plan_yaml.loader import _where
from milestones.quarters import forget_reporting_quarter, reporting_quarter
from strategies.models import Goal
from strategies.periods import FiscalPeriod

# The milestone fields a status update writes, as ``record_status_update`` does.
STATE_FIELDS = ("status", "comment", "revised_due")


def first_reported_quarter(plan: PlanData) -> FiscalPeriod | None:
    """The earliest quarter the plan reports on (a status update's or a quarterly
    update's); None if it reports on none. A new goal's plan is stamped with it."""
    quarters = [u.quarter for m in plan.milestones for u in m.updates or ()]
    quarters += [p.period for p in plan.progress if p.period.is_quarter]
    return min(quarters, default=None)


def _describe_milestone(data: MilestoneData) -> str:
    return f'milestone {data.position} ("{data.title}")'


def _recorded_key(update: StatusUpdate) -> tuple:
    return (update.period, update.status, update.comment, update.revised_due)


def new_updates(
    milestone: Milestone, data: MilestoneData, published: set[FiscalPeriod]
) -> tuple[list[tuple[int, UpdateData]], list[str]]:
    """The file's status updates of ``milestone`` not recorded yet ((index in the file,
    update) pairs), and the errors: per quarter, the recorded updates must be the first
    ones the file gives for that quarter, in the same order, and a published quarter
    takes none."""
    if data.updates is None:  # format 1: the file does not speak of history
        return [], []
    path = f"milestones[{data.position - 1}].updates"
    in_file = sorted(enumerate(data.updates), key=lambda pair: pair[1].quarter)
    by_quarter = {q: list(items) for q, items in groupby(in_file, key=lambda p: p[1].quarter)}
    recorded: dict[FiscalPeriod, list[StatusUpdate]] = {}
    if milestone.pk is not None:
        for update in milestone.status_updates.order_by("created_at", "id"):
            recorded.setdefault(update.period, []).append(update)
    added, errors = [], []
    for quarter in sorted(set(by_quarter) | set(recorded)):
        given, kept = by_quarter.get(quarter, []), recorded.get(quarter, [])
        prefix = [update.key for _, update in given[: len(kept)]]
        if prefix != [_recorded_key(update) for update in kept]:
            line = given[0][1].line if given else data.line
            errors.append(
                _where(
                    line,
                    path,
                    f"{_describe_milestone(data)} has {len(kept)} status update(s) recorded "
                    f"for {quarter} that this file does not give, in that order: status "
                    "updates are never changed or removed (add a new one instead)",
                )
            )
            continue
        extra = given[len(kept) :]
        if extra and quarter in published:
            index, update = extra[0]
            errors.append(
                _where(
                    update.line,
                    f"{path}[{index}]",
                    f"{quarter} is published: {_describe_milestone(data)} cannot get another "
                    "status update for it",
                )
            )
            continue
        added.extend(extra)
    return added, errors


def initial_state(data: MilestoneData) -> dict[str, object]:
    """A milestone created with updates to replay starts with nothing reported: TBD, no
    comment, and the revised due only if no update sets one. Its first update then makes
    "as reported for" its quarter show exactly what the file reports for it."""
    sets_revised_due = any(update.revised_due for update in data.updates or ())
    return {
        "status": "tbd",
        "comment": "",
        "revised_due": None if sets_revised_due else data.revised_due,
    }


def replay(
    *,
    goal: Goal,
    plan: PlanData,
    milestones: list[Milestone],
    pending: list[list[tuple[int, UpdateData]]],
    created: set[int],
    user,
    save,
) -> None:
    """Write the plan's new status updates and its quarterly updates quarter by quarter
    (ascending), each quarter inside ``recorded_change(quarter=...)``: the quarter's
    status updates, then its quarterly update, then its publication. Then the
    milestones' own state where the file's differs from what the updates left, stamped
    with the goal's reporting quarter. ``save`` is the writer's validated save."""
    existing = {p.period: p for p in goal.progress_summaries.all()}
    published = {period for period, summary in existing.items() if summary.is_published}
    errors = _published_conflicts(plan, existing)
    if errors:
        raise PlanError(errors)
    progress = {data.period: (index, data) for index, data in enumerate(plan.progress)}
    periods = {update.quarter for items in pending for _, update in items} | set(progress)
    for period in sorted(periods):
        with recorded_change(quarter=period):
            for position, milestone in enumerate(milestones):
                for index, update in pending[position]:
                    if update.quarter == period:
                        _write_update(
                            milestone,
                            update,
                            first=position in created,
                            path=f"milestones[{position}].updates[{index}]",
                            user=user,
                            save=save,
                        )
                        created.discard(position)
            if period in progress and period not in published:
                index, data = progress[period]
                summary = existing.get(period) or ProgressSummary(goal=goal)
                _write_quarterly(summary, data, path=f"progress[{index}]", user=user, save=save)
    for period, summary in existing.items():
        if period not in progress:
            summary.delete()
    forget_reporting_quarter(goal)
    with recorded_change(quarter=reporting_quarter(goal)):
        pairs = zip(milestones, plan.milestones, strict=True)
        for position, (milestone, data) in enumerate(pairs):
            save(
                milestone,
                {name: getattr(data, name) for name in STATE_FIELDS},
                path=f"milestones[{position}]",
                line=data.line,
            )


def _published_conflicts(plan: PlanData, existing: dict) -> list[str]:
    """A published quarterly update is frozen: the file must give it as it is (or, a
    format 1 file, with the same summary), published, and may not leave it out."""
    errors = []
    given = {data.period for data in plan.progress}
    for index, data in enumerate(plan.progress):
        summary = existing.get(data.period)
        if summary is None or not summary.is_published or _same(summary, data):
            continue
        errors.append(
            _where(
                data.line,
                f"progress[{index}]",
                f"{data.period} is published ({summary.published_label}): an import cannot "
                "change it; give it exactly as exported",
            )
        )
    for period, summary in existing.items():
        if summary.is_published and period not in given:
            errors.append(
                _where(
                    1,
                    "progress",
                    f"{period} is published: an import cannot remove it; keep it in the file",
                )
            )
    return errors


def _same(summary: ProgressSummary, data: ProgressData) -> bool:
    if summary.summary != data.summary:
        return False
    if data.details is None:  # format 1 gives only the summary
        return True
    return (
        data.published
        and all(getattr(summary, name) == value for name, value in data.details.items())
        and data.published_on == published_on(summary)
    )


def published_on(summary: ProgressSummary):
    """The publication date as the plan states it: its own, else the day it was published."""
    if summary.published_on is not None:
        return summary.published_on
    return timezone.localdate(summary.published_at)


def _write_update(milestone, update: UpdateData, *, first: bool, path, user, save) -> None:
    """One status update, applied to its milestone as ``record_status_update`` applies
    one. The first update of a milestone this import creates has no known previous
    status (blank): the file does not say what it was before."""
    previous = "" if first else milestone.status
    values = {"status": update.status}
    if update.revised_due is not None:
        values["revised_due"] = update.revised_due
    if update.comment.strip():
        values["comment"] = update.comment
    save(milestone, values, path=path, line=update.line)
    record = StatusUpdate(
        milestone=milestone,
        author=None,
        author_name=update.reported_by or user.get_username(),
        period=update.quarter,
        previous_status=previous,
        status=update.status,
        comment=update.comment,
        revised_due=update.revised_due,
        reported_on=update.reported_on,
    )
    save(record, {}, path=path, line=update.line)


def _write_quarterly(summary, data: ProgressData, *, path, user, save) -> None:
    """A quarterly update (every field a format 2 file gives), then its publication: at
    the import's time, by the importing user, on the date the file states."""
    values = {"period": data.period, "summary": data.summary, **(data.details or {})}
    save(summary, values, path=path, line=data.line)
    if data.published:
        moment = timezone.now()
        save(
            summary,
            {
                # A published plan's update went through its review before it was
                # published; it enters the system at the end of the chain.
                "review_state": ReviewState.PUBLISHED,
                "review_state_at": moment,
                "published_at": moment,
                "published_on": data.published_on,
                "published_by": user,
                "published_by_name": user.get_username(),
            },
            path=path,
            line=data.line,
        )
