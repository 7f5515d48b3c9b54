"""The second factor's pages and forms, and the security log.

The sign-in's second step (``verify``); the set-up, recovery codes and removal posted
from the account page (each answers with that page: a redirect on success, the page with
the form's errors and status 400 otherwise); the security log for site administrators.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import account_page, mfa, security_log_page
from accounts.forms import CodeForm, RemoveForm, SetUpForm
from accounts.models import SecurityEvent
from sdif_tracker import access

LOW_RECOVERY_CODES = 3


def _safe_next(request) -> str:
    """Where to go after the code: the ``next`` asked for if it is on this site, else
    the home page. (Sent as it is, never reversed as a URL name.)"""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _account_page(request, *, status: int, **forms):
    """The account page, with the second factor's forms as posted (and their errors)."""
    return account_page.render_page(request, status=status, mfa=forms)


def _back_to_account():
    return redirect(f"{reverse('account')}#mfa")


# -- the sign-in's second step --------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """Ask for the code after a password sign-in; anything else is closed until it is
    given (accounts/middleware.py)."""
    user = request.user
    next_url = _safe_next(request)
    if request.session.get("sso_issuer") or user.is_verified():
        return HttpResponseRedirect(next_url)
    if not mfa.has_second_factor(user):
        # Removed meanwhile (by the user elsewhere, or an administrator): nothing to ask.
        mfa.remember_gate(request, has_device=False)
        return HttpResponseRedirect(next_url)
    status = 200
    if request.method == "POST":
        if mfa.is_locked_out(request, user):
            mfa.mark_locked_out(request, user)  # axes' middleware answers with its page
            return render(request, "account/verify.html", {"form": CodeForm(), "next": next_url})
        form = CodeForm(request.POST)
        wait = mfa.seconds_to_wait(user)
        if form.is_valid() and wait and mfa.normalise_code(form.cleaned_data["code"]).isdigit():
            # Not checked, so not counted as a failure either.
            form.add_wait(wait)
        elif form.is_valid():
            device = mfa.verify_sign_in(request=request, code=form.cleaned_data["code"])
            if device is not None:
                if isinstance(device, StaticDevice):
                    _say_codes_left(request, mfa.recovery_codes_left(user))
                return HttpResponseRedirect(next_url)
            form.add_wrong_code()
        status = 400
    else:
        form = CodeForm()
    return render(request, "account/verify.html", {"form": form, "next": next_url}, status=status)


def _say_codes_left(request, left: int) -> None:
    text = ngettext(
        "You signed in with a recovery code; %(count)d is left.",
        "You signed in with a recovery code; %(count)d are left.",
        left,
    ) % {"count": left}
    if left <= LOW_RECOVERY_CODES:
        text += " " + _("Create new recovery codes on your account page.")
        messages.warning(request, text)
    else:
        messages.info(request, text)


# -- set-up, recovery codes, removal (posted from the account page) --------------------


@login_required
@require_POST
def mfa_start(request):
    """Begin adding an authenticator app: a new secret, shown as a QR code."""
    try:
        mfa.start_authenticator(user=request.user)
    except ValueError:
        return _account_page(
            request, status=400, problem=_("You already have an authenticator app.")
        )
    return _back_to_account()


@login_required
@require_POST
def mfa_confirm(request):
    """Finish adding the app with a code it shows; then the recovery codes, once."""
    form = SetUpForm(request.POST, auto_id="mfa-setup-%s")
    if mfa.pending_authenticator(request.user) is None:
        return _account_page(
            request,
            status=400,
            problem=_("There is no authenticator app being added. Start again."),
        )
    wait = mfa.seconds_to_wait(request.user, pending=True)
    if form.is_valid() and wait:
        form.add_wait(wait)
    elif form.is_valid():
        codes = mfa.confirm_authenticator(request=request, code=form.cleaned_data["code"])
        if codes is not None:
            request.session[mfa.NEW_CODES_SESSION_KEY] = codes
            messages.success(request, _("Your authenticator app is set up."))
            return _back_to_account()
        form.add_wrong_code()
    return _account_page(request, status=400, set_up_form=form)


@login_required
@require_POST
def mfa_recovery_codes(request):
    """Ten new recovery codes; the old ones stop working."""
    try:
        codes = mfa.create_recovery_codes(request=request)
    except ValueError:
        return _account_page(
            request,
            status=400,
            problem=_("Add an authenticator app first: recovery codes stand in for it."),
        )
    request.session[mfa.NEW_CODES_SESSION_KEY] = codes
    messages.success(request, _("New recovery codes were created; the old ones no longer work."))
    return _back_to_account()


@login_required
@require_POST
def mfa_remove(request):
    """Remove the app and the recovery codes, given a current code or the password. A
    wrong one counts as a failed login (the throttle)."""
    user = request.user
    form = RemoveForm(request.POST, auto_id="mfa-remove-%s")
    if not mfa.has_second_factor(user):
        return _account_page(
            request, status=400, problem=_("You have no second factor to remove.")
        )
    if mfa.is_locked_out(request, user):
        mfa.mark_locked_out(request, user)
        return _account_page(request, status=429)
    if form.is_valid():
        data = form.cleaned_data
        if mfa.check_removal(request=request, code=data["code"], password=data["password"]):
            mfa.remove_second_factor(user=user, request=request)
            messages.success(request, _("The second factor was removed."))
            return _back_to_account()
        mfa.record_failure(request=request, detail="removal")
        form.add_wrong_proof()
    return _account_page(request, status=400, remove_form=form)


# -- the security log -----------------------------------------------------------------


@login_required
@require_safe
def security_log(request):
    """Sign-in, second-factor, single sign-on and token events: site administrators."""
    if not access.can_see_security_log(request.user):
        raise PermissionDenied(_("The security log is for site administrators."))
    form, page = security_log_page.page_for(request.GET)
    context = {
        "form": form,
        "page": page,
        "kinds": SecurityEvent.Kind.choices,
        "selected_kind": form.value("kind") or "",
        "username": form.value("user") or "",
    }
    return render(request, "account/security_log.html", context)
