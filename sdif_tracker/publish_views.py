"""Publishing the quarterly update and what comes out of the plan: what the plan page
shows (``plan_context``; with ``?quarter=Q3+FY19`` the published plan of a quarter), its PDF,
the milestone exports (CSV, XLSX), the YAML plan for admins, and key indicators.

Parse → fetch through ``access`` → call ``publishing``/``exports``/``indicators`` →
render, redirect or send the file.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from milestones.plan_yaml import export_plan
from sdif_tracker import access, asof, charts, dashboard, exports, indicators, publishing
from sdif_tracker.asof_views import READ_ONLY, requested_moment
from strategies.models import Goal, Indicator
from strategies.periods import FiscalPeriod

# -- the published plan page: what views.goal_plan and its PDF show -----------------------


def plan_context(request, goal: Goal) -> dict:
    """The plan page's context: the current plan; with ``?quarter=`` a published quarter
    as it was published; with ``?as_of=`` (signed-in users) the plan as it stood then."""
    context = {"goal": goal, "perms_goal": access.permissions_for(request.user, goal)}
    moment = None
    if request.GET.get("as_of"):
        if request.user.is_authenticated:
            moment = requested_moment(request)
        else:
            messages.info(request, _("Sign in to see the plan as it stood earlier."))
    published = quarter_context(request, goal) if moment is None else None
    if published is not None:
        context.update(published)
    elif moment is None:
        context["plan"] = dashboard.published_plan(goal)
    else:
        past = asof.plan_as_of(goal, moment, with_progress=True, with_indicators=True)
        context.update(as_of=moment, perms_goal=READ_ONLY, existed=past.existed)
        if past.existed:
            context.update(goal=past.goal, plan=dashboard.published_plan_as_of(past))
    context.update(plan_extras(request, goal, context))
    return context


def quarter_url(goal: Goal, period: FiscalPeriod) -> str:
    return f"{goal.get_plan_url()}?{urlencode({'quarter': str(period)})}"


def quarter_context(request, goal: Goal) -> dict | None:
    """For ``?quarter=``: the plan of that published quarter as it stood when it was
    published. None (with a message saying why) when the parameter is absent, not
    understood or names a quarter not published, so the page shows the current plan."""
    text = request.GET.get("quarter", "").strip()
    if not text:
        return None
    try:
        period = FiscalPeriod.parse(text)
    except ValueError as error:
        messages.warning(request, _("%(problem)s Showing the current plan.") % {"problem": error})
        return None
    summary = publishing.published_summary(goal, period) if period.is_quarter else None
    if summary is None:
        messages.warning(
            request,
            _("No update has been published for %(period)s. Showing the current plan.")
            % {"period": period},
        )
        return None
    frozen = publishing.quarter_plan(goal, summary)
    if frozen.plan.goal is None:
        return None
    return {
        "goal": frozen.plan.goal,
        "plan": frozen.plan,
        "published": frozen.summary,
        "published_label": publishing.published_label(frozen.summary),
        # A published quarter is read-only for everyone.
        "perms_goal": access.GoalPermissions(
            update_milestones=False, write_summary=False, edit_plan=False
        ),
    }


def attach_charts(indicator_list) -> None:
    """Give each indicator its SVG chart (``chart_svg``), from its ``period_values``."""
    for indicator in indicator_list:
        svg = charts.indicator_svg(
            indicator, indicator.period_values, element_id=f"indicator-chart-{indicator.pk}"
        )
        # ElementTree escaped every text node and attribute of the chart (names, units,
        # periods): the markup is built here, not taken from user input.
        indicator.chart_svg = mark_safe(svg)  # noqa: S308


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
    if plan is not None:
        extras["data_update"] = publishing.data_statement_source(plan.progress)
        attach_charts(plan.indicators)
    return extras


@require_POST
@login_required
def publish(request, slug):
    """Publish the goal's update for the posted quarter, freezing it."""
    goal = access.get_goal_for_user(request.user, slug, need=access.WRITE_SUMMARY)
    text = request.POST.get("period", "")
    try:
        period = FiscalPeriod.parse(text) if text.strip() else None
        summary = publishing.publish_quarter(goal=goal, user=request.user, period=period)
    except ValueError as error:
        messages.error(request, _("Nothing was published: %(problem)s") % {"problem": error})
    except ValidationError as error:
        messages.error(
            request,
            _("Nothing was published: %(problem)s") % {"problem": " ".join(error.messages)},
        )
    else:
        messages.success(
            request,
            _("Published the %(period)s update. Its plan is frozen at this link.")
            % {"period": summary.period},
        )
        return redirect(quarter_url(goal, summary.period))
    return redirect(goal.get_plan_url() + "#publishing")


# A published quarter's PDF never changes, so it is rendered once and kept: a burst of
# downloads (anyone may download a public goal's) costs one rendering, not one a request
# (one per process with the default local-memory cache, one in all with CACHE_URL).
# A day bounds how long a changed layout takes to reach the cached copies after a deploy.
PUBLISHED_PDF_SECONDS = 24 * 60 * 60


def _published_pdf_key(request, goal: Goal) -> str | None:
    """The cache key of the PDF asked for when it is a published quarter's (by goal,
    publication, language and paper); None for the current plan or one as of a date,
    which are rendered on each request so that they show the latest edits."""
    text = request.GET.get("quarter", "").strip()
    if not text or request.GET.get("as_of", "").strip():
        return None
    try:
        period = FiscalPeriod.parse(text)
    except ValueError:
        return None
    summary = publishing.published_summary(goal, period) if period.is_quarter else None
    if summary is None:
        return None
    return ":".join(
        [
            "plan-pdf",
            str(goal.pk),
            str(summary.pk),
            summary.published_at.isoformat(),
            get_language(),
            settings.PDF_PAGE_SIZE,
        ]
    )


