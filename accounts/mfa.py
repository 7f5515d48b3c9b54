"""The second factor of a local (password) account: an authenticator app (TOTP) and its
single-use recovery codes, built on django-otp.

Every write goes through a function here, each one recording its security event
(``accounts.events.record``) in the same transaction. A user has at most one
authenticator: a confirmed ``TOTPDevice``. An unconfirmed one is a set-up in progress and
never counts. Recovery codes are one ``StaticDevice`` whose tokens are deleted as they
are used; they exist only beside a confirmed authenticator.

A wrong code counts as a failed login for django-axes (``count_failure``), so guessing
codes is throttled like guessing passwords.
"""

from __future__ import annotations

import math

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import events
from sdif_tracker import access

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "recovery codes"
AUTHENTICATOR_NAME = "authenticator app"
# What the sign-in gate remembers in the session (accounts/middleware.py).
GATE_SESSION_KEY = "mfa_gate"
# Recovery codes just created, shown once on the next view of the account page.
NEW_CODES_SESSION_KEY = "mfa_new_recovery_codes"


# -- reads ------------------------------------------------------------------------------


def authenticator(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_authenticator(user) -> TOTPDevice | None:
    """An authenticator being set up: created, not yet confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def has_second_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def seconds_to_wait(user, *, pending: bool = False) -> int:
    """How long django-otp still holds the authenticator (the pending one while it is set
    up) back after wrong codes: 1 s after the first, doubling. 0 when a code may be tried."""
    device = pending_authenticator(user) if pending else authenticator(user)
    if device is None:
        return 0
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))


def normalise_code(raw) -> str:
    """A code as typed: spaces and hyphens dropped (apps show "123 456"), lower case
    (recovery codes are lower-case base32)."""
    if not isinstance(raw, str):
        return ""
    return raw.replace(" ", "").replace("-", "").strip().lower()[:32]


# -- the throttle (django-axes) ---------------------------------------------------------


def _credentials(user) -> dict:
    return {"username": user.get_username()}


def is_locked_out(request, user) -> bool:
    """True while axes has paused sign-ins for this username from this address; the
    caller answers with the lockout page (``mark_locked_out``)."""
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def mark_locked_out(request, user) -> None:
    """Make axes' middleware answer this request with its lockout page (429)."""
    request.axes_locked_out = True
    request.axes_credentials = _credentials(user)


def count_failure(request, user) -> None:
    """A wrong code (or password) counts as a failed login for this username and address,
    through the signal axes listens to; at the limit axes marks the request locked out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)


def record_failure(*, request, detail: str = "") -> None:
    """A wrong code (or password, when removing the second factor): recorded, and counted
    by the throttle."""
    events.record(events.Kind.MFA_FAILED, request=request, detail=detail)
    count_failure(request, request.user)


def _clear_failures(request, user) -> None:
    """The sign-in is complete: forget this username's failures from this address (as
    axes does after a password alone, for accounts without a second factor)."""
    if settings.AXES_RESET_ON_SUCCESS:
        AxesProxyHandler.get_implementation().reset_user_attempts(request, _credentials(user))


# -- set-up -----------------------------------------------------------------------------


@transaction.atomic
def start_authenticator(*, user) -> TOTPDevice:
    """A new, unconfirmed authenticator with a fresh secret, replacing any set-up left
    unfinished. Refused (ValueError) when the user already has one."""
    if has_second_factor(user):
        raise ValueError("already set up")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    device.full_clean()
    device.save()
    return device


@transaction.atomic
def confirm_authenticator(*, request, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a current code from the app: it becomes
    the user's second factor, this session counts as verified with it, and ten new
    recovery codes are made (returned, to be shown once). None when the code is wrong
    or nothing is pending."""
    user = request.user
    device = pending_authenticator(user)
    if device is None or not device.verify_token(normalise_code(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    events.record(events.Kind.MFA_ADDED, request=request)
    codes = _replace_recovery_codes(request=request)
    otp_login(request, device)
    remember_gate(request, has_device=True)
    return codes


@transaction.atomic
def create_recovery_codes(*, request) -> list[str]:
    """Ten new single-use recovery codes, replacing the old ones (which stop working).
    Refused (ValueError) without an authenticator."""
    if not has_second_factor(request.user):
        raise ValueError("no authenticator")
    return _replace_recovery_codes(request=request)


def _replace_recovery_codes(*, request) -> list[str]:
    user = request.user
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    for code in codes:
        device.token_set.create(token=code)
    events.record(events.Kind.RECOVERY_CODES_CREATED, request=request)
    return codes


@transaction.atomic
def remove_second_factor(*, user, request=None, detail: str = "") -> bool:
    """Delete the user's authenticator and recovery codes (and any unfinished set-up).
    Recorded against ``user`` even when someone else removes it (``detail`` says who).
    False when there was nothing to remove."""
    had = has_second_factor(user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    if had:
        events.record(events.Kind.MFA_REMOVED, user=user, request=request, detail=detail)
    if request is not None and request.user.is_authenticated and request.user.pk == user.pk:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        remember_gate(request, has_device=False)
    return had


def check_removal(*, request, code: str, password: str) -> bool:
    """Whether the user proved it is them before removing the second factor: a current
    code from the app, a recovery code, or their password."""
    user = request.user
    if password and user.check_password(password):
        return True
    code = normalise_code(code)
    return bool(code) and _verify_any(user, code) is not None


# -- sign-in ----------------------------------------------------------------------------


def _verify_any(user, code: str):
    """The device that accepts ``code``: the authenticator for digits, the recovery codes
    for anything else (so a recovery code does not count against the app's own throttle),
    with the row locked so one code cannot be used twice at once; None if none does."""
    if not code:
        return None
    model = TOTPDevice if code.isdigit() else StaticDevice
    with transaction.atomic():
        for device in model.objects.filter(user=user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def verify_sign_in(*, request, code: str):
    """The second step of a password sign-in: ``code`` is a current code from the app or
    an unused recovery code (used up by this). Accepted: the session is verified, the
    event recorded, the failed logins forgotten; the device is returned. Wrong: the
    event recorded, the failure counted by the throttle, None returned."""
    user = request.user
    device = _verify_any(user, normalise_code(code))
    if device is None:
        record_failure(request=request)
        return None
    # A new session key once the sign-in is complete, as Django does after a password.
    request.session.cycle_key()
    otp_login(request, device)
    if isinstance(device, StaticDevice):
        events.record(
            events.Kind.RECOVERY_CODE_USED,
            request=request,
            detail=f"{recovery_codes_left(user)} left",
        )
    else:
        events.record(events.Kind.MFA_VERIFIED, request=request)
    _clear_failures(request, user)
    return device


# -- what the gate remembers ------------------------------------------------------------


def gate_facts(user) -> dict:
    """What the sign-in gate needs to know about ``user``, worked out once a session (at
    sign-in) rather than on every request: whether they have a second factor, and
    whether they are an administrator (site, or of any agency) who must have one."""
    admin = access.is_any_administrator(user)
    return {"user": user.pk, "device": has_second_factor(user), "admin": admin}


def remember_gate(request, user=None, *, has_device: bool | None = None) -> dict:
    """Store (or refresh) the gate's facts about ``user`` (the request's) in the session."""
    facts = gate_facts(user if user is not None else request.user)
    if has_device is not None:
        facts["device"] = has_device
    request.session[GATE_SESSION_KEY] = facts
    return facts


def set_up_required(request) -> bool:
    """Whether this session must add a second factor before anything else: an
    administrator signed in with a password, with none, while MFA_REQUIRED_FOR_ADMINS.
    The gate (accounts/middleware.py) and the pages that offer what it would refuse ask
    the same question here."""
    if not request.user.is_authenticated or request.session.get("sso_issuer"):
        return False
    facts = request.session.get(GATE_SESSION_KEY)
    if not isinstance(facts, dict) or facts.get("user") != request.user.pk:
        facts = remember_gate(request)
    return (
        bool(facts.get("admin")) and not facts.get("device") and settings.MFA_REQUIRED_FOR_ADMINS
    )


def remember_gate_at_sign_in(sender, request, user, **kwargs):
    """``user_logged_in``: the gate's facts for the new session. A sign-in through single
    sign-on says so after this (``session["sso_issuer"]``); one left from an earlier
    sign-in of the same user in this session must not excuse a password sign-in."""
    if request is not None and hasattr(request, "session"):
        request.session.pop("sso_issuer", None)
        remember_gate(request, user)
