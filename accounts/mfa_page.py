"""What the account page shows about the second factor: whether it is on, the set-up in
progress (QR code and the secret for typing in), the recovery codes left, and the codes
just created (shown once)."""

from base64 import b32encode

import segno
from django.conf import settings

from accounts import mfa
from accounts.forms import RemoveForm, SetUpForm


def _grouped(secret: str) -> str:
    """The secret in groups of four, as authenticator apps accept it typed in."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _set_up(device) -> dict:
    """What a person needs to add ``device`` to their app. The QR code is an SVG data URI
    for an <img> (the Content-Security-Policy allows data: images, no inline styles)."""
    url = device.config_url
    return {
        "qr_data_uri": segno.make(url, error="m").svg_data_uri(scale=4, border=4),
        "secret": _grouped(b32encode(device.bin_key).decode("ascii").rstrip("=")),
    }


def section(request, *, set_up_form=None, remove_form=None, problem=None):
    """The second factor's part of the account page; the forms are passed in bound (with
    their errors) when a post is answered with the page."""
    user = request.user
    device = mfa.authenticator(user)
    pending = None if device is not None else mfa.pending_authenticator(user)
    gate = request.session.get(mfa.GATE_SESSION_KEY) or {}
    return {
        "enabled": device is not None,
        "enabled_at": getattr(device, "created_at", None),
        "set_up": _set_up(pending) if pending is not None else None,
        "recovery_left": mfa.recovery_codes_left(user) if device is not None else 0,
        # Popped: recovery codes are shown once, right after they are made.
        "new_codes": request.session.pop(mfa.NEW_CODES_SESSION_KEY, None),
        "required": bool(gate.get("admin")) and settings.MFA_REQUIRED_FOR_ADMINS,
        "sso": bool(request.session.get("sso_issuer")),
        "set_up_form": set_up_form or SetUpForm(auto_id="mfa-setup-%s"),
        "remove_form": remove_form or RemoveForm(auto_id="mfa-remove-%s"),
        "problem": problem,
    }
