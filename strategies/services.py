"""Writes to the plan (goals, strategies, indicators): one function per action, each
one transaction recorded in history with the acting user and a reason.

Also the pieces every app's services share: ``lock_for_edit`` (lock a row and check the
version its form was opened at), the ``StaleEditError`` family it raises, and
``restore_version`` behind the reverts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.diffs import HistoryEntry, describe_versions
from audit.history import history_of, recorded_change
from audit.reasons import encode
from strategies import reasons
from strategies.models import (
    GOAL_EDITABLE_FIELDS,
    Agency,
    AgencyRole,
    Goal,
    Indicator,
    IndicatorValue,
    Membership,
    Role,
    Strategy,
)
from strategies.periods import FiscalPeriod

# -- editing concurrently ----------------------------------------------------------------


class StaleEditError(Exception):
    """The object changed since its form was opened; nothing was written.

    ``obj`` is the current row (None if there is none); ``versions`` are its history
    records saved after the version the form was opened at, oldest first.
    """

    def __init__(self, obj, versions: list):
        super().__init__(f"{type(obj).__name__} {getattr(obj, 'pk', None)} changed since read.")
        self.obj = obj
        self.versions = versions

    def entries(self) -> list[HistoryEntry]:
        """What others saved since the form was opened, oldest first: one entry per save
        with its field changes (what the conflict message lists)."""
        if not self.versions:
            return []
        opened = self.versions[0].prev_record
        records = [*reversed(self.versions), *([opened] if opened is not None else [])]
        return list(reversed(describe_versions(records, type(self.obj))[: len(self.versions)]))


class StaleGoalError(StaleEditError):
    """The goal changed since the form was opened."""

    @property
    def goal(self) -> Goal:
        return self.obj

    @property
    def changes(self) -> list:
        return self.versions


class StaleStrategyError(StaleEditError):
    """The strategy changed since the form was opened."""

    @property
    def strategy(self) -> Strategy:
        return self.obj


def refuse_if_closed(goal: Goal) -> None:
    """A closed goal is read-only: every write of its plan is refused (the views answer
    403 before getting here; this is the second line, for every other caller)."""
    if goal.is_closed:
        raise ValidationError(
            _("%(goal)s is closed: its plan does not change. An administrator can reopen it.")
            % {"goal": goal.short_name or goal.title},
            code="goal_closed",
        )


def newer_versions(obj, version: int) -> list:
    """``obj``'s history records after ``version``, oldest first, with their users."""
    return list(
        history_of(type(obj))
        .filter(id=obj.pk, version__gt=version)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )


def lock_for_edit(
    queryset: models.QuerySet,
    *,
    pk,
    expected_version: int | None,
    error: type[StaleEditError] = StaleEditError,
):
    """Lock row ``pk`` of ``queryset`` until the transaction ends and return it; raise
    ``error`` if it is no longer at ``expected_version`` (None: the caller does not check)."""
    locked = queryset.select_for_update().get(pk=pk)
    if expected_version is not None and locked.version != expected_version:
        raise error(locked, newer_versions(locked, expected_version))
    return locked


# -- revert (admins) ----------------------------------------------------------------------

# What a revert leaves alone: the object's identity, the goal it belongs to, and the
# bookkeeping every save sets itself.
# Kept as they are by a revert: identity and bookkeeping, and a goal's lifecycle (closing,
# reopening, the held quarter and the continuation are lifecycle actions, each with its
# own reason and checks; restoring an old version must not undo or redo them).
REVERT_KEPT_FIELDS = frozenset(
    {
        "id",
        "goal",
        "version",
        "created_at",
        "updated_at",
        "closed_at",
        "reporting_quarter_set",
        "continued_by",
    }
)


def revert_reason(*, record, user) -> str:
    """The history reason of a revert to ``record``."""
    when = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")
    return encode(reasons.REVERTED, date=when, user=user.get_username())


