"""Indicator actuals for the reporting quarter, entered by the goal's team (leaders,
deputies, contributors given the capability, admins; ``sdif_tracker.access`` decides who).

The write lives in the milestones layer, not beside ``strategies.services.save_indicator``,
because it obeys the review lock (``milestones.review``): while a quarter's update is
submitted, approved or cleared, its indicator values do not change.

Which period an actual is for: a quarterly indicator's is the reporting quarter's; an
annual indicator's is its fiscal year's, entered with the fourth quarter's update (when
the year's figure exists) and locked with that update. So an annual indicator is due only
while the goal reports on a Q4. Non-admins enter the period due in the reporting quarter
and nothing else; admins may also enter any earlier quarter not yet published.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.history import recorded_change
from audit.reasons import encode
from milestones import reasons
from milestones.quarters import reporting_period_error, reporting_quarter
from milestones.review import refuse_if_in_review
from strategies import services as plan_services
from strategies.forms import ACTUAL_NOTE_MAX_LENGTH as NOTE_MAX_LENGTH
from strategies.models import Frequency, Goal, Indicator, IndicatorValue
from strategies.periods import FiscalPeriod
from strategies.services import StaleEditError, newer_versions, refuse_if_closed


class StaleActualError(StaleEditError):
    """The indicator's value for the period changed (or was first entered) since the form
    was opened; nothing was written. ``obj`` is the current value row."""

    @property
    def value(self) -> IndicatorValue:
        return self.obj


class StaleActualsError(Exception):
    """Several rows of one submission were stale: nothing of it was written. ``stale``
    maps each conflicting indicator's id to its ``StaleActualError``."""

    def __init__(self, stale: dict[int, StaleActualError]):
        super().__init__(f"{len(stale)} indicator value(s) changed since read.")
        self.stale = stale


def period_due(indicator: Indicator, quarter: FiscalPeriod) -> FiscalPeriod | None:
    """The period ``indicator``'s actual is entered for in reporting quarter ``quarter``:
    the quarter itself, or for an annual indicator its fiscal year in Q4 (None before)."""
    if indicator.frequency == Frequency.ANNUAL:
        return FiscalPeriod(quarter.fiscal_year, None) if quarter.quarter == 4 else None
    return quarter


def lock_quarter(period: FiscalPeriod) -> FiscalPeriod:
    """The quarter whose update reports (and, in review, locks) a value of ``period``: the
    quarter itself, or a fiscal year's fourth quarter."""
    return period if period.is_quarter else FiscalPeriod(period.fiscal_year, 4)


def actual_period_error(
    *, goal: Goal, indicator: Indicator, period: FiscalPeriod, any_period: bool = False
) -> ValidationError | None:
    """Why ``period`` cannot take an actual of ``indicator`` now (None if it can). Without
    ``any_period`` only the period due in the reporting quarter; with it (admins) also an
    earlier quarter (or year) not yet published."""
    if period.is_ongoing:
        return ValidationError(
            _("An indicator value belongs to a quarter or a fiscal year, not Ongoing."),
            code="period_ongoing",
        )
    if (indicator.frequency == Frequency.ANNUAL) != period.is_whole_year:
        if indicator.frequency == Frequency.ANNUAL:
            message = _("%(name)s is annual: enter its actual for a fiscal year, e.g. FY19.")
        else:
            message = _("%(name)s is quarterly: enter its actual for a quarter, e.g. Q3 FY19.")
        return ValidationError(message % {"name": indicator.name}, code="period_frequency")
    quarter = reporting_quarter(goal)
    if not any_period and period != period_due(indicator, quarter):
        due = period_due(indicator, quarter)
        if due is None:
            message = _(
                "%(name)s is annual: its %(year)s actual is entered with the Q4 update, not "
                "in %(quarter)s."
            ) % {"name": indicator.name, "year": period, "quarter": quarter}
        else:
            message = _(
                "Actuals are entered for the reporting quarter, %(quarter)s: %(name)s takes "
                "its %(due)s value now, not %(period)s."
            ) % {"name": indicator.name, "due": due, "period": period, "quarter": quarter}
        return ValidationError(message, code="period_not_due")
    return reporting_period_error(goal=goal, period=lock_quarter(period))


