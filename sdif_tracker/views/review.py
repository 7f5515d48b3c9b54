"""The review page of a quarterly update (``?period=``, default the quarter being reported
on): the update as it stands, where it is in its review chain, its trail, and the actions
the reader may take; POST takes one (``action``: submit, approve, clear, return,
withdraw) through ``milestones.review``.

Parse → fetch through ``access`` → call the chain's service → redirect, or render the
page again with the refusal (400 wrong state or missing comment, 403 wrong role, 409 a
page opened before the update changed).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from milestones import review
from milestones.models import ProgressSummary
from milestones.quarters import reporting_quarter
from sdif_tracker import access
from sdif_tracker.pages.review import review_panel
from strategies.periods import FiscalPeriod

DONE = {
    review.Action.SUBMIT: gettext_lazy("Submitted the %(period)s update for review."),
    review.Action.APPROVE: gettext_lazy("Approved the %(period)s update for the agency."),
    review.Action.CLEAR: gettext_lazy("Cleared the %(period)s update."),
    review.Action.RETURN: gettext_lazy(
        "Returned the %(period)s update to draft with your comment."
    ),
    review.Action.WITHDRAW: gettext_lazy(
        "Withdrew the %(period)s update from review: it is a draft again."
    ),
}


def _period(goal, text: str) -> FiscalPeriod:
    return FiscalPeriod.parse(text) if text.strip() else reporting_quarter(goal)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def update_review(request, slug):
    """GET: the update and its review panel; POST: take the chain's ``action`` on it."""
    goal = access.get_goal_for_user(request.user, slug)
    perms = access.permissions_for(request.user, goal)
    source = request.POST if request.method == "POST" else request.GET
    if request.method == "POST" and not perms.takes_review_steps:
        if goal.is_closed:
            raise access.GoalClosed(goal)
        raise PermissionDenied(
            _(
                "Only the goal's leaders, its agency's performance office and its examiners "
                "act on its updates."
            )
        )
    try:
        period = _period(goal, source.get("period", ""))
    except ValueError as error:
        return _render(request, goal, perms, None, problem=str(error), status=400)
    summary = ProgressSummary.objects.filter(goal=goal, period=period).first()
    if request.method != "POST":
        return _render(request, goal, perms, period, summary=summary)

    if summary is None:
        problem = _("There is no update for %(period)s yet: write its summary of progress first.")
        return _render(
            request, goal, perms, period, problem=problem % {"period": period}, status=400
        )
    try:
        action = review.Action(source.get("action", ""))
        service = review.TRANSITIONS[action]
    except (ValueError, KeyError):
        return _render(
            request,
            goal,
            perms,
            period,
            summary=summary,
            problem=_("Choose one of the buttons on this page."),
            status=400,
        )
    try:
        version = int(source.get("version", ""))
    except ValueError:
        version = -1  # not from this page: refused as stale below
    comment = source.get("comment", "")
    kwargs = {"summary": summary, "user": request.user, "permissions": perms}
    if action in (review.Action.RETURN, review.Action.WITHDRAW):
        kwargs["comment"] = comment
    summary.goal = goal
    try:
        service(expected_version=version, **kwargs)
    except review.StaleReviewError as stale:
        return _render(
            request,
            goal,
            perms,
            period,
            summary=stale.summary,
            conflict=stale.entries(),
            typed=comment,
            status=409,
        )
    except review.ReviewNotAllowed:
        raise
    except ValidationError as error:
        on_comment = hasattr(error, "error_dict") and "comment" in error.error_dict
        comment_errors = error.message_dict["comment"] if on_comment else []
        problem = "" if comment_errors else " ".join(error.messages)
        return _render(
            request,
            goal,
            perms,
            period,
            summary=summary,
            problem=problem,
            comment_errors=comment_errors,
            typed=comment,
            typed_action=action,
            status=400,
        )
    messages.success(request, DONE[action] % {"period": period})
    return redirect(review.review_url(goal, period))


def _render(
    request,
    goal,
    perms,
    period,
    *,
    summary=None,
    problem="",
    conflict=None,
    comment_errors=(),
    typed="",
    typed_action="",
    status=200,
):
    if summary is not None:
        summary.goal = goal
    context = {
        "goal": goal,
        "perms_goal": perms,
        "period": period,
        "summary": summary,
        "panel": review_panel(goal, summary, perms),
        "problem": problem,
        "conflict": conflict,
        "comment_errors": comment_errors,
        "typed_comment": typed,
        "typed_action": str(typed_action),
    }
    return render(request, "milestones/update_review.html", context, status=status)