def restore_version(locked, record, *, user):
    """Give ``locked`` (a row locked for update) the field values of ``record`` (one of
    its history rows) and save it as a new, recorded change. History rows are only read.

    Refuses (``ValidationError``) a version that refers to an object deleted since, a
    version with nothing to restore, and whatever ``full_clean`` refuses."""
    if record.id != locked.pk or record.history_type == "-":
        raise ValueError("The version does not belong to this object.")
    errors = {}
    changed = False
    for model_field in locked._meta.concrete_fields:
        if model_field.name in REVERT_KEPT_FIELDS:
            continue
        value = getattr(record, model_field.attname)
        if getattr(locked, model_field.attname) == value:
            continue
        if model_field.is_relation and value is not None:
            related = model_field.related_model._default_manager.filter(pk=value)
            if not related.exists():
                errors[model_field.name] = ValidationError(
                    _("That version's %(field)s has since been deleted, so it cannot be restored.")
                    % {"field": model_field.verbose_name},
                    code="reference_deleted",
                )
                continue
        setattr(locked, model_field.attname, value)
        changed = True
    if errors:
        raise ValidationError(errors)
    if not changed:
        raise ValidationError(
            _("Nothing to revert: the current version already has those values."),
            code="nothing_to_revert",
        )
    with recorded_change(user=user, reason=revert_reason(record=record, user=user)):
        locked.full_clean()
        locked.save()
    return locked


@transaction.atomic
def revert_strategy(
    *, strategy: Strategy, record, user, expected_version: int | None = None
) -> Strategy:
    """Restore an earlier version of a strategy (number, title, description) as a new
    change, refusing a stale form (``StaleStrategyError``) when ``expected_version`` is given."""
    locked = lock_for_edit(
        Strategy.objects.select_related("goal"),
        pk=strategy.pk,
        expected_version=expected_version,
        error=StaleStrategyError,
    )
    refuse_if_closed(locked.goal)
    return restore_version(locked, record, user=user)


@transaction.atomic
def revert_goal(*, goal: Goal, record, user, expected_version: int | None = None) -> Goal:
    """Restore an earlier version of a goal (its published fields and narrative) as a new
    change, refusing a stale form (``StaleGoalError``) when ``expected_version`` is given."""
    locked = lock_for_edit(
        Goal.objects.select_related("agency"),
        pk=goal.pk,
        expected_version=expected_version,
        error=StaleGoalError,
    )
    refuse_if_closed(locked)
    return restore_version(locked, record, user=user)


# -- strategies --------------------------------------------------------------------------


def _number_taken(goal: Goal, number: int, *, exclude_pk: int | None = None) -> bool:
    others = Strategy.objects.filter(goal=goal, number=number)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


@transaction.atomic
def add_strategy(*, goal: Goal, user, number: int, title: str, description: str = "") -> Strategy:
    """Add a strategy to ``goal``; its number must be free in the goal."""
    refuse_if_closed(goal)
    if _number_taken(goal, number):
        raise ValidationError(
            {"number": _("Strategy %(number)d exists already in this goal.") % {"number": number}},
            code="number_taken",
        )
    strategy = Strategy(goal=goal, number=number, title=title.strip(), description=description)
    with recorded_change(user=user, reason=encode(reasons.STRATEGY_ADDED, number=number)):
        strategy.full_clean()
        strategy.save()
    return strategy


@transaction.atomic
def update_strategy(
    *,
    strategy: Strategy,
    user,
    number: int,
    title: str,
    description: str = "",
    expected_version: int | None = None,
) -> Strategy:
    """Renumber or retitle a strategy; refuses a number another strategy of the goal has,
    and (``StaleStrategyError``) a form opened before ``expected_version`` changed."""
    locked = lock_for_edit(
        Strategy.objects.all(),
        pk=strategy.pk,
        expected_version=expected_version,
        error=StaleStrategyError,
    )
    refuse_if_closed(locked.goal)
    if _number_taken(locked.goal, number, exclude_pk=locked.pk):
        raise ValidationError(
            {"number": _("Strategy %(number)d exists already in this goal.") % {"number": number}},
            code="number_taken",
        )
    renumbered = locked.number != number
    retitled = locked.title != title.strip() or locked.description != description
    if not (renumbered or retitled):
        return locked
    if renumbered and retitled:
        reason = encode(reasons.STRATEGY_RENUMBERED_RETITLED, number=number, old=locked.number)
    elif renumbered:
        reason = encode(reasons.STRATEGY_RENUMBERED, number=number, old=locked.number)
    else:
        reason = encode(reasons.STRATEGY_RETITLED, number=number)
    locked.number, locked.title, locked.description = number, title.strip(), description
    with recorded_change(user=user, reason=reason):
        locked.full_clean()
        locked.save()
    return locked


