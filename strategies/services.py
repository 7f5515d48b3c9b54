"""Changes to a goal's plan made in the app (admins): one function per action, each
recorded in history with the acting user and a reason."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.history import recorded_change
from strategies.models import GOAL_EDITABLE_FIELDS, Goal, Strategy


def _number_taken(goal: Goal, number: int, *, exclude_pk: int | None = None) -> bool:
    others = Strategy.objects.filter(goal=goal, number=number)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


@transaction.atomic
def add_strategy(*, goal: Goal, user, number: int, title: str, description: str = "") -> Strategy:
    """Add a strategy to ``goal``; its number must be free in the goal."""
    if _number_taken(goal, number):
        raise ValidationError(
            {"number": _("Strategy %(number)d exists already in this goal.") % {"number": number}},
            code="number_taken",
        )
    strategy = Strategy(goal=goal, number=number, title=title.strip(), description=description)
    with recorded_change(user=user, reason=_("Added strategy %(number)d") % {"number": number}):
        strategy.full_clean()
        strategy.save()
    return strategy


@transaction.atomic
def update_strategy(
    *, strategy: Strategy, user, number: int, title: str, description: str = ""
) -> Strategy:
    """Renumber or retitle a strategy; refuses a number another strategy of the goal has."""
    locked = Strategy.objects.select_for_update().get(pk=strategy.pk)
    if _number_taken(locked.goal, number, exclude_pk=locked.pk):
        raise ValidationError(
            {"number": _("Strategy %(number)d exists already in this goal.") % {"number": number}},
            code="number_taken",
        )
    changes = []
    if locked.number != number:
        changes.append(_("renumbered %(old)d → %(new)d") % {"old": locked.number, "new": number})
    if locked.title != title.strip() or locked.description != description:
        changes.append(_("retitled"))
    if not changes:
        return locked
    locked.number, locked.title, locked.description = number, title.strip(), description
    reason = _("Strategy %(number)d %(changes)s") % {
        "number": number,
        "changes": _(" and ").join(changes),
    }
    with recorded_change(user=user, reason=reason):
        locked.full_clean()
        locked.save()
    return locked


@transaction.atomic
def delete_strategy(*, strategy: Strategy, user) -> None:
    """Delete a strategy that no milestone is aligned to."""
    locked = Strategy.objects.select_for_update().get(pk=strategy.pk)
    aligned = locked.milestones.count()
    if aligned:
        raise ValidationError(
            _(
                "Strategy %(number)d has %(count)d milestone(s) aligned to it; move them to "
                "another strategy first."
            )
            % {"number": locked.number, "count": aligned},
            code="strategy_in_use",
        )
    with recorded_change(
        user=user, reason=_("Deleted strategy %(number)d") % {"number": locked.number}
    ):
        locked.delete()


class StaleGoalError(Exception):
    """The goal changed since the form was opened; nothing was written.

    ``goal`` is the current row; ``changes`` its history records saved after the form
    was opened, oldest first.
    """

    def __init__(self, goal: Goal, changes: list):
        super().__init__(f"Goal {goal.pk} changed since the form was opened.")
        self.goal = goal
        self.changes = changes


@transaction.atomic
def update_goal(
    *, goal: Goal, user, expected_updated_at: datetime.datetime | None = None, **fields
) -> Goal:
    """Edit a goal's title, leaders, narrative and programs (``GOAL_EDITABLE_FIELDS``).

    With ``expected_updated_at`` (when the form was opened) a goal saved since is refused
    with ``StaleGoalError``. Saves, with one history row, only if something changed.
    """
    unknown = set(fields) - set(GOAL_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_goal() cannot set {', '.join(sorted(unknown))}")
    locked = Goal.objects.select_for_update().get(pk=goal.pk)
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        # The historical rows copy ``updated_at``: the ones after the opened version.
        newer = list(
            locked.changes.filter(updated_at__gt=expected_updated_at).order_by(
                "history_date", "history_id"
            )
        )
        raise StaleGoalError(locked, newer)
    changed = [name for name, value in fields.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, fields[name])
    labels = ", ".join(str(Goal._meta.get_field(name).verbose_name) for name in changed)
    with recorded_change(user=user, reason=_("Edited goal: %(fields)s") % {"fields": labels}):
        locked.full_clean()
        locked.save()
    return locked
