"""Personal access tokens: created and revoked by their owner on the account page, each
change recorded as a security event in the same transaction. A token only reads (the
API has no write), expires, and is stored as its digest; its raw value exists only in
the answer to the request that created it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import events
from accounts.models import TOKEN_PREFIX, AccessToken, token_digest

# How long a new token lasts, in days: never without an expiry.
LIFETIMES = (7, 30, 90, 365)
# The characters after the prefix that lists show, so a leaked token can be recognised.
HINT_LENGTH = 4


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Dashboard export”."),
    )
    lifetime = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        initial=90,
        choices=lambda: [(days, gettext("%(days)d days") % {"days": days}) for days in LIFETIMES],
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Give the token a name."), code="blank_name")
        return name


class TokenRevokeForm(forms.Form):
    token = forms.IntegerField(min_value=1, max_value=2**63 - 1)


@dataclass(frozen=True)
class NewToken:
    """A token just made, with its raw value: shown once, then only its digest is left."""

    token: AccessToken
    raw: str


def user_tokens(user):
    """The user's tokens, newest first (one query)."""
    return AccessToken.objects.filter(user=user).order_by("-created_at", "-id")


@transaction.atomic
def create_token(*, user, name: str, lifetime_days: int, request=None) -> NewToken:
    """Make a token for ``user`` that expires after ``lifetime_days`` days."""
    if lifetime_days not in LIFETIMES:
        raise ValidationError(_("Choose one of the offered lifetimes."), code="bad_lifetime")
    raw = AccessToken.new_raw_value()
    now = timezone.now()
    token = AccessToken(
        user=user,
        name=name,
        hint=raw.removeprefix(TOKEN_PREFIX)[:HINT_LENGTH],
        digest=token_digest(raw),
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days),
    )
    token.full_clean()
    token.save()
    events.record(
        events.Kind.TOKEN_CREATED,
        user=user,
        request=request,
        detail=f"{token.name} ({token.hint}…), expires {token.expires_at:%Y-%m-%d}",
    )
    return NewToken(token, raw)


@transaction.atomic
def revoke_token(*, user, token_id: int, request=None) -> AccessToken | None:
    """Revoke ``user``'s token ``token_id``; None if they have no such token. Revoking a
    revoked token changes nothing and records nothing."""
    token = AccessToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None or token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    events.record(
        events.Kind.TOKEN_REVOKED,
        user=user,
        request=request,
        detail=f"{token.name} ({token.hint}…)",
    )
    return token
