"""The Clearance page: what waits for the signed-in user in the review chain of the
quarterly updates (sdif_tracker/pages/clearance.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from sdif_tracker.pages.clearance import clearance_page


@require_safe
@login_required
def clearance(request):
    """Updates waiting for the user, by role, filtered by agency and state; anyone signed
    in may open it (with no review role, nothing waits for them)."""
    page = clearance_page(request.user, request.GET)
    return render(request, "milestones/clearance.html", {"page": page})
