"""Status updates by the hundred thousand, with the history the normal path writes.

``record_status_update`` writes, per update, the milestone's new state (status, comment,
revised due, version + 1) with a "~" history row, and a StatusUpdate with a "+" history
row, each row carrying the audit fields of ``audit.history``. At one update per
call that is ~10 ms and a dozen queries; a million history rows would take hours.

``write_status_history`` writes the same rows in batches: it plans each update in
memory (the milestone's state before and after, the reason the service would give, the
fields that changed), then inserts StatusUpdates and both kinds of history rows with
``bulk_create``, a few thousand per query, and finally sets each live milestone to the
state of its newest history row. It is the project's only bulk write
(``tests/test_no_untracked_writes.py`` lists ``_store_batch`` and
``_store_live_milestones``, and nothing else) and it is safe because it writes the
history rows itself — the same columns, filled the same way — rather than skipping them.

Times: every row is dated after the newest history row there is and before the call
started, in the order the updates were planned (round-robin over the milestones), one
slot of at least 2 µs per update: the milestone's row at the slot, the StatusUpdate one
microsecond later, as the service's two saves follow each other.

Reporting quarters (the second time axis): both rows of an update belong to its period,
as ``record_status_update`` stamps them. The n-th update of a milestone reports on the
goal's n-th quarter (the last one once they run out); the bulk path writes nothing but
status updates, so no row of it takes the goal's reporting quarter.
"""

from __future__ import annotations

import copy
import datetime
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from audit.history import changed_fields
from milestones.models import Milestone, Status, StatusUpdate
from milestones.services import status_update_reason
from strategies.periods import FiscalPeriod

# What a status update may set on the milestone, besides the version and updated_at.
LIVE_FIELDS = ["status", "comment", "revised_due", "version", "updated_at"]
# Statuses a status update moves a milestone to (TBD is only where a milestone starts).
UPDATE_STATUSES = [s for s in Status if s != Status.TBD]
SLOT = datetime.timedelta(microseconds=2)


@dataclass
class _Audit:
    user_id: int
    username: str
    source: str


@dataclass
class _Planned:
    """One status update: the milestone's history row and the StatusUpdate, unsaved."""

    milestone_row: object  # HistoricalMilestone
    update: StatusUpdate
    reason: str
    when: datetime.datetime


def _history_row(history_model, instance, **fields):
    """A history row of ``instance`` as simple-history would build it: every tracked
    field's value, plus the history columns given."""
    values = {
        field.attname: getattr(instance, field.attname) for field in history_model.tracked_fields
    }
    return history_model(**values, **fields)


class _Plan:
    """The updates to write, in order, each milestone's state carried from one to the next."""

    def __init__(self, milestones: QuerySet, *, audit: _Audit, rng: random.Random):
        # Locked, so the live rows written at the end are the ones planned from.
        self.milestones = list(
            milestones.select_for_update(of=("self",)).select_related("goal").order_by("pk")
        )
        self.audit = audit
        self.rng = rng
        self.history_model = Milestone.history.model
        self.tracked = list(self.history_model.tracked_fields)
        # A subquery, not a list of ids: SQLite caps the parameters of one query.
        counts = dict(
            StatusUpdate.objects.filter(milestone__in=milestones.values("pk"))
            .values_list("milestone_id")
            .annotate(n=Count("pk"))
        )
        self.done = {m.pk: counts.get(m.pk, 0) for m in self.milestones}
        self.quarters = {}
        for milestone in self.milestones:
            goal = milestone.goal
            self.quarters[goal.pk] = [
                FiscalPeriod(year, quarter)
                for year in range(goal.first_fiscal_year, goal.last_fiscal_year + 1)
                for quarter in (1, 2, 3, 4)
            ]

    def next_update(self, milestone: Milestone, when: datetime.datetime) -> _Planned:
        """Apply one update to ``milestone`` (in memory) as the service would."""
        quarters = self.quarters[milestone.goal_id]
        number = self.done[milestone.pk]
        self.done[milestone.pk] = number + 1
        period = quarters[min(number, len(quarters) - 1)]
        status = self.rng.choice(UPDATE_STATUSES)
        revised_due = None
        if status == Status.DELAYED and milestone.revised_due is None:
            due_year = milestone.due.fiscal_year if milestone.due else quarters[-1].fiscal_year
            revised_due = FiscalPeriod(due_year + 1, 4)
        comment = f"Update {number + 1}: {Status(status).label.lower()}."
        previous_status = milestone.status
        reason = status_update_reason(period=period, old=previous_status, new=status)

        before = copy.copy(milestone)
        milestone.status = status
        milestone.comment = comment
        if revised_due is not None:
            milestone.revised_due = revised_due
        milestone.version += 1
        milestone.updated_at = when
        row = _history_row(
            self.history_model,
            milestone,
            history_date=when,
            history_type="~",
            history_change_reason=reason,
            history_user_id=self.audit.user_id,
            history_username=self.audit.username,
            history_source=self.audit.source,
            history_ip=None,
            history_request_id="",
            history_goal_id=milestone.goal_id,
            # The update's own period, as ``record_status_update`` stamps both its rows.
            history_quarter=period.key,
            history_changed_fields=changed_fields(self.tracked, before, milestone),
        )
        update = StatusUpdate(
            milestone_id=milestone.pk,
            author_id=self.audit.user_id,
            author_name=self.audit.username,
            created_at=when + datetime.timedelta(microseconds=1),
            period=period,
            previous_status=previous_status,
            status=status,
            comment=comment,
            revised_due=revised_due,
        )
        return _Planned(milestone_row=row, update=update, reason=reason, when=when)

    def updates(self, count: int, start: datetime.datetime, step: datetime.timedelta):
        """``count`` updates, round-robin over the milestones, the n-th at start + n·step."""
        for number in range(count):
            milestone = self.milestones[number % len(self.milestones)]
            yield self.next_update(milestone, start + (number + 1) * step)