def render_plan_pdf(request, goal: Goal) -> bytes:
    """The plan page's plan (``plan_context``) through the print template: no site
    navigation, no user, no forms; whoever downloads it gets the same document."""
    context = plan_context(request, goal)
    context.update(
        perms_goal=READ_ONLY,
        edition=publishing.edition_label(
            published=context.get("published"), as_of=context.get("as_of")
        ),
    )
    html = render_to_string("strategies/goal_plan_print.html", context)
    return exports.html_to_pdf(html, base_url=request.build_absolute_uri("/"))


@require_safe
def plan_pdf(request, slug):
    """The plan page (with ``?quarter=`` or ``?as_of=`` as given) as a tagged PDF."""
    support = exports.pdf_support()
    if not support.available:
        return HttpResponse(
            _(
                "PDF download is not available on this server (WeasyPrint cannot be loaded: "
                "%(problem)s). Open the plan page and use your browser's Print instead."
            )
            % {"problem": support.problem},
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    try:
        goal = access.get_goal_for_plan(request.user, slug)
    except access.LoginRequired:
        return redirect_to_login(request.get_full_path())
    key = _published_pdf_key(request, goal)
    pdf = cache.get(key) if key else None
    if pdf is None:
        pdf = render_plan_pdf(request, goal)
        if key:
            cache.set(key, pdf, PUBLISHED_PDF_SECONDS)
    quarter = request.GET.get("quarter", "").strip()
    name = slugify(f"{slug} plan {quarter}".strip()) or "plan"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


# -- exports -----------------------------------------------------------------------------


def _download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stamp() -> str:
    return timezone.localdate().isoformat()


@require_safe
@login_required
def goal_milestones_export(request, slug, fmt):
    """The goal's Key Milestones table as CSV or XLSX."""
    goal = access.get_goal_for_user(request.user, slug)
    rows = exports.milestone_rows([goal])
    name = f"{goal.slug}-milestones-{_stamp()}"
    if fmt == "xlsx":
        content = exports.as_xlsx(rows, sheet_title=goal.short_name or goal.slug)
        return _download(content, filename=f"{name}.xlsx", content_type=XLSX)
    return _download(
        exports.as_csv(rows), filename=f"{name}.csv", content_type="text/csv; charset=utf-8"
    )


@require_safe
@login_required
def all_milestones_export(request, fmt):
    """The milestones of every goal the user may see, goal by goal, as CSV or XLSX."""
    goals = list(Goal.objects.visible_to(request.user).order_by("title", "pk"))
    rows = exports.milestone_rows(goals)
    name = f"milestones-{_stamp()}"
    if fmt == "xlsx":
        content = exports.as_xlsx(rows, sheet_title=_("Key milestones"))
        return _download(content, filename=f"{name}.xlsx", content_type=XLSX)
    return _download(
        exports.as_csv(rows), filename=f"{name}.csv", content_type="text/csv; charset=utf-8"
    )


@require_safe
@login_required
def plan_yaml(request, slug):
    """The goal's plan in the interchange format (admins), as ``manage.py export_plan``."""
    goal = access.get_goal_for_user(request.user, slug, need=access.EDIT_PLAN)
    return _download(
        export_plan(goal).encode(),
        filename=f"{goal.slug}-plan.yaml",
        content_type="application/yaml; charset=utf-8",
    )


# -- key indicators (admins) -------------------------------------------------------------

FORM_METHODS = ["GET", "HEAD", "POST"]


@require_http_methods(FORM_METHODS)
@login_required
def indicator_list(request, slug):
    """The goal's key indicators with their charts, and a form to define another."""
    goal = access.get_goal_for_user(request.user, slug, need=access.EDIT_PLAN)
    form = indicators.IndicatorForm()
    status = 200
    if request.method == "POST":
        form = indicators.IndicatorForm(request.POST)
        if form.is_valid():
            try:
                indicator = indicators.save_indicator(
                    goal=goal, user=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                indicators.add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Added the indicator “%(name)s”. Now enter its targets and actuals.")
                    % {"name": indicator.name},
                )
                return redirect("indicator_edit", slug=goal.slug, pk=indicator.pk)
        status = 400
    items = indicators.goal_indicators(goal)
    attach_charts(items)
    return render(
        request,
        "strategies/indicator_list.html",
        {"goal": goal, "indicators": items, "form": form},
        status=status,
    )


@require_http_methods(FORM_METHODS)
@login_required
def indicator_edit(request, slug, pk):
    """An indicator's name, unit and direction, and its target and actual per period."""
    goal = access.get_goal_for_user(request.user, slug, need=access.EDIT_PLAN)
    indicator = get_object_or_404(Indicator, goal=goal, pk=pk)
    indicator.goal = goal
    if request.method == "POST":
        form = indicators.IndicatorForm(request.POST)
        formset = indicators.value_formset(indicator, request.POST)
        if form.is_valid() and formset.is_valid():
            try:
                indicators.save_indicator(
                    goal=goal,
                    user=request.user,
                    indicator=indicator,
                    rows=indicators.rows_of(formset),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                indicators.add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Saved the indicator “%(name)s”.") % {"name": indicator.name}
                )
                return redirect(reverse("indicator_list", kwargs={"slug": goal.slug}))
        status = 400
    else:
        form = indicators.IndicatorForm(
            initial={
                "name": indicator.name,
                "unit": indicator.unit,
                "direction": indicator.direction,
            }
        )
        formset = indicators.value_formset(indicator)
        status = 200
    return render(
        request,
        "strategies/indicator_form.html",
        {"goal": goal, "indicator": indicator, "form": form, "formset": formset},
        status=status,
    )
