"""Administrators edit a goal's plan in the app: its strategies, the goal itself, and
which strategy each milestone is aligned to. Parse → call a service → redirect with a
message, or show the form again with its errors."""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit.history import saved_by
from milestones import services as milestone_services
from milestones.forms import MilestoneMoveForm
from milestones.models import Milestone
from sdif_tracker import access
from sdif_tracker.pages.rows import group_by_strategy
from strategies import services
from strategies.forms import GoalForm, StrategyEditForm, StrategyForm, add_service_errors
from strategies.models import Goal, Strategy
from strategies.services import StaleEditError

FORM_METHODS = ["GET", "HEAD", "POST"]


def _admin_goal(request, slug: str) -> Goal:
    """The goal, for a user who may edit its plan: 404 if they may not see it, else 403."""
    return access.get_goal_for_user(request.user, slug, need=access.Need.EDIT_PLAN)


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@dataclass(frozen=True)
class Conflict:
    """What includes/_conflict.html shows when a form is refused as stale."""

    heading: str
    notes: tuple[str, ...] = ()


def _merge_stale(stale: StaleEditError, typed: dict) -> tuple[dict, set[str], set[str]]:
    """A stale form's data again, at the object's current version: the fields this user
    edited keep what they typed, the others show the current values, so saving it again
    applies this user's edits without undoing the other person's. Also the names of the
    fields this user changed and of those changed since the form was opened."""
    current = stale.obj
    opened = stale.versions[0].prev_record if stale.versions else None
    if opened is None:  # no record of the opened version: keep everything typed
        mine, theirs = set(typed), set()
    else:
        mine = {name for name, value in typed.items() if getattr(opened, name) != value}
        theirs = {name for name in typed if getattr(opened, name) != getattr(current, name)}
    data = {
        name: _form_value(typed[name] if name in mine else getattr(current, name))
        for name in typed
    }
    data["version"] = current.version
    return data, mine, theirs


def _both_changed(model, mine: set[str], theirs: set[str], *, by_you=False) -> tuple[str, ...]:
    both = mine & theirs
    if not both:
        return ()
    if by_you:
        message = _(
            "You changed %(fields)s in both places. What you typed here is shown; the "
            "other version is in the history."
        )
    else:
        message = _("You both changed: %(fields)s. Your text is shown; theirs is in the history.")
    return (message % {"fields": _labels(model, both)},)


# -- the strategy list ---------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneMoveRow:
    """A milestone on the strategy list, with its "Move to" form and, after a stale
    move, who changed the milestone since the page was opened."""

    milestone: Milestone
    move_form: MilestoneMoveForm
    conflict: Conflict | None = None


def _strategy_list_context(request, goal: Goal, *, move_form=None, move_conflict=None) -> dict:
    """The goal's strategies with their milestone counts and milestones, each milestone
    with its "Move to" form (``move_form`` and ``move_conflict``: the one just posted);
    a fixed number of queries whatever the number of rows."""
    strategies = list(
        goal.strategies.annotate(milestone_count=Count("milestones")).order_by("number")
    )
    rows = []
    # Through the goal's manager: each milestone's ``goal`` is this instance, not a query.
    for milestone in goal.milestones.order_by("position", "id"):
        if move_form is not None and move_form.milestone.pk == milestone.pk:
            form, conflict = move_form, move_conflict
        else:
            form, conflict = MilestoneMoveForm(milestone=milestone, strategies=strategies), None
        rows.append(MilestoneMoveRow(milestone=milestone, move_form=form, conflict=conflict))
    groups = [
        {"strategy": strategy, "milestones": items}
        for strategy, items in group_by_strategy(
            rows, strategies, keep_empty=True, strategy_id=lambda row: row.milestone.strategy_id
        )
    ]
    return {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "strategies": strategies,
        "groups": groups,
        "add_form": _new_strategy_form([s.number for s in strategies]),
    }


@require_safe
@login_required
def strategy_list(request, slug):
    goal = _admin_goal(request, slug)
    return render(request, "strategies/strategy_list.html", _strategy_list_context(request, goal))


# -- one strategy --------------------------------------------------------------------


def _new_strategy_form(numbers) -> StrategyForm:
    """An empty strategy form proposing the number after the goal's last."""
    return StrategyForm(initial={"number": min(max(numbers, default=0) + 1, 999)})


def _render_strategy_form(request, goal, form, *, strategy=None, conflict=None, status=200):
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "form": form,
        "strategy": strategy,
        "conflict": conflict,
    }
    return render(request, "strategies/strategy_form.html", context, status=status)


@require_http_methods(FORM_METHODS)
@login_required
def strategy_add(request, slug):
    goal = _admin_goal(request, slug)
    if request.method != "POST":
        form = _new_strategy_form(goal.strategies.values_list("number", flat=True))
        return _render_strategy_form(request, goal, form)

    form = StrategyForm(
        request.POST, taken_numbers=goal.strategies.values_list("number", flat=True)
    )
    if form.is_valid():
        try:
            strategy = services.add_strategy(goal=goal, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Added strategy %(number)d.") % {"number": strategy.number}
            )
            return redirect("strategy_list", slug=goal.slug)
    return _render_strategy_form(request, goal, form, status=400)


