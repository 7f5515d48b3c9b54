"""History pages: a timeline per object and the audit log, read-only.

Timelines are open to anyone who may see the goal (``access.get_goal_for_user``); an
object is looked up in its history table, scoped to the goal, so a deleted object's
timeline stays readable and an id of another goal is 404. The audit log is for
reviewers and administrators (see ``sdif_tracker.pages.audit``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from audit.diffs import describe_versions
from audit.history import history_of
from milestones.models import Milestone, ProgressSummary
from sdif_tracker import access
from sdif_tracker.pages import audit, audit_csv, audit_filters
from strategies.models import Goal, Indicator, Strategy

TIMELINE_PAGE_SIZE = 25


@dataclass(frozen=True)
class TimelineKind:
    model: type
    label: str
    scoped_by_goal_column: bool = True  # False: the goal's own history

    @property
    def history_model(self):
        return history_of(self.model).model


TIMELINES = {
    "goal": TimelineKind(
        Goal, audit_filters.KIND_BY_KEY["goal"].label, scoped_by_goal_column=False
    ),
    "strategy": TimelineKind(Strategy, audit_filters.KIND_BY_KEY["strategy"].label),
    "milestone": TimelineKind(Milestone, audit_filters.KIND_BY_KEY["milestone"].label),
    "progress": TimelineKind(ProgressSummary, audit_filters.KIND_BY_KEY["progress_summary"].label),
    "indicator": TimelineKind(Indicator, audit_filters.KIND_BY_KEY["indicator"].label),
}


def _current_url(kind: str, obj, goal: Goal) -> str:
    """Where the object lives now (it exists: the caller checked)."""
    if kind == "goal":
        return goal.get_absolute_url()
    return obj.get_absolute_url()


REVERTIBLE = {
    "goal": "goal_revert",
    "strategy": "strategy_revert",
    "milestone": "milestone_revert",
}


@require_safe
@login_required
def timeline(request, slug, kind, pk=None):
    """Every version of one object, newest first, 25 a page, keyset-paged by
    (history_date, history_id) with ``?before=<time>,<history id>``."""
    goal = access.get_goal_for_user(request.user, slug)
    spec = TIMELINES[kind]
    versions = spec.history_model.objects.order_by("-history_date", "-history_id")
    if spec.scoped_by_goal_column:
        versions = versions.filter(id=pk, goal_id=goal.pk)
    else:
        versions = versions.filter(id=goal.pk)

    latest = versions.first()
    if latest is None:
        raise Http404("No such object in this goal.")
    current = latest.instance
    if kind != "goal":
        # Rebuilt from its history row, perhaps deleted since, so there is no manager to
        # fetch it through; its URL and name follow ``goal`` (the slug): no query.
        current.goal = goal

    cursor = _cursor(request, "before", 1)
    page = versions
    if cursor is not None:
        when, history_id = cursor
        page = page.filter(
            Q(history_date__lt=when) | Q(history_date=when, history_id__lt=history_id)
        )
    # One row past the page: the last entry shown is diffed against it.
    records = list(page[: TIMELINE_PAGE_SIZE + 1])
    entries = describe_versions(records, spec.model)[:TIMELINE_PAGE_SIZE]
    older = ""
    if len(records) > TIMELINE_PAGE_SIZE:
        last = records[TIMELINE_PAGE_SIZE - 1]
        older = audit_filters.format_cursor(last.history_date, last.history_id)

    deleted = latest.history_type == "-"
    # Those who edit the plan (site and agency administrators) may restore an earlier
    # version (a new, recorded change) of these kinds.
    revert_name = REVERTIBLE.get(kind)
    if revert_name and not deleted and access.permissions_for(request.user, goal).edit_plan:
        for entry in entries:
            record = entry.record
            if record.history_id != latest.history_id and record.history_type != "-":
                kwargs = {"slug": goal.slug, "history_id": record.history_id}
                if kind != "goal":
                    kwargs["pk"] = pk
                entry.revert_url = reverse(revert_name, kwargs=kwargs)
    context = {
        "goal": goal,
        "kind": kind,
        "kind_label": spec.label,
        "object_name": str(current),
        "object_url": "" if deleted else _current_url(kind, current, goal),
        "deleted": deleted,
        "entries": entries,
        "show_origin": access.can_see_change_origin(request.user, goal),
        "older_cursor": older,
        "is_first_page": cursor is None,
    }
    return render(request, "history/timeline.html", context)


def _cursor(request, name: str, parts: int) -> tuple | None:
    """The page cursor ``?<name>=``; a damaged or impossible one shows the first page
    and says so."""
    text = request.GET.get(name, "")
    cursor = audit_filters.parse_cursor(text, parts)
    if text and cursor is None:
        messages.warning(request, _("That page link was not understood; showing the first page."))
    return cursor


def _audit_query(request):
    if not access.can_see_audit_log(request.user):
        raise PermissionDenied
    return audit.audit_query_for(request.user, request.GET)


@require_safe
@login_required
def audit_log(request):
    """Every change across the goals the reader may see; 403 unless a reviewer/admin."""
    query, goals = _audit_query(request)
    cursor_param = "after" if query.filters.oldest_first else "before"
    cursor = _cursor(request, cursor_param, 2)
    rows, next_cursor = query.page(cursor)
    context = {
        "rows": audit.label_rows(rows, goals),
        "goals": goals,
        "filters": query.filters,
        "kinds": audit.KINDS if access.sees_every_change(request.user) else audit.KINDS[1:],
        "field_choices": audit_filters.field_options(),
        "show_origin": access.can_see_change_origin(request.user),
        "next_cursor": next_cursor,
        "cursor_param": cursor_param,
        "is_first_page": cursor is None,
        "export_url": reverse("audit_export"),
        # Sign-in and second-factor events are in their own log (accounts/views.py).
        "security_log_url": (
            reverse("security_log") if access.can_see_security_log(request.user) else None
        ),
    }
    return render(request, "history/audit_log.html", context)


@require_safe
@login_required
def audit_export(request):
    """The filtered audit log as CSV, streamed (cells neutralised against formulas)."""
    query, goals = _audit_query(request)
    if query.filters.problems:
        # Refused before the first byte: a stream cannot turn into an error halfway.
        text = "\n".join([_("Nothing was exported:"), *map(str, query.filters.problems)])
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        audit_csv.csv_lines(query, goals, with_origin=access.can_see_change_origin(request.user)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
