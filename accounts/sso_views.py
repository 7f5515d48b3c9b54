"""Sign-in and sign-out pages: the login page (password and single sign-on), the start of
single sign-on and the provider's callback, sign-out (at the provider too, where it
offers RP-initiated logout), and the Django admin's own login when passwords are off."""

from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import admin, auth, messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts import events, sso
from accounts.sso_backend import SSOBackend, oidc_setting

BACKEND_PATH = f"{SSOBackend.__module__}.{SSOBackend.__qualname__}"


def _refused(request, refusal: sso.SSORefused):
    """Back to the login page with the refusal's message; its reason in the security log."""
    if refusal.logged:
        events.record(events.Kind.SSO_REFUSED, request=request, detail=refusal.reason)
    messages.error(request, refusal.message)
    return redirect("login")


class LoginView(auth_views.LoginView):
    """Django's login page, with the single sign-on button when a provider is set up, and
    without the password form when LOCAL_PASSWORD_LOGIN is off."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["local_password_login"] = settings.LOCAL_PASSWORD_LOGIN
        if sso.is_enabled():
            next_url = context.get("next") or ""
            query = f"?{urlencode({'next': next_url})}" if next_url else ""
            context["sso"] = {"name": sso.provider_name(), "url": reverse("sso_start") + query}
        return context

    def post(self, request, *args, **kwargs):
        if settings.LOCAL_PASSWORD_LOGIN:
            return super().post(request, *args, **kwargs)
        # Nothing posted is read: no password is checked, no attempt is counted.
        messages.error(
            request,
            _("Signing in with a password is turned off here. Use %(provider)s instead.")
            % {"provider": sso.provider_name()},
        )
        response = self.get(request, *args, **kwargs)
        response.status_code = 403
        return response


def admin_login(request):
    """The Django admin's login: the app's own login page when passwords are off."""
    if not settings.LOCAL_PASSWORD_LOGIN:
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
    return admin.site.login(request)


class SSOStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider: state, nonce, PKCE challenge and acr_values as
    mozilla-django-oidc builds them, the endpoint from discovery."""

    http_method_names = ["get", "head"]
    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        # The library's reads the endpoint here; it is looked up at request time instead.
        View.__init__(self, **kwargs)

    def get(self, request):
        if not sso.is_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso.endpoints().authorization
        except sso.SSORefused as refusal:
            return _refused(request, refusal)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)

    head = get


_CANCELLED = {"access_denied", "login_required", "consent_required", "interaction_required"}
_EXCHANGE_FAILED = (
    requests.RequestException,
    SuspiciousOperation,
    jwt.PyJWTError,
    ValueError,
    KeyError,
)


def _complete(request):
    """The user the provider's answer signs in, or ``SSORefused``."""
    states = request.session.get("oidc_states")
    states = states if isinstance(states, dict) else {}
    # Each state is used once, whatever the answer: a replayed callback finds nothing.
    entry = states.pop(request.GET.get("state", ""), None)
    request.session["oidc_states"] = states
    started_here = isinstance(entry, dict)
    error = request.GET.get("error")
    if error:
        raise sso.SSORefused(
            f"the provider answered error={error[:80]}",
            _("Single sign-on was cancelled. Nothing was changed.")
            if error in _CANCELLED
            else _("The sign-in service refused the sign-in. Please try again."),
            logged=started_here,
        )
    if not started_here or not request.GET.get("code"):
        raise sso.SSORefused(
            "unknown, reused or missing state",
            _("That sign-in link has expired or was already used. Please sign in again."),
            logged=started_here,
        )
    try:
        user = auth.authenticate(
            request=request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
        )
    except _EXCHANGE_FAILED as error:
        raise sso.SSORefused(
            f"code exchange or ID token refused: {type(error).__name__}: {error}"[:500]
        ) from error
    except IntegrityError as error:
        # Two first sign-ins of one account at once: the other one linked it.
        raise sso.SSORefused("first sign-in raced another; try again") from error
    if user is None:
        raise sso.SSORefused("no account matched")
    if not user.is_active:
        raise sso.SSORefused(
            f"account {user.get_username()} is deactivated",
            _("This account is deactivated. Please ask a site administrator."),
        )
    return user


@require_safe
def sso_callback(request):
    """Where the provider sends the browser back: sign the user in, or back to the login
    page with a clear message and nothing created."""
    if not sso.is_enabled():
        raise Http404
    try:
        user = _complete(request)
    except sso.SSORefused as refusal:
        return _refused(request, refusal)
    signed_on = getattr(request, "sso_sign_on", None)
    id_token = request.session.get("oidc_id_token")
    next_url = request.session.get("oidc_login_next")
    auth.login(request, user, backend=BACKEND_PATH)
    # Kept across login(), which empties the session when another user was signed in.
    request.session["oidc_id_token"] = id_token
    # The contract with the second-factor gate: the provider did the second factor.
    request.session["sso_issuer"] = settings.OIDC_ISSUER
    sso.remember_logout_origin(request.session)
    if signed_on is not None and signed_on.created:
        events.record(
            events.Kind.SSO_ACCOUNT_CREATED,
            user=user,
            request=request,
            detail=settings.OIDC_ISSUER,
        )
    linked = signed_on is not None and signed_on.linked
    events.record(
        events.Kind.SIGNED_IN_SSO,
        user=user,
        request=request,
        detail=settings.OIDC_ISSUER + (" (linked by verified email)" if linked else ""),
    )
    return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _end_session_url(request) -> str:
    """The provider's RP-initiated logout for this session, or "" (a password session,
    or a provider without an end_session_endpoint)."""
    id_token = request.session.get("oidc_id_token")
    if not (sso.is_enabled() and id_token and request.session.get("sso_issuer")):
        return ""
    if request.session["sso_issuer"] != settings.OIDC_ISSUER:
        return ""
    try:
        endpoint = sso.endpoints().end_session
    except sso.SSORefused:
        return ""
    if not endpoint:
        return ""
    params = {
        "client_id": settings.OIDC_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    if settings.OIDC_LOGOUT_ID_TOKEN_HINT:
        params["id_token_hint"] = id_token
    query = urlencode(params)
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


class LogoutView(auth_views.LogoutView):
    """Django's sign-out (POST only), then the provider's where there is one."""

    def post(self, request, *args, **kwargs):
        end_session = _end_session_url(request)
        if request.user.is_authenticated:
            events.record(events.Kind.SIGNED_OUT, request=request)
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(end_session) if end_session else response