@require_http_methods(FORM_METHODS)
@login_required
def strategy_edit(request, slug, pk):
    goal = _admin_goal(request, slug)
    strategy = get_object_or_404(Strategy, goal=goal, pk=pk)
    if request.method != "POST":
        initial = {
            "number": strategy.number,
            "title": strategy.title,
            "description": strategy.description,
            "version": strategy.version,
        }
        return _render_strategy_form(
            request, goal, StrategyEditForm(initial=initial), strategy=strategy
        )

    others = goal.strategies.exclude(pk=strategy.pk).values_list("number", flat=True)
    form = StrategyEditForm(request.POST, taken_numbers=others)
    if form.is_valid():
        typed = {name: form.cleaned_data[name] for name in ("number", "title", "description")}
        try:
            saved = services.update_strategy(
                strategy=strategy,
                user=request.user,
                expected_version=form.cleaned_data["version"],
                **typed,
            )
        except StaleEditError as stale:
            form, conflict = _stale_strategy_form(
                stale, typed, taken_numbers=others, user=request.user
            )
            return _render_strategy_form(
                request, goal, form, strategy=stale.obj, conflict=conflict, status=409
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved strategy %(number)d.") % {"number": saved.number})
            return redirect("strategy_list", slug=goal.slug)
    return _render_strategy_form(request, goal, form, strategy=strategy, status=400)


def _stale_strategy_form(
    stale: StaleEditError, typed: dict, *, taken_numbers, user
) -> tuple[StrategyEditForm, Conflict]:
    """The form again at the strategy's current version (see ``_merge_stale``), and who
    changed which fields since it was opened."""
    data, mine, theirs = _merge_stale(stale, typed)
    form = StrategyEditForm(data, taken_numbers=taken_numbers)
    form.is_valid()
    # Two messages, not one with the model's name in it: each reads whole in translation.
    changed = _(
        "%(user)s changed this strategy at %(when)s (%(fields)s) after you opened this "
        "form. Nothing was saved. The form now shows their version with your edits kept "
        "in the fields you changed; check it, then save again."
    )
    changed_by_you = _(
        "You saved this strategy in another tab or window at %(when)s (%(fields)s) after "
        "you opened this form. Nothing was saved here. The form now shows that version "
        "with your edits kept in the fields you changed; check it, then save again."
    )
    unchanged = _("This strategy changed after you opened this form. Nothing was saved.")
    return form, _conflict(
        stale,
        Strategy,
        mine,
        theirs,
        changed=changed,
        changed_by_you=changed_by_you,
        unchanged=unchanged,
        user=user,
    )


@require_http_methods(FORM_METHODS)
@login_required
def strategy_delete(request, slug, pk):
    """GET: what deleting the strategy removes (or why it cannot be deleted) and the
    button; POST (from that page, at the version it showed): delete it."""
    goal = _admin_goal(request, slug)
    strategy = get_object_or_404(Strategy, goal=goal, pk=pk)
    status = 200
    if request.method == "POST":
        try:
            version = _confirmed_version(request)
            services.delete_strategy(
                strategy=strategy, user=request.user, expected_version=version
            )
        except StaleEditError as stale:
            strategy = stale.obj
            messages.warning(
                request,
                _(
                    "Nothing was deleted: strategy %(number)d was changed while you were "
                    "reviewing it. Check what will be removed, then delete again."
                )
                % {"number": strategy.number},
            )
            status = 409
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            status = 400
        else:
            messages.success(
                request, _("Deleted strategy %(number)d.") % {"number": strategy.number}
            )
            return redirect("strategy_list", slug=goal.slug)
    refusal = services.delete_strategy_refusal(strategy)
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "strategy": strategy,
        "problem": " ".join(refusal.messages) if refusal is not None else "",
        "aligned": list(strategy.milestones.order_by("position", "id")) if refusal else [],
        "back_url": reverse("strategy_list", kwargs={"slug": goal.slug}),
    }
    return render(request, "strategies/strategy_delete_confirm.html", context, status=status)


