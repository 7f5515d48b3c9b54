"""The sign-in gate: a password is not enough for an account with a second factor, and
administrators must have one (``MFA_REQUIRED_FOR_ADMINS``).

Placed after django-otp's ``OTPMiddleware`` (which says whether the session has given a
code). A session signed in with a password whose user has an authenticator reaches
nothing but the code page, sign-out and the language switch until a code is accepted; an
administrator with none reaches only the set-up on their account page. A page asked for
is redirected; a form post or an htmx request is refused (403) with the reason.

Sessions signed in through single sign-on (``session["sso_issuer"]``) are let through:
the identity provider asked for the second factor. Requests authenticated by a personal
access token are not signed in here (the API authenticates them in the view), so the
gate does not apply to them.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY

from accounts import mfa
from integrations.api.errors import PROBLEM_CONTENT_TYPE, problem

# URL names every signed-in session reaches, whatever its second factor says.
# Single sign-on's own pages start and finish a new sign-in, which replaces this one.
ALWAYS_OPEN = frozenset(
    {"login", "logout", "mfa_verify", "set_language", "healthz", "sso_start", "sso_callback"}
)
# ... and those an administrator without a second factor reaches to set one up.
SET_UP = frozenset({"account", "mfa_start", "mfa_confirm", "mfa_recovery_codes"})


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or request.session.get("sso_issuer"):
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if name in ALWAYS_OPEN:
            return None
        facts = request.session.get(mfa.GATE_SESSION_KEY)
        if not isinstance(facts, dict) or facts.get("user") != user.pk:
            facts = mfa.remember_gate(request)
        if facts.get("device"):
            if request.session.get(DEVICE_ID_SESSION_KEY) and user.is_verified():
                return None
            return self._ask_for_code(request)
        if mfa.set_up_required(request) and name not in SET_UP:
            return self._ask_for_set_up(request)
        return None

    @staticmethod
    def _is_page_visit(request) -> bool:
        return request.method in ("GET", "HEAD") and not request.headers.get("HX-Request")

    @staticmethod
    def _api_refusal(request, detail):
        """The read API answers as it always does, with a problem document, not a page."""
        if not request.path.startswith("/api/"):
            return None
        return JsonResponse(problem(403, detail), status=403, content_type=PROBLEM_CONTENT_TYPE)

    def _ask_for_code(self, request):
        refusal = self._api_refusal(
            request,
            _("Enter the code from your authenticator app first: this sign-in is not finished."),
        )
        if refusal is not None:
            return refusal
        if not self._is_page_visit(request):
            raise PermissionDenied(
                _(
                    "Enter the code from your authenticator app first: this sign-in is "
                    "not finished. Nothing was changed."
                )
            )
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('mfa_verify')}?{query}")

    def _ask_for_set_up(self, request):
        reason = _(
            "Administrators must use a second factor. Add an authenticator app on your "
            "account page before you continue."
        )
        refusal = self._api_refusal(request, reason)
        if refusal is not None:
            return refusal
        if not self._is_page_visit(request):
            raise PermissionDenied(reason)
        messages.warning(request, reason)
        return redirect(f"{reverse('account')}#mfa")
