"""Publishing the quarterly update and what comes out of the plan: what the plan page
shows (``plan_context``; with ``?quarter=Q3+FY19`` the published plan of a quarter), its PDF,
the milestone exports (CSV, XLSX) and the YAML plan for admins (key indicators are in
``views/indicators.py``).

Parse → fetch through ``access`` → call ``publishing``/``exports`` →
render, redirect or send the file.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from milestones import services as milestone_services
from milestones.plan_yaml import export_plan
from milestones.quarters import reporting_quarter
from sdif_tracker import access, exports, tasks
from sdif_tracker.pages import indicators, publishing
from sdif_tracker.pages.plan_page import quarter_url
from sdif_tracker.plan_pdf import published_pdf, published_summary_asked, render_plan_pdf
from strategies import services as plan_services
from strategies.models import Goal
from strategies.periods import FiscalPeriod

FORM_METHODS = ["GET", "HEAD", "POST"]


def _asked_period(goal: Goal, text: str) -> FiscalPeriod:
    """The quarter asked for (``?period=``), or the one being reported on when none is;
    ``ValueError`` for text that is not a fiscal period."""
    return FiscalPeriod.parse(text) if text.strip() else reporting_quarter(goal)


def _posted_int(request, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise ValidationError(
            _("Open the confirmation page from the plan and publish from there."),
            code="not_confirmed",
        ) from None


# The moment the confirmation page was shown travels signed: a hand-made POST cannot claim
# a later one and so skip the check that nothing changed since.
SEEN_SALT = "sdif_tracker.publish.seen"


def _posted_moment(request):
    """When the confirmation page the POST comes from was shown."""
    try:
        text = signing.loads(request.POST.get("seen", ""), salt=SEEN_SALT)
        seen = datetime.datetime.fromisoformat(text)
        seen = seen.astimezone(datetime.UTC) if timezone.is_aware(seen) else None
    except (signing.BadSignature, TypeError, ValueError, OverflowError):
        seen = None
    if seen is None:
        raise ValidationError(
            _("Open the confirmation page from the plan and publish from there."),
            code="not_confirmed",
        )
    return seen


def _publish_from_confirmation(request, goal: Goal, period: FiscalPeriod | None):
    """Publish what the confirmation page showed: the update at the version it showed,
    the plan as it stood then; else ``ValidationError``, ``StaleEditError`` or
    ``PlanChanged``, nothing written."""
    if period is not None and period.is_quarter:
        version = _posted_int(request, "version")
        changed = publishing.changed_since_preview(goal, period, _posted_moment(request))
        if changed:
            raise PlanChanged(changed)
    else:  # the service refuses it, in its own words
        version = None
    return milestone_services.publish_quarter(
        goal=goal, user=request.user, period=period, expected_version=version
    )


class PlanChanged(Exception):
    """The plan as reported for the quarter changed after its preview was shown."""

    def __init__(self, corrections):
        super().__init__("The plan changed since the preview.")
        self.corrections = corrections


@require_http_methods(FORM_METHODS)
@login_required
def publish(request, slug):
    """GET: what publishing the quarter (``?period=``, default the one being reported on)
    freezes — its update and the plan with each milestone's status — and the button.
    POST (from that page): publish it, unless it changed since the page was shown."""
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.WRITE_SUMMARY)
    status, refused = 200, ""
    try:
        if request.method == "POST":
            text = request.POST.get("period", "")
            period = FiscalPeriod.parse(text) if text.strip() else None
        else:
            period = _asked_period(goal, request.GET.get("period", ""))
    except ValueError as error:
        return _render_publish_confirm(request, goal, None, problem=str(error), status=400)
    if request.method == "POST":
        try:
            summary = _publish_from_confirmation(request, goal, period)
        except ValidationError as error:
            status, refused = 400, " ".join(error.messages)
        except plan_services.StaleEditError:
            messages.warning(
                request,
                _(
                    "Nothing was published: the %(period)s update was saved again while you "
                    "were reviewing it. Check what will be published, then publish again."
                )
                % {"period": period},
            )
            status = 409
        except PlanChanged:
            messages.warning(
                request,
                _(
                    "Nothing was published: key milestones changed for %(period)s while you "
                    "were reviewing them. Check what will be published, then publish again."
                )
                % {"period": period},
            )
            status = 409
        else:
            tasks.store_published_pdfs_on_commit(summary)
            messages.success(
                request,
                _("Published the %(period)s update. Its plan is frozen at this link.")
                % {"period": summary.period},
            )
            return redirect(quarter_url(goal, summary.period))
    return _render_publish_confirm(request, goal, period, refused=refused, status=status)


def _render_publish_confirm(request, goal, period, *, problem="", refused="", status=200):
    """The confirmation page: what publishing ``period`` freezes, or why it cannot be
    published (``problem``, or the service's ``publish_refusal``); ``refused``: why the
    POST just made published nothing, when the page does not already say it."""
    summary = preview = None
    if not problem:
        summary = publishing.quarter_update(goal, period) if period is not None else None
        refusal = milestone_services.publish_refusal(goal, period, summary)
        problem = " ".join(refusal.messages) if refusal is not None else ""
    if refused and refused != problem:
        messages.error(request, _("Nothing was published: %(problem)s") % {"problem": refused})
    seen = timezone.now()
    if not problem:
        preview = publishing.publication_preview(goal, period, at=seen)
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "period": period,
        "summary": summary,
        "preview": preview,
        "status_counts": publishing.status_counts(preview.rows) if preview else [],
        "data_update": publishing.data_statement_source(preview.progress) if preview else None,
        "indicator_sources": indicators.published_sources(preview.indicators) if preview else [],
        "problem": problem,
        "posted": request.method == "POST",
        "seen": signing.dumps(seen.isoformat(), salt=SEEN_SALT),
        "back_url": goal.get_plan_url() + "#publishing",
    }
    return render(request, "strategies/publish_confirm.html", context, status=status)


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
    summary = published_summary_asked(request, goal)
    if summary is not None:
        # The same document for everyone: stored once, by the worker or the first reader.
        pdf, _rendered = published_pdf(goal, summary, language=get_language())
    else:
        pdf = render_plan_pdf(request, goal)
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
    goals = list(access.visible_goals(request.user).order_by("title", "pk"))
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
    goal = access.get_goal_for_user(request.user, slug, need=access.Need.EXPORT_PLAN)
    return _download(
        export_plan(goal).encode(),
        filename=f"{goal.slug}-plan.yaml",
        content_type="application/yaml; charset=utf-8",
    )
