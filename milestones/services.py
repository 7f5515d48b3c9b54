"""Every write of the milestones app, in one module by design (one services module per
domain app): one function per domain action.

Each takes the acting user explicitly, validates, and writes the rows and their
history (with user and reason) in one transaction.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.history import recorded_change
from audit.reasons import describe_in_english, encode
from milestones import reasons, review
from milestones.models import (
    QUARTERLY_UPDATE_FIELDS,
    Milestone,
    ProgressSummary,
    ReviewState,
    Status,
    StatusUpdate,
)
from milestones.quarters import (
    forget_reporting_quarter,
    published_quarters,
    reporting_period_error,
    reporting_quarter,
)
from strategies.models import Goal, Strategy
from strategies.periods import FiscalPeriod
from strategies.services import (
    StaleEditError,
    lock_for_edit,
    refuse_if_closed,
    restore_version,
    revert_reason,
)

# A change to one of these, or an update that leaves one of them, must say why.
COMMENT_REQUIRED_STATUSES = (Status.DELAYED, Status.AT_RISK)
# The milestone fields a status update writes; every other field is as it was when the
# row was last saved (validated then) and is locked while the update runs.
STATUS_UPDATE_FIELDS = ("status", "revised_due", "comment")


class StaleMilestoneError(StaleEditError):
    """The milestone changed since the form was opened; nothing was written."""

    @property
    def milestone(self) -> Milestone:
        return self.obj


def _lock_milestone(milestone: Milestone, expected_version: int) -> Milestone:
    # Through the goal's manager: the locked row's ``goal`` is the caller's instance
    # (with what it was fetched with), not a join or a query.
    return lock_for_edit(
        milestone.goal.milestones.all(),
        pk=milestone.pk,
        expected_version=expected_version,
        error=StaleMilestoneError,
    )


def validate_status_update(
    *,
    milestone: Milestone,
    status: str,
    comment: str,
    period: FiscalPeriod | None,
    revised_due: FiscalPeriod | None,
) -> None:
    """Raise ``ValidationError`` (with field keys) if the update breaks a domain rule."""
    errors: dict[str, list[ValidationError]] = {}

    def add(field, message, code):
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    if status not in Status.values:
        add("status", _("Choose one of the listed statuses."), "invalid_status")
    if period is None:
        add("period", _("Choose the reporting quarter of this update."), "period_required")
    elif (refusal := reporting_period_error(goal=milestone.goal, period=period)) is not None:
        errors.setdefault("period", []).append(refusal)
    changed = status != milestone.status
    if not comment.strip() and (changed or status in COMMENT_REQUIRED_STATUSES):
        add(
            "comment",
            _("Say why: a comment is required when the status changes or is Delayed or At risk."),
            "comment_required",
        )
    if revised_due is not None:
        if milestone.due is not None and revised_due <= milestone.due:
            add(
                "revised_due",
                _("The revised due must be later than the original due (%(due)s).")
                % {"due": milestone.due},
                "revised_due_not_later",
            )
    elif status == Status.DELAYED and milestone.revised_due is None:
        add(
            "revised_due",
            _("A delayed milestone needs a revised due period, e.g. FY19."),
            "revised_due_required",
        )
    if errors:
        raise ValidationError(errors)


def status_update_reason(*, period: FiscalPeriod, old: str, new: str) -> str:
    """The history reason of a status update (also written by the bulk history path,
    ``milestones/bulk_history.py``), stored as a code with the statuses' codes and shown
    in the reader's language (``audit.reasons``)."""
    old, new = Status(old).value, Status(new).value
    if old != new:
        return encode(reasons.STATUS_CHANGED, period=str(period), old=old, new=new)
    return encode(reasons.STATUS_CONFIRMED, period=str(period), status=new)


