"""Record a sign-in, second-factor or token event: one inserted row, never changed.

Every such event goes through ``record`` so the security log is complete; the rows are
read by the security log page (site administrators)."""

from accounts.models import SecurityEvent
from audit.client_address import client_address

Kind = SecurityEvent.Kind


def record(kind: str, *, user=None, request=None, username: str = "", detail: str = ""):
    """Insert one event. ``user`` defaults to the request's signed-in user; the username
    is copied so renaming or deleting the user leaves the row as it was."""
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    if user is not None and not username:
        username = user.get_username()
    return SecurityEvent.objects.create(
        user=user,
        username=username[:150],
        kind=kind,
        ip_address=client_address(request) if request is not None else None,
        detail=detail[:500],
    )


SSO_BACKEND = "accounts.sso_backend.SSOBackend"


def record_sign_in(sender, request, user, **kwargs):
    """``user_logged_in``: a sign-in with a password (the app's login page or the admin's)
    is recorded here; one through single sign-on records its own, richer event."""
    from django.contrib.auth import BACKEND_SESSION_KEY

    session = getattr(request, "session", None)
    if session is not None and session.get(BACKEND_SESSION_KEY) == SSO_BACKEND:
        return
    record(Kind.SIGNED_IN, user=user, request=request)