def _confirmed_version(request) -> int:
    """The strategy's version the confirmation page showed; a POST without it did not
    come from that page and deletes nothing."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        raise ValidationError(
            _("Nothing was deleted: open the strategy's Delete page and confirm there."),
            code="not_confirmed",
        ) from None


# -- moving a milestone to another strategy -------------------------------------------


@require_POST
@login_required
def milestone_move(request, slug, pk):
    goal = _admin_goal(request, slug)
    milestone = get_object_or_404(goal.milestones, pk=pk)
    form = MilestoneMoveForm(request.POST, milestone=milestone)
    status, conflict = 400, None
    if form.is_valid():
        try:
            moved = milestone_services.move_milestone(
                milestone=milestone,
                user=request.user,
                strategy=form.cleaned_data["strategy"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleEditError as stale:
            status = 409
            form, conflict = _stale_move_form(request, stale, form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if moved.version == milestone.version:
                text = _("“%(title)s” is already there; nothing changed.") % {"title": moved.title}
            elif moved.strategy is None:
                text = _("“%(title)s” is no longer aligned to a strategy.") % {
                    "title": moved.title
                }
            else:
                text = _("Moved “%(title)s” to strategy %(number)d.") % {
                    "title": moved.title,
                    "number": moved.strategy.number,
                }
            messages.success(request, text)
            return redirect("strategy_list", slug=goal.slug)
    context = _strategy_list_context(request, goal, move_form=form, move_conflict=conflict)
    return render(request, "strategies/strategy_list.html", context, status=status)


def _stale_move_form(request, stale, form) -> tuple[MilestoneMoveForm, Conflict]:
    """The form again, at the current version with the user's choice kept, and who moved
    or changed the milestone since it was opened."""
    data = request.POST.copy()
    data[form.add_prefix("version")] = str(stale.milestone.version)
    fresh = MilestoneMoveForm(data, milestone=stale.milestone)
    fresh.is_valid()
    last = stale.versions[-1] if stale.versions else None
    if last is not None:
        if saved_by(last, request.user):
            message = _(
                "You changed this milestone in another tab or window at %(when)s (it is now "
                "under %(strategy)s). Nothing was moved; your choice is kept: press Move "
                "again to apply it."
            )
        else:
            message = _(
                "%(user)s changed this milestone at %(when)s (it is now under %(strategy)s). "
                "Nothing was moved; your choice is kept: press Move again to apply it."
            )
        message = message % {
            "user": last.history_username or _("someone"),
            "when": _when(last.history_date),
            "strategy": stale.milestone.strategy or _("no strategy"),
        }
    else:
        message = _("This milestone changed since the page was opened. Nothing was moved.")
    return fresh, Conflict(message)


# -- the goal ----------------------------------------------------------------------------


def _render_goal_form(request, goal, form, *, conflict=None, status=200):
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "form": form,
        "conflict": conflict,
    }
    return render(request, "strategies/goal_form.html", context, status=status)


@require_http_methods(FORM_METHODS)
@login_required
def goal_edit(request, slug):
    goal = _admin_goal(request, slug)
    if request.method != "POST":
        form = GoalForm(instance=goal, initial={"version": goal.version})
        return _render_goal_form(request, goal, form)

    # A copy: validating a ModelForm writes the typed values onto its instance, and the
    # page header still shows the saved goal.
    form = GoalForm(request.POST, instance=copy.copy(goal))
    if form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.GOAL_EDITABLE_FIELDS}
        try:
            saved = services.update_goal(
                goal=goal,
                user=request.user,
                expected_version=form.cleaned_data["version"],
                **fields,
            )
        except StaleEditError as stale:
            form, conflict = _stale_goal_form(stale, fields, user=request.user)
            return _render_goal_form(request, stale.obj, form, conflict=conflict, status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if saved.version == goal.version:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(request, _("Saved the goal."))
            return redirect(saved)
    return _render_goal_form(request, goal, form, status=400)


def _stale_goal_form(stale: StaleEditError, typed: dict, *, user) -> tuple[GoalForm, Conflict]:
    """The form again at the goal's current version (see ``_merge_stale``), and who
    changed which fields since it was opened."""
    data, mine, theirs = _merge_stale(stale, typed)
    form = GoalForm(data, instance=copy.copy(stale.obj))
    form.is_valid()
    changed = _(
        "%(user)s changed this goal at %(when)s (%(fields)s) after you opened this form. "
        "Nothing was saved. The form now shows their version with your edits kept in "
        "the fields you changed; check it, then save again."
    )
    changed_by_you = _(
        "You saved this goal in another tab or window at %(when)s (%(fields)s) after you "
        "opened this form. Nothing was saved here. The form now shows that version with "
        "your edits kept in the fields you changed; check it, then save again."
    )
    unchanged = _("This goal changed after you opened this form. Nothing was saved.")
    return form, _conflict(
        stale,
        Goal,
        mine,
        theirs,
        changed=changed,
        changed_by_you=changed_by_you,
        unchanged=unchanged,
        user=user,
    )


def _conflict(
    stale: StaleEditError,
    model,
    mine,
    theirs,
    *,
    changed: str,
    changed_by_you: str,
    unchanged: str,
    user,
):
    """Who changed which fields of ``model`` since the form was opened, in ``changed``
    (``changed_by_you`` when the newest save was ``user``'s own, in another tab;
    ``unchanged`` when no later version is known), and the fields both changed."""
    by_you = False
    if stale.versions:
        last = stale.versions[-1]
        by_you = saved_by(last, user)
        heading = (changed_by_you if by_you else changed) % {
            "user": last.history_username or _("someone"),
            "when": _when(last.history_date),
            "fields": _labels(model, theirs) or _("no visible field"),
        }
    else:
        heading = unchanged
    return Conflict(heading, _both_changed(model, mine, theirs, by_you=by_you))


def _form_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _labels(model, names: set[str]) -> str:
    """Field labels in the model's order."""
    return ", ".join(
        str(field.verbose_name) for field in model._meta.fields if field.name in names
    )