@transaction.atomic
def record_status_update(
    *,
    milestone: Milestone,
    user,
    status: str,
    comment: str,
    period: FiscalPeriod,
    revised_due: FiscalPeriod | None = None,
    expected_version: int,
) -> StatusUpdate:
    """Add a status update and apply it to the milestone, refusing a stale form.

    Locks the milestone row, compares its version with ``expected_version`` (raising
    ``StaleMilestoneError`` if someone saved in between), then writes the milestone
    (status, revised due, published comment; saving bumps its version) and the
    StatusUpdate together. The returned update's ``milestone`` is the saved row.
    """
    locked = _lock_milestone(milestone, expected_version)
    refuse_if_closed(locked.goal)
    # The quarter's update in review locks its status updates (milestones.review).
    review.refuse_if_in_review(locked.goal, period)

    comment = comment.strip()
    validate_status_update(
        milestone=locked, status=status, comment=comment, period=period, revised_due=revised_due
    )
    previous_status = locked.status
    locked.status = status
    if revised_due is not None:
        locked.revised_due = revised_due
    if comment:
        locked.comment = comment
    reason = status_update_reason(period=period, old=previous_status, new=status)
    update = StatusUpdate(
        milestone=locked,
        author=user,
        author_name=user.get_username(),
        period=period,
        previous_status=previous_status,
        status=status,
        comment=comment,
        revised_due=revised_due,
    )
    # Only what this update writes is validated here, in Python: the fields it sets
    # (choices, fiscal-period keys, lengths) and validate_status_update's rules above.
    # Not run again: full_clean()'s existence query for each foreign key (the locked
    # row and the acting user exist) and its check-constraint queries (three round
    # trips each, 24 in all), which only repeat the field checks; the database enforces
    # those constraints on the writes below, in this transaction, so a violation still
    # writes nothing. Profile and figures: README, "Performance", R4.
    locked.clean_fields(
        exclude=[f.name for f in Milestone._meta.fields if f.name not in STATUS_UPDATE_FIELDS]
    )
    update.clean_fields(exclude=["milestone", "author"])
    # Both rows belong to the quarter the update reports on (history's second axis).
    with recorded_change(user=user, reason=reason, quarter=period):
        locked.save()
        update.save()
    return update


class StaleSummaryError(StaleEditError):
    """The progress summary was saved by someone else since the form was opened (or
    written meanwhile, for a form opened to write a new one)."""

    @property
    def summary(self) -> ProgressSummary | None:
        return self.obj


# Sentinel: the caller does not check for a concurrent edit.
UNCHECKED = object()


class PublishedSummaryError(Exception):
    """The quarterly update was published: it is frozen, nothing was written."""

    def __init__(self, summary: ProgressSummary):
        super().__init__(f"The {summary.period} update was published; it cannot change.")
        self.summary = summary


