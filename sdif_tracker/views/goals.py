"""The read-only pages: parse the request, fetch through ``access`` and ``dashboard``,
render."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from milestones import review, services
from milestones.forms import ProgressSummaryForm, StatusUpdateForm
from milestones.models import QUARTERLY_UPDATE_FIELDS as UPDATE_FIELDS
from milestones.models import ProgressSummary
from milestones.quarters import published_quarters, reportable_quarters, reporting_quarter
from milestones.services import PublishedSummaryError, StaleMilestoneError, StaleSummaryError
from sdif_tracker import access
from sdif_tracker.pages import (
    asof,
    completeness,
    dashboard,
    publishing,
    quality,
)
from sdif_tracker.pages.milestone import milestone_history, milestone_status_updates
from sdif_tracker.pages.my_work import my_work
from sdif_tracker.pages.plan_page import plan_context
from sdif_tracker.pages.portfolio import portfolio_page
from sdif_tracker.pages.review import review_panel
from sdif_tracker.pages.rows import live_row
from strategies.periods import FiscalPeriod


@require_safe
@login_required
def portfolio(request):
    page = portfolio_page(request.user, request.GET)
    heatmap = publishing.risk_heatmap(page.goals)
    return render(
        request,
        "strategies/goal_list.html",
        {"page": page, "page_obj": page.page_obj, "goals": page.goals, "heatmap": heatmap},
    )


@require_safe
@login_required
def goal_dashboard(request, slug):
    """The goal's milestones by strategy or due quarter; with ``?quarter=`` as reported
    for that quarter, with ``?as_of=`` (a date or a quarter's end) as recorded then;
    both read-only."""
    goal = access.get_goal_for_user(request.user, slug)
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "picker": asof.goal_quarters(goal),
    }
    moment = asof.requested_view(request, goal)
    if moment is None:
        context["board"] = dashboard.goal_dashboard(goal, request.GET)
        if context["perms_goal"].write_summary:  # leaders, deputies and admins
            board = context["board"]
            context["completeness"] = completeness.check_goal(
                goal, strategies=board.strategies, milestones=board.plan_milestones
            )
        # The quality check's one line, for everyone who sees the live dashboard.
        context["quality_findings"] = quality.dashboard_findings(
            request.user, goal, milestones=context["board"].plan_milestones
        )
    else:
        plan = asof.plan_as_of(goal, moment)
        context.update(as_of=moment, perms_goal=access.READ_ONLY, existed=plan.existed)
        if plan.existed:
            context.update(goal=plan.goal, board=dashboard.goal_dashboard_as_of(plan, request.GET))
    return render(request, "strategies/goal_dashboard.html", context)


@require_safe
@login_required
def milestone_detail(request, slug, pk):
    milestone = access.get_milestone_for_user(request.user, slug, pk)
    return render(request, "milestones/milestone_detail.html", _detail_context(request, milestone))


def _detail_context(request, milestone, *, form=None, conflict=None):
    perms = access.permissions_for(request.user, milestone.goal)
    if form is None and perms.update_milestones:
        form = _status_form(milestone)
    quarter = reporting_quarter(milestone.goal)
    return {
        "goal": milestone.goal,
        "milestone": milestone,
        "reporting_quarter": quarter,
        "overdue": milestone.is_overdue_in(quarter),
        "due_now": milestone.is_due_in(quarter),
        "perms_goal": perms,
        "form": form,
        "conflict": conflict,
        "status_updates": milestone_status_updates(milestone),
        "history": milestone_history(milestone),
    }


@require_safe
def goal_plan(request, slug):
    try:
        goal = access.get_goal_for_plan(request.user, slug)
    except access.LoginRequired:
        return redirect_to_login(request.get_full_path())
    context = plan_context(request, goal)
    if request.user.is_authenticated:
        context["picker"] = asof.goal_quarters(goal)
    return render(request, "strategies/goal_plan.html", context)


# -- keeping milestones current -------------------------------------------------------


def _status_form(milestone, data=None):
    initial = {
        "status": milestone.status,
        "period": reporting_quarter(milestone.goal),
        "version": milestone.version,
    }
    return StatusUpdateForm(
        data,
        milestone=milestone,
        initial=initial,
        quarters=reportable_quarters(milestone.goal),
    )


def _row_context(request, milestone, **extra):
    """What the dashboard's htmx answers render: the milestone's row (the dashboard's
    columns, "since last quarter" included), with ``extra``."""
    return {
        "milestone": milestone,
        "goal": milestone.goal,
        "perms_goal": access.permissions_for(request.user, milestone.goal),
        "rows": [live_row(milestone)],
        **extra,
    }


def _page_params(request) -> QueryDict:
    """The GET parameters of the dashboard an htmx request came from (its grouping and
    filters, which the refreshed work line's links keep); none without htmx."""
    url = request.htmx.current_url if request.htmx else None
    return QueryDict(urlsplit(url).query if url else "")


def _panel_form(request, milestone, form, conflict=None):
    """The form in the dashboard's edit panel (a 200: htmx swaps only 2xx answers)."""
    if not form.is_bound:
        # The panel gives the first field focus when it opens (keyboard users land on it);
        # a form back with errors leaves focus to app.js, which moves it to the first error.
        form.fields["status"].widget.attrs["autofocus"] = True
    context = {"milestone": milestone, "goal": milestone.goal, "form": form, "conflict": conflict}
    return render(request, "milestones/_milestone_panel_form.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def milestone_update(request, slug, pk):
    """The status update form: in the dashboard's edit panel with htmx, on the milestone
    page without. Refuses a form opened before someone else's save and keeps what was
    typed. Saved with htmx: the row, the dashboard's counts and a message, in place."""
    milestone = access.get_milestone_for_user(
        request.user, slug, pk, need=access.Need.UPDATE_MILESTONES
    )
    if request.method == "GET":
        if request.htmx:
            return _panel_form(request, milestone, _status_form(milestone))
        return redirect(f"{milestone.get_absolute_url()}#update")

    form = _status_form(milestone, request.POST)
    conflict = None
    stale_version = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            update = services.record_status_update(
                milestone=milestone,
                user=request.user,
                status=data["status"],
                comment=data["comment"],
                period=data["period"],
                revised_due=data["revised_due"],
                expected_version=data["version"],
            )
        except StaleMilestoneError as stale:
            stale_version = True
            conflict = stale.entries()
            milestone = stale.milestone  # its goal is the one fetched above, with its agency
            # Keep what was typed; the next save applies it over the current version.
            rebound = request.POST.copy()
            rebound[form.add_prefix("version")] = str(milestone.version)
            form = _status_form(milestone, rebound)
            if not conflict:
                # No save after the version the form claims: it was not opened from
                # this milestone's page as it is now (another tab, an edited form).
                form.add_error(
                    None,
                    _(
                        "This form does not match the milestone's saved version, so nothing "
                        "was saved. What you typed is kept below: check it against the "
                        "milestone as it is now and save again."
                    ),
                )
        except review.UpdateInReviewError as locked:
            # Nothing saved; what was typed stays in the form until the update is returned.
            stale_version = True  # answered 409, as a conflict
            form.add_error(None, str(locked))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            saved = update.milestone
            text = _("Saved: “%(title)s” is %(status)s.") % {
                "title": saved.title,
                "status": saved.get_status_display(),
            }
            if request.htmx:
                context = _row_context(
                    request,
                    saved,
                    announcement=text,  # the live region: the whole sentence
                    # Beside the title it names: short, so the row does not grow.
                    row_message=_("Saved: now %(status)s.")
                    % {"status": saved.get_status_display()},
                    summary=dashboard.goal_work_summary(saved.goal, _page_params(request)),
                )
                return render(request, "milestones/_milestone_panel_saved.html", context)
            messages.success(request, text)
            return redirect(saved)

    status = 409 if stale_version else 400
    if request.htmx:
        # htmx swaps only 2xx responses; the panel's form carries the errors itself.
        return _panel_form(request, milestone, form, conflict)
    return render(
        request,
        "milestones/milestone_detail.html",
        _detail_context(request, milestone, form=form, conflict=conflict),
        status=status,
    )


# -- the quarterly workflow ------------------------------------------------------------


@require_safe
@login_required
def my_goals(request):
    """A leader's to-do for the quarter: milestones not yet updated, overdue first."""
    work = my_work(request.user)
    return render(request, "milestones/my_goals.html", {"work": work})


@require_http_methods(["GET", "POST"])
@login_required
def progress_edit(request, slug):
    """Write or edit the goal's summary of progress for one reporting period."""
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.WRITE_SUMMARY)
    conflict = None
    if request.method == "GET":
        try:
            period = FiscalPeriod.parse(request.GET.get("period") or str(reporting_quarter(goal)))
        except ValueError as error:
            messages.warning(request, str(error))
            period = reporting_quarter(goal)
        existing = ProgressSummary.objects.filter(goal=goal, period=period).first()
        if existing is not None and existing.is_published:
            # A published update is frozen: editing starts the draft of the quarter being
            # reported on, if there is one left.
            following = reporting_quarter(goal)
            if following in published_quarters(goal):
                messages.info(
                    request,
                    _("%(published)s and does not change. Every quarter of the goal is published.")
                    % {"published": existing.published_label},
                )
                return redirect(goal.get_plan_url())
            messages.info(
                request,
                _("%(published)s and does not change. Here is the draft for %(next)s.")
                % {"published": existing.published_label, "next": following},
            )
            return redirect(f"{request.path}?{urlencode({'period': str(following)})}")
        form = ProgressSummaryForm(
            initial={
                "period": period,
                **{name: getattr(existing, name) if existing else "" for name in UPDATE_FIELDS},
                "version": existing.version if existing else None,
            }
        )
        return render(
            request,
            "milestones/progress_form.html",
            _progress_context(request, goal, form, existing),
        )

    form = ProgressSummaryForm(request.POST)
    existing = None
    published_refusal = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            summary = services.save_progress_summary(
                goal=goal,
                user=request.user,
                period=data["period"],
                summary=data["summary"],
                details=form.details,
                expected_version=data["version"],
            )
        except PublishedSummaryError as published:
            # Nothing saved; what was typed becomes the next quarter's draft form. A
            # draft already there is not overwritten: saving then reports the conflict.
            following = reporting_quarter(goal)
            rebound = request.POST.copy()
            rebound["period"] = str(following)
            rebound["version"] = ""
            form = ProgressSummaryForm(rebound)
            form.is_valid()
            form.add_error(
                None,
                _(
                    "%(published)s and does not change; nothing was saved. What you typed "
                    "is kept below as the draft for %(next)s: check it and save."
                )
                % {"published": published.summary.published_label, "next": following},
            )
            conflict = None
            published_refusal = True
        except review.UpdateInReviewError as locked:
            # Nothing saved: the update is in review; what was typed is kept below.
            existing = locked.summary
            form.add_error(None, str(locked))
            published_refusal = True  # answered 409
        except StaleSummaryError as stale:
            existing = stale.summary
            rebound = request.POST.copy()
            rebound["version"] = str(existing.version) if existing is not None else ""
            form = ProgressSummaryForm(rebound)
            conflict = stale.versions[-1] if stale.versions else True
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Saved the summary of progress for %(period)s.") % {"period": summary.period},
            )
            return redirect(goal.get_plan_url() + "#progress")
    return render(
        request,
        "milestones/progress_form.html",
        _progress_context(request, goal, form, existing, conflict=conflict),
        status=409 if conflict or published_refusal else 400,
    )


def _progress_context(request, goal, form, existing, *, conflict=None):
    """The update page's context: the form, and the update's review panel (its state,
    trail and the chain's buttons); while it is in review the form is read-only."""
    panel = review_panel(goal, existing, access.permissions_for(request.user, goal))
    if panel is not None and panel.locked:
        # Shown, not editable; a form sent back keeps what was typed (a disabled field
        # would show the initial value instead).
        for bound in form:
            bound.field.widget.attrs["disabled"] = True
    return {
        "goal": goal,
        "form": form,
        "existing": existing,
        "conflict": conflict,
        "panel": panel,
    }
