"""Key indicators: admins define them and their targets (``indicator_list``,
``indicator_edit``); the goal's team enters the reporting quarter's actuals
(``indicator_actuals``).

Parse → fetch through ``access`` → read ``pages.indicators`` or call a service (the
definition in ``strategies.services``, actuals in ``milestones.indicator_actuals``) →
render or redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from milestones import indicator_actuals as actuals
from milestones.quarters import reportable_quarters, reporting_quarter
from milestones.review import UpdateInReviewError, update_in_review
from sdif_tracker import access
from sdif_tracker.pages import indicators
from sdif_tracker.pages.plan_page import indicator_charts
from strategies import forms as plan_forms
from strategies import services as plan_services
from strategies.models import Goal
from strategies.periods import FiscalPeriod

FORM_METHODS = ["GET", "HEAD", "POST"]


# -- definitions (admins) ----------------------------------------------------------------


@require_http_methods(FORM_METHODS)
@login_required
def indicator_list(request, slug):
    """The goal's key indicators with their charts, and a form to define another."""
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.EDIT_PLAN)
    form = plan_forms.IndicatorForm()
    status = 200
    if request.method == "POST":
        form = plan_forms.IndicatorForm(request.POST)
        if form.is_valid():
            try:
                indicator = actuals.save_indicator(
                    goal=goal, user=request.user, **form.definition_fields()
                )
            except ValidationError as error:
                plan_forms.add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Added the indicator “%(name)s”. Now enter its targets and actuals.")
                    % {"name": indicator.name},
                )
                return redirect("indicator_edit", slug=goal.slug, pk=indicator.pk)
        status = 400
    return render(
        request,
        "strategies/indicator_list.html",
        {
            "goal": goal,
            "perms_goal": access.permissions_for(request.user, goal),
            "indicator_charts": indicator_charts(indicators.goal_indicators(goal)),
            "form": form,
        },
        status=status,
    )


@require_http_methods(FORM_METHODS)
@login_required
def indicator_edit(request, slug, pk):
    """An indicator's definition, and its target and actual per period."""
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.EDIT_PLAN)
    indicator = get_object_or_404(goal.indicators, pk=pk)
    conflict = None
    if request.method != "POST":
        form = plan_forms.IndicatorForm(initial=plan_forms.indicator_initial(indicator))
        formset = plan_forms.value_formset(indicator)
        return _render_edit(request, goal, indicator, form, formset)
    form = plan_forms.IndicatorForm(request.POST)
    formset = plan_forms.value_formset(indicator, request.POST)
    status = 400
    if form.is_valid() and form.cleaned_data["version"] is None:
        form.add_error(None, _("This form is incomplete. Reload the page and edit again."))
    if form.is_valid() and formset.is_valid():
        try:
            actuals.save_indicator(
                goal=goal,
                user=request.user,
                indicator=indicator,
                rows=plan_forms.rows_of(formset),
                expected_version=form.cleaned_data["version"],
                **form.definition_fields(),
            )
        except plan_services.StaleIndicatorError as stale:
            # What they typed stays; saving again (at the current version) applies it.
            data = request.POST.copy()
            data["version"] = str(stale.obj.version)
            form = plan_forms.IndicatorForm(data)
            form.is_valid()
            indicator = stale.obj
            conflict = {
                "heading": _(
                    "This indicator was changed by someone else after you opened this form. "
                    "Nothing was saved. What you typed is still here: check their change "
                    "below, then save again to apply yours."
                ),
                "entries": stale.entries(),
            }
            status = 409
        except UpdateInReviewError as locked:
            form.add_error(None, str(locked))
            status = 409
        except ValidationError as error:
            plan_forms.add_service_errors(form, error)
        else:
            messages.success(
                request, _("Saved the indicator “%(name)s”.") % {"name": indicator.name}
            )
            return redirect(reverse("indicator_list", kwargs={"slug": goal.slug}))
    return _render_edit(request, goal, indicator, form, formset, conflict=conflict, status=status)


def _render_edit(request, goal, indicator, form, formset, *, conflict=None, status=200):
    return render(
        request,
        "strategies/indicator_form.html",
        {
            "goal": goal,
            "perms_goal": access.permissions_for(request.user, goal),
            "indicator": indicator,
            "form": form,
            "formset": formset,
            "conflict": conflict,
        },
        status=status,
    )