@transaction.atomic
def delete_strategy(*, strategy: Strategy, user, expected_version: int | None = None) -> None:
    """Delete a strategy that no milestone is aligned to; with ``expected_version`` (its
    version when the confirmation page was opened) one saved since is refused with
    ``StaleEditError``."""
    locked = lock_for_edit(Strategy.objects, pk=strategy.pk, expected_version=expected_version)
    refuse_if_closed(locked.goal)
    refusal = delete_strategy_refusal(locked)
    if refusal is not None:
        raise refusal
    with recorded_change(user=user, reason=encode(reasons.STRATEGY_DELETED, number=locked.number)):
        locked.delete()


def delete_strategy_refusal(strategy: Strategy) -> ValidationError | None:
    """Why ``strategy`` cannot be deleted (milestones are aligned to it), or None. The
    confirmation page asks before offering the button; ``delete_strategy`` refuses."""
    aligned = strategy.milestones.count()
    if not aligned:
        return None
    return ValidationError(
        ngettext(
            "Strategy %(number)d has %(count)d key milestone aligned to it; move it to "
            "another strategy first.",
            "Strategy %(number)d has %(count)d key milestones aligned to it; move them to "
            "another strategy first.",
            aligned,
        )
        % {"number": strategy.number, "count": aligned},
        code="strategy_in_use",
    )


# -- the goal ----------------------------------------------------------------------------


