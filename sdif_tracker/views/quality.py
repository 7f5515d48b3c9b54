"""The Quality report: the quality check's findings across every goal the reader may
see, filtered, with counts per rule, and the same rows as CSV
(``sdif_tracker.pages.quality``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from milestones.quality import Rule
from sdif_tracker import access
from sdif_tracker.pages import quality


def _allowed(request) -> None:
    if not access.can_see_quality_report(request.user):
        raise PermissionDenied(_("The quality report covers the goals you may see: you see none."))


@require_safe
@login_required
def quality_report(request):
    """Every finding of the quality check on the goals the reader may see; 403 for a
    reader who sees no goal."""
    _allowed(request)
    report = quality.quality_report(request.user, request.GET)
    context = {
        "report": report,
        "page_obj": report.page_obj,
        "rules": Rule,
        "export_url": reverse("quality_export"),
    }
    return render(request, "quality/quality_report.html", context)


@require_safe
@login_required
def quality_export(request):
    """The report's filtered rows, every one (not a page), as CSV in English."""
    _allowed(request)
    with translation.override("en"):
        report = quality.quality_report(request.user, request.GET, paginate=False)
        if report.form.problems:
            text = "\n".join([_("Nothing was exported:"), *map(str, report.form.problems)])
            return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
        lines = list(quality.csv_lines(report, request.build_absolute_uri("/")[:-1]))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quality-report-{stamp}.csv"'
    return response
