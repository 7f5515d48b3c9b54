"""Pages over the plan's past: two quarters compared, each as reported for (readers), and
reverting a milestone, strategy or goal to an earlier version (admins). The dashboard and
plan of the past are the ordinary pages with ``?quarter=`` or ``?as_of=``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from audit.diffs import describe_versions
from audit.reasons import describe
from milestones import services as milestone_services
from milestones.models import Milestone
from milestones.review import UpdateInReviewError
from sdif_tracker import access
from sdif_tracker.pages import asof
from sdif_tracker.pages.compare import compare_plans
from strategies import services
from strategies.models import Goal, Strategy
from strategies.periods import FiscalPeriod

# -- compare two quarters ------------------------------------------------------------------


def _quarter(request, name: str, default: FiscalPeriod, quarters: list[FiscalPeriod]):
    """The quarter asked for as ``name``: one of ``quarters`` (the goal's up to its
    reporting quarter), else ``default`` with a message saying why."""
    text = request.GET.get(name, "").strip()
    if not text:
        return default
    try:
        period = FiscalPeriod.parse(text)
    except ValueError as error:
        problem = str(error)
    else:
        if not period.is_quarter:
            problem = _("“%(value)s” is not a quarter (write e.g. Q2 FY19).") % {"value": period}
        elif period > quarters[0]:
            problem = _(
                "Nothing is reported for %(quarter)s yet: the goal is reporting on %(current)s."
            ) % {"quarter": period, "current": quarters[0]}
        else:
            return period
    messages.warning(
        request,
        _("%(problem)s Comparing %(default)s instead.") % {"problem": problem, "default": default},
    )
    return default


@require_safe
@login_required
def goal_compare(request, slug):
    """The goal as reported for two quarters side by side, every difference marked.
    Defaults to the quarter before the reporting quarter against the reporting quarter."""
    goal = access.get_goal_for_user(request.user, slug)
    quarters = asof.goal_quarters(goal)
    current = quarters[0]
    start = _quarter(request, "from", quarters[1] if len(quarters) > 1 else current, quarters)
    end = _quarter(request, "to", current, quarters)
    if start > end:
        messages.info(request, _("The earlier quarter is shown first."))
        start, end = end, start
    before = asof.plan_as_of(goal, asof.ReportedFor(start))
    after = asof.plan_as_of(goal, asof.ReportedFor(end))
    context = {
        "goal": goal,
        "perms_goal": access.READ_ONLY,
        "quarters": quarters,
        "start": start,
        "end": end,
        "comparison": compare_plans(before, after),
    }
    return render(request, "strategies/goal_compare.html", context)


# -- revert (admins) -------------------------------------------------------------------------


def _version(history, obj, history_id: int):
    """History row ``history_id`` of ``obj``; 404 for another object's row or a deletion."""
    record = history.filter(id=obj.pk, history_id=history_id).exclude(history_type="-").first()
    if record is None:
        raise Http404("No such version of this object.")
    return record


def _posted_version(request, *, required: bool = False) -> int | None:
    """The version the confirmation page was opened at (None if not posted and not
    ``required``); a damaged one is refused."""
    text = request.POST.get("version", "")
    if not text and not required:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError(_("The form was damaged; open it again."), code="bad_form") from None


def _revert(request, *, goal, obj, model, history, record, revert, back_url, kind):
    """Confirm (GET: the field changes the revert will make) or revert (POST; ``revert``
    returns where to go next)."""
    status = 200
    if request.method == "POST":
        try:
            next_url = revert()
        except services.StaleEditError:
            messages.warning(
                request,
                _("Someone changed it while you were reviewing: check the changes again."),
            )
            obj.refresh_from_db()
            status = 409
        except UpdateInReviewError as locked:
            # The revert writes a status update for a quarter whose update is in review.
            messages.error(request, str(locked))
            status = 409
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            status = 400
        else:
            messages.success(
                request,
                _("Saved as a new change: “%(reason)s”.")
                % {"reason": describe(services.revert_reason(record=record, user=request.user))},
            )
            return redirect(next_url)
    current = history.filter(id=obj.pk).order_by("-history_date", "-history_id").first()
    entry = describe_versions([record, current], model)[0]
    order = {model_field.name: i for i, model_field in enumerate(model._meta.fields)}
    context = {
        "goal": goal,
        "object": obj,
        "record": record,
        "changes": sorted(entry.changes, key=lambda change: order.get(change.field, 0)),
        "reason": describe(services.revert_reason(record=record, user=request.user)),
        "back_url": back_url,
        "kind": kind,
    }
    return render(request, "strategies/revert_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def milestone_revert(request, slug, pk, history_id):
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.EDIT_PLAN)
    milestone = get_object_or_404(goal.milestones, pk=pk)
    record = _version(Milestone.history, milestone, history_id)

    def revert():
        milestone_services.revert_milestone(
            milestone=milestone,
            record=record,
            user=request.user,
            expected_version=_posted_version(request, required=True),
        )
        return milestone.get_absolute_url()

    return _revert(
        request,
        goal=goal,
        obj=milestone,
        model=Milestone,
        history=Milestone.history,
        record=record,
        revert=revert,
        back_url=milestone.get_absolute_url(),
        kind=_("key milestone"),
    )


@require_http_methods(["GET", "POST"])
@login_required
def strategy_revert(request, slug, pk, history_id):
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.EDIT_PLAN)
    strategy = get_object_or_404(goal.strategies, pk=pk)
    record = _version(Strategy.history, strategy, history_id)
    strategies_url = reverse("strategy_list", kwargs={"slug": goal.slug})

    def revert():
        services.revert_strategy(
            strategy=strategy,
            record=record,
            user=request.user,
            expected_version=_posted_version(request),
        )
        return strategies_url

    return _revert(
        request,
        goal=goal,
        obj=strategy,
        model=Strategy,
        history=Strategy.history,
        record=record,
        revert=revert,
        back_url=strategies_url,
        kind=_("strategy"),
    )


@require_http_methods(["GET", "POST"])
@login_required
def goal_revert(request, slug, history_id):
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.EDIT_PLAN)
    record = _version(Goal.changes, goal, history_id)

    def revert():
        saved = services.revert_goal(
            goal=goal, record=record, user=request.user, expected_version=_posted_version(request)
        )
        return saved.get_absolute_url()  # the version restored may carry an earlier slug

    return _revert(
        request,
        goal=goal,
        obj=goal,
        model=Goal,
        history=Goal.changes,
        record=record,
        revert=revert,
        back_url=goal.get_absolute_url(),
        kind=_("goal"),
    )