@transaction.atomic
def save_progress_summary(
    *,
    goal,
    user,
    period: FiscalPeriod,
    summary: str,
    details: dict[str, str] | None = None,
    expected_version=UNCHECKED,
) -> ProgressSummary:
    """Write (or rewrite) a goal's quarterly update for one period, with history.

    ``details`` sets the other fields of the update (next steps, risk, likelihood,
    improvement actions, the data statement: ``QUARTERLY_UPDATE_FIELDS``); fields not
    given are left as they are. ``expected_version`` is the version of the summary the
    user edited (None for a new one); if it has changed since, ``StaleSummaryError`` and
    nothing is written. A published update is frozen: ``PublishedSummaryError``.
    """
    details = dict(details or {})
    unknown = set(details) - set(QUARTERLY_UPDATE_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of a quarterly update: {', '.join(sorted(unknown))}")
    details["summary"] = summary
    details = {name: (value or "").strip() for name, value in details.items()}
    refuse_if_closed(goal)
    existing = ProgressSummary.objects.select_for_update().filter(goal=goal, period=period).first()
    # Locked above, so no submission slips in between (milestones.review).
    review.refuse_if_in_review(goal, period)
    if existing is not None and existing.is_published:
        # Said before the period rule, which refuses it too: the page keeps the text as
        # the draft of the quarter being reported on.
        raise PublishedSummaryError(existing)
    refusal = reporting_period_error(goal=goal, period=period)
    if refusal is not None:
        raise ValidationError({"period": refusal})
    if expected_version is not UNCHECKED:
        if existing is None:
            if expected_version is not None:
                raise StaleSummaryError(None, [])
        else:
            # Locked already; lock_for_edit compares the version and gathers the history.
            existing = lock_for_edit(
                ProgressSummary.objects.all(),
                pk=existing.pk,
                expected_version=expected_version or 0,
                error=StaleSummaryError,
            )
    if existing is not None and existing.is_published:
        raise PublishedSummaryError(existing)
    record = existing or ProgressSummary(goal=goal, period=period)
    if existing is not None and all(
        getattr(existing, name) == value for name, value in details.items()
    ):
        return existing
    for name, value in details.items():
        setattr(record, name, value)
    reason = encode(
        reasons.SUMMARY_EDITED if existing else reasons.SUMMARY_WRITTEN, period=str(period)
    )
    with recorded_change(user=user, reason=reason):
        record.full_clean()
        record.save()
    return record


@transaction.atomic
def move_milestone(
    *, milestone: Milestone, user, strategy: Strategy | None, expected_version: int
) -> Milestone:
    """Align a milestone to another strategy of its goal (or to none), refusing a stale form.

    Locks the milestone, then the target strategy, so a concurrent ``delete_strategy``
    either sees the milestone arrive (and refuses) or deletes the strategy first (and
    this move is refused).
    """
    locked = _lock_milestone(milestone, expected_version)
    refuse_if_closed(locked.goal)
    if strategy is not None:
        target = (
            Strategy.objects.select_for_update().filter(pk=strategy.pk, goal=locked.goal).first()
        )
        if target is None:
            raise ValidationError(
                {"strategy": _("Choose one of this goal's strategies.")},
                code="strategy_other_goal",
            )
        strategy = target
    if locked.strategy_id == (strategy.pk if strategy else None):
        return locked
    reason = (
        encode(reasons.MOVED_TO_STRATEGY, number=strategy.number)
        if strategy is not None
        else encode(reasons.MOVED_OUT_OF_STRATEGY, number=locked.strategy.number)
    )
    locked.strategy = strategy
    with recorded_change(user=user, reason=reason):
        locked.full_clean()
        locked.save()
    return locked


# -- revert (admins) ----------------------------------------------------------------------


@transaction.atomic
def revert_milestone(*, milestone: Milestone, record, user, expected_version: int) -> Milestone:
    """Restore an earlier version of a milestone as a new change, refusing a stale form."""
    locked = _lock_milestone(milestone, expected_version)
    refuse_if_closed(locked.goal)
    status, comment, revised_due = locked.status, locked.comment, locked.revised_due
    reverted = restore_version(locked, record, user=user)
    if (reverted.status, reverted.comment) != (status, comment):
        # The status log must end with the state the milestone now has, not the one
        # the revert took away.
        _record_revert_update(
            reverted,
            record=record,
            user=user,
            previous_status=status,
            revised_due_changed=reverted.revised_due != revised_due,
        )
    return reverted


def _record_revert_update(milestone, *, record, user, previous_status, revised_due_changed):
    """The status update a revert adds: who reverted to which version, and the status
    and comment the milestone has now. It belongs to the reporting period of the update
    it corrects (so it does not count as this quarter's review), or else this quarter."""
    latest = milestone.status_updates.order_by("-created_at", "-id").first()
    reason = revert_reason(record=record, user=user)
    update = StatusUpdate(
        milestone=milestone,
        author=user,
        author_name=user.get_username(),
        period=(
            latest.period
            if latest is not None and latest.period not in published_quarters(milestone.goal)
            else reporting_quarter(milestone.goal)
        ),
        previous_status=previous_status,
        status=milestone.status,
        # Published plan data, in the plan's language whoever reverts (the reason on the
        # history row stays a code, shown in each reader's language).
        comment=f"{describe_in_english(reason)}.\n{milestone.comment}".strip(),
        revised_due=milestone.revised_due if revised_due_changed else None,
    )
    update.clean_fields(exclude=["milestone", "author"])
    # The quarter it is added to must not be in review (milestones.review).
    review.refuse_if_in_review(milestone.goal, update.period)
    with recorded_change(user=user, reason=reason):
        update.save()


# -- publishing a quarter ------------------------------------------------------------------


@transaction.atomic
def publish_quarter(
    *, goal: Goal, user, period: FiscalPeriod | None, expected_version: int | None = None
) -> ProgressSummary:
    """Publish the goal's quarterly update for ``period`` (a quarter that has started),
    freezing it. Refuses (``ValidationError``, nothing written) whatever
    ``publish_refusal`` refuses; with ``expected_version`` (the
    update's version when the confirmation page was opened) an update saved since is
    refused with ``StaleEditError``."""
    refuse_if_closed(goal)
    summary = (
        ProgressSummary.objects.select_for_update().filter(goal=goal, period=period).first()
        if period is not None
        else None
    )
    refusal = publish_refusal(goal, period, summary)
    if refusal is not None:
        raise refusal
    summary = lock_for_edit(
        ProgressSummary.objects, pk=summary.pk, expected_version=expected_version
    )
    summary.published_at = timezone.now()
    summary.review_state = ReviewState.PUBLISHED
    summary.review_state_at = summary.published_at
    summary.published_on = timezone.localdate(summary.published_at)
    summary.published_by = user
    summary.published_by_name = user.get_username()
    with recorded_change(
        user=user,
        reason=encode(reasons.PUBLISHED, period=str(period)),
        quarter=period,
    ):
        summary.full_clean()
        summary.save()
    # The goal now reports on the next quarter.
    forget_reporting_quarter(goal)
    return summary


def publish_refusal(
    goal: Goal, period: FiscalPeriod | None, summary: ProgressSummary | None
) -> ValidationError | None:
    """Why the goal's update ``summary`` for ``period`` (None: none written) cannot be
    published, or None: what it lacks (``review.content_refusal``: not a quarter, a later
    quarter, no update, already published, no risk category, a high risk without
    improvement actions), then the review step it still waits for (``review.step_refusal``:
    it is published only at its agency's ready-to-publish state). The confirmation page
    asks before offering the button; ``publish_quarter`` refuses."""
    refusal = review.content_refusal(goal, period, summary)
    return refusal if refusal is not None else review.step_refusal(summary, goal.agency)
