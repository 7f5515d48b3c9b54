"""What the plan page shows, built once for the HTML page, a published quarter and the PDF:
the current plan; with ``?quarter=`` a published quarter as it was published (with its
later corrections), or an unpublished one as reported for so far; with ``?as_of=`` the
plan as recorded on a date; and what surrounds it (published quarters, drafts,
exports, the data statement, indicator charts)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from milestones import review
from sdif_tracker import access, exports
from sdif_tracker.pages import asof, charts, indicators, plan, publishing
from sdif_tracker.pages.asof import requested_view
from strategies.models import Goal, Indicator
from strategies.periods import FiscalPeriod


def plan_context(request, goal: Goal, *, document: bool = False) -> dict:
    """The plan page's context: the current plan; with ``?quarter=`` a published quarter
    as it was published (and what was corrected for it since), or, for signed-in users,
    an unpublished quarter as reported for so far; with ``?as_of=`` (signed-in users) the
    plan as recorded on that date. ``document``: for the PDF, which shows what anyone
    downloading it may read (published indicators only)."""
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "document": document,
    }
    view = None
    if request.GET.get("quarter", "").strip():
        published = quarter_context(request, goal)
        if published is not None:
            context.update(published)
        elif request.user.is_authenticated:
            view = requested_view(request, goal)
    elif request.GET.get("as_of"):
        if request.user.is_authenticated:
            view = requested_view(request, goal)
        else:
            messages.info(request, _("Sign in to see the plan as it stood earlier."))
    if view is not None:
        past = asof.plan_as_of(goal, view, with_progress=True, with_indicators=True)
        context.update(as_of=view, perms_goal=access.READ_ONLY, existed=past.existed)
        if past.existed:
            context.update(goal=past.goal, plan=plan.published_plan_as_of(past))
    elif "plan" not in context:
        context["plan"] = plan.published_plan(goal)
    context.update(plan_extras(request, goal, context))
    return context


def quarter_url(goal: Goal, period: FiscalPeriod) -> str:
    return f"{goal.get_plan_url()}?{urlencode({'quarter': str(period)})}"


def quarter_context(request, goal: Goal) -> dict | None:
    """For ``?quarter=`` naming a published quarter: its plan as it stood when it was
    published, which stays the authority, and the corrections recorded for it since.
    None when the quarter is not published (anonymous visitors are told so; signed-in
    users see it as reported for) or not understood (with a message)."""
    text = request.GET.get("quarter", "").strip()
    try:
        period = FiscalPeriod.parse(text)
    except ValueError as error:
        messages.warning(request, _("%(problem)s Showing the current plan.") % {"problem": error})
        return None
    summary = publishing.published_summary(goal, period) if period.is_quarter else None
    if summary is None:
        if not request.user.is_authenticated:
            messages.warning(
                request,
                _("No update has been published for %(period)s. Showing the current plan.")
                % {"period": period},
            )
        return None
    frozen = publishing.quarter_plan(goal, summary, with_corrections=True)
    if frozen.plan is None:
        messages.warning(
            request,
            _(
                "Nothing of the goal belonged to %(period)s when it was published. Showing the "
                "current plan."
            )
            % {"period": period},
        )
        return None
    return {
        "goal": frozen.plan.goal,
        "plan": frozen.plan,
        "published": frozen.summary,
        "published_label": frozen.summary.published_label,
        "corrections": frozen.corrections,
        "last_correction": frozen.last_correction,
        # A published quarter is read-only for everyone.
        "perms_goal": access.GoalPermissions(
            update_milestones=False, write_summary=False, edit_plan=False
        ),
    }


@dataclass(frozen=True)
class IndicatorChart:
    """An indicator with its SVG chart, as the plan and the indicator list show it."""

    indicator: Indicator
    svg: SafeString


def indicator_charts(indicator_list) -> list[IndicatorChart]:
    """Each indicator with its SVG chart, drawn from its ``period_values``."""
    return [
        IndicatorChart(
            indicator,
            # ElementTree escaped every text node and attribute of the chart (names,
            # units, periods): the markup is built here, not taken from user input.
            mark_safe(  # noqa: S308
                charts.indicator_svg(
                    indicator,
                    indicator.period_values,
                    element_id=f"indicator-chart-{indicator.pk}",
                )
            ),
        )
        for indicator in indicator_list
    ]


def plan_extras(request, goal: Goal, context: dict) -> dict:
    """What the plan page shows around the plan: the published quarters (citable links),
    the drafts a leader may publish, the PDF link (or why there is none), the exports, the
    data accuracy statement and the indicator charts."""
    plan = context.get("plan")
    if context.get("as_of") or context.get("published") or plan is None:
        # Not beside the plan of a past moment, which is about then, not now.
        summaries = [] if context.get("as_of") else publishing.goal_summaries(goal)
    else:
        summaries = plan.progress  # the current plan's updates, already fetched
    extras = {
        "published_quarters": [s for s in summaries if s.is_published],
        "pdf_support": exports.pdf_support(),
        "pdf_query": request.GET.urlencode(),
    }
    if context.get("perms_goal") and context["perms_goal"].write_summary:
        extras["drafts"] = [s for s in summaries if not s.is_published and s.period.is_quarter]
        # Publish is offered for an update that has been through its agency's chain (the
        # rule publishing itself applies); the others link to their review page, which
        # says whose move it is.
        extras["publishable"] = {
            s.pk for s in extras["drafts"] if review.step_refusal(s, goal.agency) is None
        }
    if plan is not None:
        extras["data_update"] = publishing.data_statement_source(plan.progress)
        extras.update(plan_indicators(request, plan.indicators, context))
    return extras


def plan_indicators(request, indicator_list, context: dict) -> dict:
    """The indicators the plan shows, charted, and the sources its data accuracy
    statement names. A published quarter and the PDF (documents anyone who may read them
    gets alike) show published indicators only; the current plan shows a signed-in user
    the internal ones too, marked "Internal". ``has_published_indicators`` False: the
    goal's key indicators note stands in for them (the SDIF seed's "sensitive" note)."""
    with_internal = (
        request.user.is_authenticated and not context.get("published") and not context["document"]
    )
    shown = indicators.shown_indicators(indicator_list, with_internal=with_internal)
    return {
        "indicator_charts": indicator_charts(shown),
        "has_published_indicators": any(i.is_published for i in indicator_list),
        "indicator_sources": indicators.published_sources(indicator_list),
    }
