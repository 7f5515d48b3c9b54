"""Template context every page shares: what the navigation offers this user."""

from functools import partial

from sdif_tracker.access import (
    can_see_audit_log,
    can_see_clearance,
    can_see_quality_report,
    visible_goals,
)


def nav(request):
    """``can_see_audit_log``: evaluated only when a template asks (the nav does), free
    for anonymous users and admins, one query otherwise (cached for the request).
    ``visible_goals``: the goals this user may see, for links between goals (the
    continuation links of the goal header) — a query only when a template asks."""
    user = getattr(request, "user", None)
    return {
        "can_see_audit_log": partial(can_see_audit_log, user),
        # The Clearance page's link: from the roles `access` caches for the request.
        "can_see_clearance": partial(can_see_clearance, user),
        # The Quality report's link: after the audit log's, the same cached roles; one
        # query only for a user with no membership and no agency role.
        "can_see_quality_report": partial(can_see_quality_report, user),
        "visible_goals": partial(visible_goals, user),
    }
