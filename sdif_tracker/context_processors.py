"""Template context every page shares: what the navigation offers this user."""

from functools import partial

from sdif_tracker.access import can_see_audit_log, visible_goals


def nav(request):
    """``can_see_audit_log``: evaluated only when a template asks (the nav does), free
    for anonymous users and admins, one query otherwise (cached for the request).
    ``visible_goals``: the goals this user may see, for links between goals (the
    continuation links of the goal header) — a query only when a template asks."""
    user = getattr(request, "user", None)
    return {
        "can_see_audit_log": partial(can_see_audit_log, user),
        "visible_goals": partial(visible_goals, user),
    }
