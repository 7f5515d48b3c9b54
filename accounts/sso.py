"""Single sign-on with an OpenID provider: its configuration, its discovery document, the
client assertion Login.gov asks for, and who a provider's account is here.

Nothing here is active unless ``OIDC_ISSUER`` and ``OIDC_CLIENT_ID`` are set
(docs/sso.md). The provider's endpoints are read from its discovery document
(``<issuer>/.well-known/openid-configuration``), fetched once and kept in the cache.
"""

import re
import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache as django_cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.mfa import has_second_factor
from accounts.models import ExternalIdentity
from sdif_tracker.access import is_any_administrator

DISCOVERY_CACHE_SECONDS = 24 * 60 * 60
# Login.gov accepts a client assertion for at most five minutes; one minute is plenty.
ASSERTION_LIFETIME_SECONDS = 60


class SSORefused(Exception):
    """A sign-in the app refuses: ``reason`` goes to the security log, ``message`` (which
    names no secret and no claim value) to the person on the login page."""

    def __init__(self, reason: str, message=None, *, logged: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.message = message or _("Single sign-on did not complete. Please try again.")
        # False for an answer no sign-in of this browser started (no state of its own):
        # anyone may send those, so they are not let fill the security log.
        self.logged = logged


def is_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME or str(_("single sign-on"))


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    userinfo: str
    jwks: str
    end_session: str  # "" when the provider offers no RP-initiated logout


def endpoints() -> Endpoints:
    """The provider's endpoints from its discovery document; refused (``SSORefused``) if
    it cannot be read or names another issuer."""
    issuer = settings.OIDC_ISSUER
    key = f"sso:discovery:{issuer}"
    document = django_cache.get(key)
    if document is None:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise SSORefused(
                f"discovery document unreadable: {type(error).__name__}",
                _("The sign-in service cannot be reached just now. Please try again later."),
            ) from error
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
            raise SSORefused(
                "discovery document names another issuer",
                _("The sign-in service is not set up correctly. Please tell the site team."),
            )
        django_cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    try:
        return Endpoints(
            issuer=issuer,
            authorization=document["authorization_endpoint"],
            token=document["token_endpoint"],
            userinfo=document["userinfo_endpoint"],
            jwks=document["jwks_uri"],
            end_session=document.get("end_session_endpoint") or "",
        )
    except KeyError as error:
        raise SSORefused(
            f"discovery document lacks {error.args[0]}",
            _("The sign-in service is not set up correctly. Please tell the site team."),
        ) from error


@cache
def _private_key(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(
            f"OIDC_PRIVATE_KEY_FILE {path!r} cannot be read: {error.strerror}"
        ) from error


def client_assertion(token_endpoint: str) -> str:
    """A ``private_key_jwt`` client assertion (RFC 7523): signed RS256 with the app's
    private key; issuer and subject the client id, audience the token endpoint."""
    now = int(time.time())
    claims = {
        "iss": settings.OIDC_CLIENT_ID,
        "sub": settings.OIDC_CLIENT_ID,
        "aud": token_endpoint,
        "jti": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECONDS,
    }
    headers = {"kid": settings.OIDC_PRIVATE_KEY_ID} if settings.OIDC_PRIVATE_KEY_ID else None
    key = _private_key(settings.OIDC_PRIVATE_KEY_FILE)
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


# -- who the provider's account is here ---------------------------------------------------

_NOT_IN_USERNAME = re.compile(r"[^\w.@+-]+", re.ASCII)


def _new_username(email: str) -> str:
    """A free username from the email's local part (letters, digits and ``.@+-_`` only),
    else ``sso-user``; ``-2``, ``-3``… added until no one has it."""
    User = get_user_model()
    base = _NOT_IN_USERNAME.sub("", email.split("@", 1)[0].lower())[:140] or "sso-user"
    candidate, number = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


@dataclass(frozen=True)
class SignOn:
    user: object
    created: bool  # a new account, with no role
    linked: bool  # an existing account, matched by its email at this first sign-in


def _refuse_if_deactivated(user):
    if not user.is_active:
        raise SSORefused(
            f"account {user.get_username()} is deactivated",
            _("This account is deactivated. Please ask a site administrator."),
        )


def _refuse_if_privileged(user, subject: str):
    """An administrator's account, or one with a second factor, is never linked by an
    email address alone: whoever controls that address at the provider (or, at a provider
    whose users edit their own email claim, anyone) would get the account and, since a
    single sign-on session is not asked for the local second factor, get past it. A site
    administrator links it with ``manage.py link_sso_identity``."""
    if user.is_staff or is_any_administrator(user) or has_second_factor(user):
        raise SSORefused(
            f"account {user.get_username()} is an administrator's or has a second factor: "
            f"not linked by email (subject {subject})",
            _(
                "An account here with your email address is protected, so it is not "
                "linked to this sign-in automatically. Please ask a site administrator "
                "to link it."
            ),
        )


@transaction.atomic
def sign_on(*, issuer: str, subject: str, email: str, email_verified: bool) -> SignOn:
    """The user the provider's account (issuer, subject) signs in as.

    Known (issuer, subject): its user, whatever the email says now. First sign-in: the one
    local account with this verified email and no identity at this issuer is linked;
    otherwise a new account is made with no role (no membership, not staff)."""
    if not subject:
        raise SSORefused("the provider sent no subject (sub)")
    identity = (
        ExternalIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    now = timezone.now()
    if identity is not None:
        _refuse_if_deactivated(identity.user)
        identity.last_sign_in_at = now
        identity.save(update_fields=["last_sign_in_at"])
        return SignOn(user=identity.user, created=False, linked=False)
    if not email:
        raise SSORefused(
            "the provider sent no email address for a first sign-in",
            _(
                "The sign-in service did not share your email address, which a first "
                "sign-in needs. Allow it to share your email, then try again."
            ),
        )
    try:
        validate_email(email)
    except ValidationError as error:
        raise SSORefused("the provider sent an email that is not a valid email address") from error
    User = get_user_model()
    user, created, linked = None, False, False
    if email_verified:
        matches = list(
            User.objects.filter(email__iexact=email)
            .exclude(external_identities__issuer=issuer)
            .order_by("pk")[:2]
        )
        if len(matches) > 1:
            raise SSORefused(
                "several local accounts have this email address",
                _(
                    "More than one account here has your email address, so none was "
                    "chosen. Please ask a site administrator to sort it out."
                ),
            )
        if matches:
            _refuse_if_deactivated(matches[0])
            _refuse_if_privileged(matches[0], subject)
            user, linked = matches[0], True
    if user is None:
        user = User(username=_new_username(email), email=email)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        created = True
    ExternalIdentity.objects.create(
        user=user, issuer=issuer, subject=subject, email_at_link=email, last_sign_in_at=now
    )
    return SignOn(user=user, created=created, linked=linked)


# -- signing out at the provider -----------------------------------------------------------

LOGOUT_ORIGIN_SESSION_KEY = "sso_logout_origin"


def remember_logout_origin(session) -> None:
    """Keep, for this session, the origin of the provider's end_session_endpoint (if it
    has one): the sign-out form's redirect goes there."""
    try:
        endpoint = endpoints().end_session
    except SSORefused:
        endpoint = ""
    if endpoint:
        parts = urlsplit(endpoint)
        session[LOGOUT_ORIGIN_SESSION_KEY] = f"{parts.scheme}://{parts.netloc}"


class SignOutFormActionMiddleware:
    """The Content-Security-Policy's ``form-action 'self'`` also covers where a form's
    response redirects, so Chromium would stop the sign-out form's redirect to the
    provider's end_session_endpoint. In a single sign-on session every page allows that
    one origin too; any other session's policy is unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        origin = session.get(LOGOUT_ORIGIN_SESSION_KEY) if session is not None else None
        if origin:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), origin]
            response._csp_update = update
        return response
