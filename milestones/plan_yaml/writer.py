"""Writing a checked plan in one transaction, as a recorded change."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Count, ProtectedError, RestrictedError

from audit.history import get_system_user, recorded_change
from milestones.models import REVIEW_LOCKED_STATES, Milestone, ProgressSummary
from milestones.plan_yaml.data import IMPORT_REASON, MilestoneData, PlanData, PlanError
from milestones.plan_yaml.loader import _where
from milestones.plan_yaml.reader import parse_plan
from milestones.plan_yaml.replay import (
    STATE_FIELDS,
    first_reported_quarter,
    initial_state,
    new_updates,
    replay,
)
from milestones.quarters import forget_reporting_quarter, published_quarters
from strategies.models import (
    PROGRAM_FIELDS,
    SECTION_FIELDS,
    Agency,
    Goal,
    Indicator,
    IndicatorValue,
    Strategy,
)
from strategies.periods import FiscalPeriod

# -- writing ---------------------------------------------------------------------------

# Where a model field comes from in the file, for errors found by full_clean().
_GOAL_PATHS = {
    "leader_name": "goal.leader.name",
    "leader_title": "goal.leader.title",
    "deputy_name": "goal.deputy.name",
    "deputy_title": "goal.deputy.title",
    "first_fiscal_year": "goal.fiscal_years",
    "last_fiscal_year": "goal.fiscal_years",
    **{name: f"goal.sections.{name}" for name in SECTION_FIELDS},
    **{name: f"goal.contributing_programs.{name}" for name in PROGRAM_FIELDS},
}


def _assign(obj, values: dict[str, object]) -> bool:
    """Set ``values`` on ``obj``; True if any differs from what it held."""
    changed = False
    for name, value in values.items():
        model_field = obj._meta.get_field(name)
        if model_field.is_relation:
            current = getattr(obj, model_field.attname)
            new = None if value is None else value.pk
        else:
            current, new = getattr(obj, name), value
        if current != new or obj._state.adding:
            changed = changed or current != new
            setattr(obj, name, value)
    return changed


def _save(obj, values: dict[str, object], *, path: str, line: int, paths=None) -> bool:
    """Validate and save ``obj`` with ``values`` if it is new or they change it."""
    if not _assign(obj, values) and not obj._state.adding:
        return False
    try:
        obj.full_clean()
    except ValidationError as error:
        paths = paths or {}
        raise PlanError(
            [
                _where(
                    line,
                    path if name == NON_FIELD_ERRORS else paths.get(name, f"{path}.{name}"),
                    message,
                )
                for name, messages in error.message_dict.items()
                for message in messages
            ]
        ) from None
    obj.save()
    return True


def _delete(obj, *, path: str, line: int, what: str) -> None:
    try:
        obj.delete()
    except (ProtectedError, RestrictedError):
        raise PlanError(
            [
                _where(
                    line,
                    path,
                    f"{what} is left out of the file but cannot be deleted: "
                    "other records refer to it",
                )
            ]
        ) from None


def import_plan(
    text: str,
    *,
    replace: bool = False,
    user=None,
    reason: str | None = None,
    source: str = "import",
) -> Goal:
    """Check the plan, then write it all or nothing, as one recorded change.

    With ``replace`` an existing goal of the same slug is updated in place: strategies
    matched by number, milestones by order, progress by period, indicators by name;
    only what changed is saved, and what the file leaves out is deleted.
    """
    plan = parse_plan(text)
    # The system user (the default actor) is looked up, or made on a fresh database,
    # inside the transaction: an import refused while writing leaves not even it behind.
    with transaction.atomic():
        user = user or get_system_user()
        with recorded_change(user=user, reason=reason or IMPORT_REASON, source=source):
            goal = _import(plan, replace=replace, user=user)
    forget_reporting_quarter(goal)
    return goal


def _import(plan: PlanData, *, replace: bool, user) -> Goal:
    goal = Goal.objects.select_for_update().filter(slug=plan.slug).first()
    if goal is not None and goal.is_closed:
        raise PlanError(
            [
                _where(
                    plan.slug_line,
                    "goal.slug",
                    f'the goal "{plan.slug}" is closed: its plan does not change '
                    "(an administrator can reopen it first)",
                )
            ]
        )
    if goal is not None and not replace:
        raise PlanError(
            [
                _where(
                    plan.slug_line,
                    "goal.slug",
                    f'a goal with slug "{plan.slug}" exists already; import with '
                    "--replace (replace=True) to replace it",
                )
            ]
        )
    in_review = (
        ProgressSummary.objects.filter(goal=goal, review_state__in=REVIEW_LOCKED_STATES).first()
        if goal is not None
        else None
    )
    if in_review is not None:
        # Replacing rewrites the quarter's content, which its review locks
        # (milestones.review).
        raise PlanError(
            [
                _where(
                    plan.slug_line,
                    "goal.slug",
                    f'the {in_review.period} update of "{plan.slug}" is in review '
                    f"({in_review.review_state}): it must be returned to draft before "
                    "the plan is replaced",
                )
            ]
        )
    agency = _write_agency(plan)
    # A new goal's plan is stamped with the first quarter the file reports on (its first
    # quarter if none); a replaced goal's changes with its reporting quarter (the default).
    quarter = None
    if goal is None:
        quarter = first_reported_quarter(plan) or (
            FiscalPeriod(plan.goal["first_fiscal_year"], 1)
            if plan.goal["first_fiscal_year"]
            else None
        )
    goal = goal or Goal()
    with recorded_change(quarter=quarter):
        _save(
            goal,
            {**plan.goal, "agency": agency},
            path="goal",
            line=plan.goal_line,
            paths=_GOAL_PATHS,
        )
        strategies = _write_strategies(goal, plan)
        milestones, pending, created = _write_milestones(goal, plan, strategies)
        # Only now: no milestone points to a strategy the file leaves out any more.
        kept = {s.number for s in plan.strategies}
        for number, strategy in strategies.items():
            if number not in kept:
                _delete(
                    strategy,
                    path="strategies",
                    line=plan.strategies_line,
                    what=f"strategy {number}",
                )
        _write_indicators(goal, plan)
    replay(
        goal=goal,
        plan=plan,
        milestones=milestones,
        pending=pending,
        created=created,
        user=user,
        save=_save,
    )
    return goal


def _write_agency(plan: PlanData) -> Agency:
    agency = Agency.objects.filter(name=plan.agency_name).first() or Agency()
    values = {"name": plan.agency_name}
    if plan.agency_abbreviation is not None:
        values["abbreviation"] = plan.agency_abbreviation
    _save(agency, values, path="agency", line=plan.agency_line)
    return agency


def _write_strategies(goal: Goal, plan: PlanData) -> dict[int, Strategy]:
    strategies = {s.number: s for s in goal.strategies.all()}
    for index, data in enumerate(plan.strategies):
        strategy = strategies.setdefault(data.number, Strategy(goal=goal))
        _save(
            strategy,
            {"number": data.number, "title": data.title, "description": data.description},
            path=f"strategies[{index}]",
            line=data.line,
        )
    return strategies


def _write_milestones(
    goal: Goal, plan: PlanData, strategies: dict[int, Strategy]
) -> tuple[list[Milestone], list[list], set[int]]:
    """Write the milestones (matched by id or by order) without the state their updates
    will set; return them in the file's order, with the status updates each is to get
    and the positions of those created with updates to replay."""
    existing = list(goal.milestones.order_by("position", "id"))
    if existing and any(data.id for data in plan.milestones):
        # Matched by id (export_plan --with-ids): a milestone keeps its identity, and
        # its history, wherever it moves; one without an id is new; one the file no
        # longer names is removed.
        by_id = {milestone.pk: milestone for milestone in existing}
        unknown = [
            _where(
                data.line,
                f"milestones[{data.position - 1}].id",
                f"{data.id} is not a key milestone of goal {goal.slug} (ids come from "
                "export_plan --with-ids of this goal)",
            )
            for data in plan.milestones
            if data.id and data.id not in by_id
        ]
        if unknown:
            raise PlanError(unknown)
        milestones = [by_id[d.id] if d.id else Milestone(goal=goal) for d in plan.milestones]
        named = {data.id for data in plan.milestones}
        removed = [milestone for milestone in existing if milestone.pk not in named]
    else:
        # Matched by order, not by the stored position, so gaps or ties left by hand
        # edits still pair the k-th milestone with the k-th in the file. (Ids in a file
        # for a new goal name another database's milestones: nothing to match.)
        milestones = [
            existing[index] if index < len(existing) else Milestone(goal=goal)
            for index in range(len(plan.milestones))
        ]
        removed = existing[len(plan.milestones) :]
    # The status updates to add, checked against those recorded before anything is written.
    published = published_quarters(goal) if goal.pk else set()
    updates, errors = [], []
    for milestone, data in zip(milestones, plan.milestones, strict=True):
        added, refused = new_updates(milestone, data, published)
        updates.append(added)
        errors.extend(refused)
    if errors:
        raise PlanError(errors)
    created = {index for index, m in enumerate(milestones) if m.pk is None and updates[index]}
    # A dependency on a milestone created later in this loop is set once it exists.
    pending: list[tuple[Milestone, Milestone, MilestoneData]] = []
    for index, data in enumerate(plan.milestones):
        milestone = milestones[index]
        target = milestones[data.depends_on - 1] if data.depends_on else None
        if target is not None and target.pk is None:
            pending.append((milestone, target, data))
            target = milestone.depends_on if milestone.pk else None
        values = {
            "position": data.position,
            "title": data.title,
            "due": data.due,
            "strategy": strategies[data.strategy] if data.strategy else None,
            "owner": data.owner,
            "depends_on": target,
        }
        # The state (status, comment, revised due) comes from the updates to replay, and
        # last from the file's own where it differs (``replay``).
        if index in created:
            values.update(initial_state(data))
        elif not updates[index]:
            values.update({name: getattr(data, name) for name in STATE_FIELDS})
        _save(milestone, values, path=f"milestones[{index}]", line=data.line)
    for milestone, target, data in pending:
        _save(
            milestone,
            {"depends_on": target},
            path=f"milestones[{data.position - 1}]",
            line=data.line,
        )

    reviewed = (
        Milestone.objects.filter(pk__in=[m.pk for m in removed])
        .annotate(updates=Count("status_updates"))
        .filter(updates__gt=0)
        .order_by("position", "id")
    )
    blocked = [
        _where(
            plan.milestones_line,
            "milestones",
            f'milestone {existing.index(m) + 1} ("{m.title}") has {m.updates} status '
            "update(s) and cannot be removed: keep it in the file (it may be Cancelled)",
        )
        for m in reviewed
    ]
    if blocked:
        raise PlanError(blocked)
    # Removed milestones may depend on each other; unlink them first (recorded), so the
    # deletes below do not trip over the RESTRICT on depends_on.
    for milestone in removed:
        if milestone.depends_on_id is not None:
            milestone.depends_on = None
            milestone.save()
    for milestone in removed:
        _delete(
            milestone,
            path="milestones",
            line=plan.milestones_line,
            what=f'milestone "{milestone.title}"',
        )
    return milestones, updates, created


# Where an indicator's model field comes from in its entry, for errors found by full_clean().
_INDICATOR_PATHS = {
    "baseline_value": "baseline.value",
    "baseline_period": "baseline.period",
    "is_published": "published",
}


def _write_indicators(goal: Goal, plan: PlanData) -> None:
    existing = {i.name: i for i in goal.indicators.prefetch_related("values")}
    for index, data in enumerate(plan.indicators):
        indicator = existing.pop(data.name, None) or Indicator(goal=goal)
        path = f"indicators[{index}]"
        _save(
            indicator,
            {
                "position": data.position,
                "name": data.name,
                "unit": data.unit,
                "direction": data.direction,
                "definition": data.definition,
                "data_source": data.data_source,
                "frequency": data.frequency,
                "baseline_value": data.baseline_value,
                "baseline_period": data.baseline_period,
                "is_published": data.is_published,
            },
            path=path,
            line=data.line,
            paths={name: f"{path}.{key}" for name, key in _INDICATOR_PATHS.items()},
        )
        values = {v.period: v for v in indicator.values.all()} if indicator.pk else {}
        for value_index, value_data in enumerate(data.values):
            value = values.pop(value_data.period, None) or IndicatorValue(indicator=indicator)
            _save(
                value,
                {
                    "period": value_data.period,
                    "target": value_data.target,
                    "actual": value_data.actual,
                    "note": value_data.note,
                },
                path=f"{path}.values[{value_index}]",
                line=value_data.line,
            )
        for value in values.values():
            value.delete()
    for indicator in existing.values():
        indicator.delete()