def _batches(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _store_batch(batch: list[_Planned], audit: _Audit) -> None:
    """Insert a batch's StatusUpdates, then their "+" history rows and the milestones'
    "~" rows. Allowed to bulk_create (tests/test_no_untracked_writes.py) because it
    writes the history rows itself, every audit column filled."""
    updates = StatusUpdate.objects.bulk_create([planned.update for planned in batch])
    update_history = StatusUpdate.history.model
    update_rows = [
        _history_row(
            update_history,
            update,
            history_date=update.created_at,
            history_type="+",
            history_change_reason=planned.reason,
            history_user_id=audit.user_id,
            history_username=audit.username,
            history_source=audit.source,
            history_ip=None,
            history_request_id="",
            history_goal_id=planned.milestone_row.goal_id,
            history_quarter=planned.milestone_row.history_quarter,
            history_changed_fields="",
        )
        for planned, update in zip(batch, updates, strict=True)
    ]
    Milestone.history.model.objects.bulk_create([planned.milestone_row for planned in batch])
    update_history.objects.bulk_create(update_rows)


def _store_live_milestones(milestones: list[Milestone]) -> None:
    """Set each live milestone to the state of its newest history row (already written
    by ``_store_batch``). Allowed to bulk_update for that reason: the row it writes is
    recorded, field for field, as the newest version in the history table."""
    Milestone.objects.bulk_update(milestones, LIVE_FIELDS, batch_size=1000)


@transaction.atomic
def write_status_history(
    *,
    milestones: QuerySet,
    rows: int,
    user,
    source: str,
    rng: random.Random,
    batch_size: int = 2500,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Add ``rows`` history rows (``rows`` // 2 status updates, each a milestone row and
    a StatusUpdate row) to ``milestones`` (read afresh and locked), in one transaction;
    returns the number of history rows written. ``on_batch(n)`` is called after each
    batch with the number of history rows it wrote.

    Raises ``ValueError`` for an odd or non-positive ``rows`` or no milestones.
    """
    if rows < 2 or rows % 2:
        raise ValueError("rows must be a positive even number (an update writes two rows).")
    if not milestones.exists():
        raise ValueError("no milestones to add status updates to.")
    audit = _Audit(user_id=user.pk, username=user.get_username(), source=source)
    count = rows // 2
    plan = _Plan(milestones, audit=audit, rng=rng)
    live = plan.milestones
    start = max(
        filter(
            None,
            [
                Milestone.history.aggregate(latest=Max("history_date"))["latest"],
                StatusUpdate.history.aggregate(latest=Max("history_date"))["latest"],
            ],
        ),
        default=None,
    )
    now = timezone.now()
    start = start or now - count * SLOT * 2
    if now - start < (count + 1) * SLOT:
        # Rows younger than a slot per update: wait until every slot is in the past.
        time.sleep(((count + 1) * SLOT - (now - start)).total_seconds())
        now = timezone.now()
    step = max((now - start) // (count + 1), SLOT)

    written = 0
    for batch in _batches(plan.updates(count, start, step), batch_size):
        _store_batch(batch, audit)
        written += 2 * len(batch)
        if on_batch is not None:
            on_batch(2 * len(batch))
    _store_live_milestones(live[:count])  # round-robin: the first ``count`` got updates
    return written