# -- actuals (the goal's team) -----------------------------------------------------------


def _asked_quarter(request, goal: Goal, *, any_period: bool) -> FiscalPeriod:
    """The quarter whose actuals the page enters: the reporting quarter; an admin may ask
    for another quarter not yet published (``?period=``, or the posted ``period``)."""
    quarter = reporting_quarter(goal)
    text = (request.POST if request.method == "POST" else request.GET).get("period", "")
    if not any_period or not text.strip():
        return quarter
    try:
        asked = FiscalPeriod.parse(text)
    except ValueError:
        return quarter
    return asked if asked in reportable_quarters(goal) else quarter


@require_http_methods(FORM_METHODS)
@login_required
def indicator_actuals(request, slug):
    """GET: each indicator due in the reporting quarter with its target, its actual and
    note, in one form. POST: save the rows changed, all or nothing; a row someone else
    saved meanwhile (409) is named, and everything typed is kept."""
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.ENTER_ACTUALS)
    perms = access.permissions_for(request.user, goal)
    any_period = perms.edit_plan  # admins may also correct an earlier open quarter
    quarter = _asked_quarter(request, goal, any_period=any_period)
    rows = indicators.actual_rows(goal, quarter)
    due = [row for row in rows if row.period is not None]
    data = request.POST if request.method == "POST" else None
    for row in due:
        row.form = plan_forms.actual_form(row.indicator, row.value, data)
    context = {
        "goal": goal,
        "perms_goal": perms,
        "quarter": quarter,
        "rows": due,
        "not_due": [row for row in rows if row.period is None],
        "quarters": reportable_quarters(goal) if any_period else [],
        "in_review": update_in_review(goal, quarter),
        "conflicts": [],
        "problem": "",
    }
    if request.method != "POST":
        return render(request, "strategies/indicator_actuals.html", context)

    status = 400
    if "period" not in request.POST:  # not posted from this page
        context["problem"] = _("This form is incomplete. Reload the page and enter again.")
    elif all(row.form.is_valid() for row in due):
        entries = [
            actuals.ActualEntry(
                indicator=row.indicator,
                actual=row.form.cleaned_data["actual"],
                note=row.form.cleaned_data["note"],
                expected_version=row.form.cleaned_data["version"],
            )
            for row in due
            if row.form.was_edited()
        ]
        periods = {row.indicator.pk: row.period for row in due}
        try:
            saved = actuals.record_actuals(
                user=request.user,
                period_of=lambda indicator: periods[indicator.pk],
                entries=entries,
                any_period=any_period,
            )
        except actuals.StaleActualsError as stale:
            context["conflicts"] = _show_conflicts(due, stale)
            status = 409
        except UpdateInReviewError as locked:
            context["problem"] = str(locked)
            status = 409
        except ValidationError as error:
            context["problem"] = " ".join(error.messages)
        else:
            if saved:
                messages.success(
                    request,
                    _("Saved %(count)d actual(s) for %(quarter)s.")
                    % {"count": len(saved), "quarter": quarter},
                )
            else:
                messages.info(request, _("Nothing was changed."))
            url = reverse("indicator_actuals", kwargs={"slug": goal.slug})
            if quarter != reporting_quarter(goal):
                url += "?" + urlencode({"period": str(quarter)})
            return redirect(url)
    return render(request, "strategies/indicator_actuals.html", context, status=status)


def _show_conflicts(rows, stale: actuals.StaleActualsError) -> list:
    """Mark each conflicting row with what was saved meanwhile and rebind its form at the
    current version (the typed values kept), so that saving again applies them; return
    the conflicting rows."""
    conflicting = []
    for row in rows:
        error = stale.stale.get(row.indicator.pk)
        if error is None:
            continue
        current = error.obj
        data = row.form.data.copy()
        prefix = row.form.prefix
        data[f"{prefix}-version"] = str(current.version) if current is not None else ""
        data[f"initial-{prefix}-actual"] = (
            "" if current is None or current.actual is None else str(current.actual)
        )
        data[f"initial-{prefix}-note"] = current.note if current is not None else ""
        row.value = current
        row.form = plan_forms.actual_form(row.indicator, current, data)
        row.form.is_valid()
        row.conflict = error.entries()
        conflicting.append(row)
    return conflicting