@dataclass(frozen=True)
class ActualEntry:
    """One row of the actuals form: what the user typed, and the value's version when
    the form was opened (None: there was no value for the period then)."""

    indicator: Indicator
    actual: Decimal | None
    note: str
    expected_version: int | None


@transaction.atomic
def record_actual(
    *,
    indicator: Indicator,
    user,
    period: FiscalPeriod,
    actual: Decimal | None,
    note: str,
    expected_version: int | None,
    any_period: bool = False,
) -> IndicatorValue | None:
    """Set ``indicator``'s actual (and its note) for ``period``, as a recorded change
    stamped with the quarter it belongs to; the target is left as it is.

    Refuses a closed goal and a period that may not be entered (``ValidationError``), a
    quarter whose update is in review (``UpdateInReviewError``), and a stale form
    (``StaleActualError``): the value's version is not ``expected_version`` (None: the
    form saw no value, and one was entered meanwhile). Returns the saved value, or None
    when nothing changed (or nothing was there to clear)."""
    goal = indicator.goal
    refuse_if_closed(goal)
    # Every writer of the indicator's values locks the indicator first (save_indicator
    # does too), so two first entries for a period wait for each other instead of racing
    # to insert.
    locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
    error = actual_period_error(goal=goal, indicator=locked, period=period, any_period=any_period)
    if error is not None:
        raise error
    quarter = lock_quarter(period)
    refuse_if_in_review(goal, quarter)
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {
                "note": _("The note is %(length)d characters; at most %(limit)d are allowed.")
                % {"length": len(note), "limit": NOTE_MAX_LENGTH}
            },
            code="note_too_long",
        )
    value = IndicatorValue.objects.select_for_update().filter(indicator=locked, period=period)
    value = value.first()
    current_version = value.version if value is not None else None
    if current_version != expected_version:
        raise StaleActualError(
            value, newer_versions(value, expected_version or 0) if value is not None else []
        )
    if value is None:
        if actual is None and not note:
            return None
        value = IndicatorValue(indicator=locked, period=period)
    elif (value.actual, value.note) == (actual, note):
        return None
    value.actual, value.note = actual, note
    value.full_clean(exclude=["indicator"])
    reason = encode(reasons.ACTUAL_ENTERED, name=locked.name, period=str(period))
    try:
        with transaction.atomic(), recorded_change(user=user, reason=reason, quarter=quarter):
            value.save()
    except IntegrityError:
        # Inserted meanwhile by a writer that did not lock the indicator: stale, not a 500.
        current = IndicatorValue.objects.filter(indicator=locked, period=period).first()
        raise StaleActualError(current, newer_versions(current, 0) if current else []) from None
    return value


@transaction.atomic
def record_actuals(
    *, user, period_of, entries: list[ActualEntry], any_period: bool = False
) -> list[IndicatorValue]:
    """Record several actuals in one transaction, all or nothing: each as
    ``record_actual`` (``period_of(indicator)`` gives its period). A stale row does not
    stop the others being checked: ``StaleActualsError`` names every conflicting row;
    any other refusal is raised as it comes. Returns the values saved."""
    saved, stale = [], {}
    for entry in entries:
        try:
            value = record_actual(
                indicator=entry.indicator,
                user=user,
                period=period_of(entry.indicator),
                actual=entry.actual,
                note=entry.note,
                expected_version=entry.expected_version,
                any_period=any_period,
            )
        except StaleActualError as error:
            stale[entry.indicator.pk] = error
        else:
            if value is not None:
                saved.append(value)
    if stale:
        # Raised inside the transaction: what the other rows saved is rolled back.
        raise StaleActualsError(stale)
    return saved


def save_indicator(*, goal: Goal, user, **fields) -> Indicator:
    """``strategies.services.save_indicator`` (an indicator's definition and its values)
    under the review lock: a value of a quarter whose update is in review (a year: its
    Q4's) is refused (``UpdateInReviewError``), for administrators too. Every page writes
    indicators through here; the lock is not the caller's to remember."""

    def refuse_locked(period: FiscalPeriod) -> None:
        refuse_if_in_review(goal, lock_quarter(period))

    return plan_services.save_indicator(goal=goal, user=user, check_period=refuse_locked, **fields)