@transaction.atomic
def update_goal(*, goal: Goal, user, expected_version: int | None = None, **fields) -> Goal:
    """Edit a goal's title, leaders, narrative and programs (``GOAL_EDITABLE_FIELDS``).

    With ``expected_version`` (the goal's version when the form was opened) a goal saved
    since is refused with ``StaleGoalError``. Saves, with one history row, only if
    something changed.
    """
    unknown = set(fields) - set(GOAL_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_goal() cannot set {', '.join(sorted(unknown))}")
    locked = lock_for_edit(
        Goal.objects.all(), pk=goal.pk, expected_version=expected_version, error=StaleGoalError
    )
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    if set(changed) - {"continued_by"}:
        # Naming the goal that continues it is the one edit a closed goal takes.
        refuse_if_closed(locked)
    for name in changed:
        setattr(locked, name, fields[name])
    with recorded_change(user=user, reason=encode(reasons.GOAL_EDITED, fields=changed)):
        locked.full_clean()
        locked.save()
    return locked


# -- key indicators ----------------------------------------------------------------------


class StaleIndicatorError(StaleEditError):
    """The indicator's definition changed since its form was opened."""

    @property
    def indicator(self) -> Indicator:
        return self.obj


# An indicator's own fields, as save_indicator takes them (beside its values).
INDICATOR_FIELDS = (
    "name",
    "unit",
    "direction",
    "definition",
    "data_source",
    "frequency",
    "baseline_value",
    "baseline_period",
    "is_published",
)


@transaction.atomic
def save_indicator(
    *,
    goal: Goal,
    user,
    name: str,
    unit: str,
    direction: str,
    indicator: Indicator | None = None,
    rows: list[tuple[FiscalPeriod, Decimal | None, Decimal | None, bool]] | None = None,
    expected_version: int | None = None,
    check_period: Callable[[FiscalPeriod], None] | None = None,
    **fields,
) -> Indicator:
    """Define a new indicator of ``goal`` (``indicator`` None) or change one, and with
    ``rows`` ((period, target, actual, delete), ...) set its values: all or nothing.

    ``fields`` are the rest of its definition (``INDICATOR_FIELDS``: definition, data
    source, frequency, baseline, published). With ``expected_version`` an indicator saved
    since its form was opened is refused (``StaleIndicatorError``). ``check_period(period)``
    is called, in the transaction, for each period whose values change: the milestones
    layer refuses there a quarter whose update is in review (strategies cannot know).

    Values are kept one per period; a period left with neither target nor actual (or
    marked for removal) is deleted."""
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise TypeError(f"save_indicator() cannot set {', '.join(sorted(unknown))}")
    refuse_if_closed(goal)
    name = name.strip()
    if indicator is None:
        position = (goal.indicators.aggregate(top=Max("position"))["top"] or 0) + 1
        indicator = Indicator(goal=goal, position=position)
        reason = encode(reasons.INDICATOR_DEFINED, name=name)
    else:
        indicator = lock_for_edit(
            goal.indicators.all(),
            pk=indicator.pk,
            expected_version=expected_version,
            error=StaleIndicatorError,
        )
        reason = encode(reasons.INDICATOR_EDITED, name=name)
    if goal.indicators.filter(name__iexact=name).exclude(pk=indicator.pk).exists():
        raise ValidationError(
            {"name": _("This goal already has an indicator called “%(name)s”.") % {"name": name}},
            code="duplicate_name",
        )
    values = {"name": name, "unit": unit.strip(), "direction": direction, **fields}
    if "data_source" in values:
        values["data_source"] = values["data_source"].strip()
    with recorded_change(user=user, reason=reason):
        changed = [key for key, value in values.items() if getattr(indicator, key) != value]
        if indicator.pk is None or changed:
            for key, value in values.items():
                setattr(indicator, key, value)
            indicator.full_clean()
            indicator.save()
        if rows is not None:
            _save_values(indicator, rows, check_period=check_period)
    return indicator


def _save_values(indicator: Indicator, rows: list[tuple], *, check_period=None) -> None:
    existing = {v.period: v for v in indicator.values.select_for_update()}
    for period, target, actual, delete in rows:
        value = existing.get(period)
        if delete or (target is None and actual is None):
            if value is not None:
                if check_period is not None:
                    check_period(period)
                value.delete()
            continue
        if value is None:
            value = IndicatorValue(indicator=indicator, period=period)
        elif (value.target, value.actual) == (target, actual):
            continue
        if check_period is not None:
            check_period(period)
        value.target, value.actual = target, actual
        value.full_clean()
        value.save()


# -- who works on a goal (the members page) -----------------------------------------------


class StaleRecordError(StaleEditError):
    """The object was changed (or removed: ``obj`` None) since its page was opened at
    history record ``expected_record``: for objects kept without a version number
    (memberships, agencies, agency roles), the record is the version."""


def lock_at_record(queryset: models.QuerySet, *, pk, expected_record: int | None):
    """Lock row ``pk`` of ``queryset`` until the transaction ends and return it; raise
    ``StaleRecordError`` if it is gone, or was recorded again after history record
    ``expected_record`` (None: the caller does not check)."""
    locked = queryset.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise StaleRecordError(None, [])
    if expected_record is not None:
        since = list(
            history_of(type(locked))
            .filter(id=locked.pk, history_id__gt=expected_record)
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        if since:
            raise StaleRecordError(locked, since)
    return locked


def _reports(role: str, reports_indicators: bool) -> bool:
    # Only a contributor's capability means anything: leaders and deputies always enter
    # actuals, reviewers never do (sdif_tracker.access).
    return bool(reports_indicators) and role == Role.CONTRIBUTOR


@transaction.atomic
def add_member(
    *, goal: Goal, user, member, role: str, reports_indicators: bool = False
) -> Membership:
    """Make ``member`` (a user) a member of ``goal`` with ``role``; refuses someone who
    is a member already (one role per goal)."""
    refuse_if_closed(goal)
    existing = Membership.objects.filter(goal=goal, user=member).first()
    if existing is not None:
        raise ValidationError(
            {
                "username": _("%(user)s is already a member of this goal, as %(role)s.")
                % {"user": member.get_username(), "role": existing.get_role_display()}
            },
            code="already_member",
        )
    membership = Membership(
        goal=goal, user=member, role=role, reports_indicators=_reports(role, reports_indicators)
    )
    reason = encode(reasons.MEMBER_ADDED, user=member.get_username(), role=role)
    with recorded_change(user=user, reason=reason):
        membership.full_clean()
        membership.save()
    return membership


@transaction.atomic
def change_member(
    *,
    membership: Membership,
    user,
    role: str,
    reports_indicators: bool,
    expected_record: int | None = None,
) -> Membership:
    """Change a member's role or indicator capability; refuses (``StaleRecordError``) a
    membership changed or removed since ``expected_record``. Saves only a change."""
    locked = lock_at_record(
        Membership.objects.select_related("user", "goal"),
        pk=membership.pk,
        expected_record=expected_record,
    )
    refuse_if_closed(locked.goal)
    wanted = {"role": role, "reports_indicators": _reports(role, reports_indicators)}
    changed = [name for name, value in wanted.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, wanted[name])
    reason = encode(reasons.MEMBER_CHANGED, user=locked.user.get_username(), fields=changed)
    with recorded_change(user=user, reason=reason):
        locked.full_clean()
        locked.save()
    return locked


@transaction.atomic
def remove_member(*, membership: Membership, user, expected_record: int | None = None) -> None:
    """Remove a member from their goal; refuses (``StaleRecordError``) a membership
    changed or removed since ``expected_record`` (what the confirmation showed)."""
    locked = lock_at_record(
        Membership.objects.select_related("user", "goal"),
        pk=membership.pk,
        expected_record=expected_record,
    )
    refuse_if_closed(locked.goal)
    reason = encode(reasons.MEMBER_REMOVED, user=locked.user.get_username())
    with recorded_change(user=user, reason=reason):
        locked.delete()


# -- an agency: its review steps and agency-wide roles (the agency page) -----------------

REVIEW_STEP_FIELDS = ("agency_approval", "examiner_clearance")


@transaction.atomic
def set_review_steps(
    *,
    agency: Agency,
    user,
    agency_approval: bool,
    examiner_clearance: bool,
    expected_record: int | None = None,
) -> Agency:
    """Switch the agency's review steps on or off (a step off is skipped; every
    transition of an update is recorded either way); refuses (``StaleRecordError``) an
    agency changed since ``expected_record``. Saves only a change."""
    locked = lock_at_record(Agency.objects.all(), pk=agency.pk, expected_record=expected_record)
    wanted = {"agency_approval": agency_approval, "examiner_clearance": examiner_clearance}
    changed = [name for name in REVIEW_STEP_FIELDS if getattr(locked, name) != wanted[name]]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, bool(wanted[name]))
    with recorded_change(user=user, reason=encode(reasons.AGENCY_STEPS_CHANGED, fields=changed)):
        locked.full_clean()
        locked.save()
    return locked


@transaction.atomic
def give_agency_role(*, agency: Agency, user, holder, role: str) -> AgencyRole:
    """Give ``holder`` (a user) agency-wide ``role`` over ``agency``; refuses a role they
    hold already. Who may give which role is ``sdif_tracker.access``'s to decide."""
    if AgencyRole.objects.filter(agency=agency, user=holder, role=role).exists():
        raise ValidationError(
            {
                "username": _("%(user)s already holds this role over %(agency)s.")
                % {"user": holder.get_username(), "agency": agency.name}
            },
            code="role_held",
        )
    agency_role = AgencyRole(agency=agency, user=holder, role=role)
    reason = encode(reasons.AGENCY_ROLE_GIVEN, user=holder.get_username(), role=role)
    with recorded_change(user=user, reason=reason):
        agency_role.full_clean()
        agency_role.save()
    return agency_role


@transaction.atomic
def take_agency_role(*, agency_role: AgencyRole, user, expected_record: int | None = None) -> None:
    """Take an agency-wide role away; refuses (``StaleRecordError``) one removed or
    changed since ``expected_record``."""
    locked = lock_at_record(
        AgencyRole.objects.select_related("user"),
        pk=agency_role.pk,
        expected_record=expected_record,
    )
    reason = encode(reasons.AGENCY_ROLE_TAKEN, user=locked.user.get_username(), role=locked.role)
    with recorded_change(user=user, reason=reason):
        locked.delete()
