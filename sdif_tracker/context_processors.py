"""Template context every page shares: what the navigation offers this user."""

from functools import partial

from sdif_tracker.access import can_see_audit_log


def nav(request):
    """``can_see_audit_log``: evaluated only when a template asks (the nav does), free
    for anonymous users and admins, one query otherwise (cached for the request)."""
    return {"can_see_audit_log": partial(can_see_audit_log, getattr(request, "user", None))}
