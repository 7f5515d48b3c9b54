"""The authentication backend for single sign-on: mozilla-django-oidc's code flow, with
the provider's endpoints from discovery, ``private_key_jwt`` client authentication for
Login.gov, the ID token's issuer and audience checked, and users matched on the
provider's subject (``accounts.sso.sign_on``), never on an email address alone."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from accounts import sso

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def oidc_setting(attr, *args):
    """mozilla-django-oidc's settings, from this app's OIDC_* settings and the provider's
    discovery document; anything else as the library reads it."""
    values = {
        "OIDC_RP_CLIENT_ID": lambda: settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": lambda: settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": lambda: settings.OIDC_SCOPES,
        "OIDC_RP_SIGN_ALGO": lambda: "RS256",
        "OIDC_USE_PKCE": lambda: settings.OIDC_USE_PKCE,
        "OIDC_TOKEN_USE_BASIC_AUTH": lambda: settings.OIDC_CLIENT_AUTH == "client_secret_basic",
        "OIDC_TIMEOUT": lambda: settings.OIDC_TIMEOUT,
        # Kept for RP-initiated logout (its id_token_hint).
        "OIDC_STORE_ID_TOKEN": lambda: True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": lambda: "sso_callback",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": lambda: sso.endpoints().authorization,
        "OIDC_OP_TOKEN_ENDPOINT": lambda: sso.endpoints().token,
        "OIDC_OP_USER_ENDPOINT": lambda: sso.endpoints().userinfo,
        "OIDC_OP_JWKS_ENDPOINT": lambda: sso.endpoints().jwks,
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": lambda: (
            {"acr_values": settings.OIDC_ACR_VALUES} if settings.OIDC_ACR_VALUES else {}
        ),
    }
    if attr in values:
        return values[attr]()
    return import_from_settings(attr, *args)


class SSOBackend(OIDCAuthenticationBackend):
    """Signs in only from the SSO callback view (which passes ``nonce``); every other
    ``authenticate()`` call, a password login's included, passes it by."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # The library reads every endpoint here; Django builds the backends for each
        # password login too, which must not fetch the provider's discovery document.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs or not sso.is_enabled():
            return None
        found = sso.endpoints()
        self.OIDC_OP_TOKEN_ENDPOINT = found.token
        self.OIDC_OP_USER_ENDPOINT = found.userinfo
        self.OIDC_OP_JWKS_ENDPOINT = found.jwks
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = "RS256"
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.issuer = found.issuer
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        # ModelBackend's: an inactive user's session ends.
        return ModelBackend.get_user(self, user_id)

    def get_token(self, payload):
        if settings.OIDC_CLIENT_AUTH == "private_key_jwt":
            payload = {key: value for key, value in payload.items() if key != "client_secret"}
            payload["client_assertion_type"] = ASSERTION_TYPE
            payload["client_assertion"] = sso.client_assertion(self.OIDC_OP_TOKEN_ENDPOINT)
        return super().get_token(payload)

    def verify_token(self, token, **kwargs):
        """The library checks the signature, expiry and nonce; the issuer, the audience
        and (with OIDC_ACR_VALUES) the level reached are checked here, so a token issued
        elsewhere, to another client or at a lower level is refused."""
        if not token:
            raise SuspiciousOperation("the provider returned no ID token")
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss", "").rstrip("/") != self.issuer:
            raise SuspiciousOperation("the ID token's issuer is not the configured provider")
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token was issued to another client")
        asked = settings.OIDC_ACR_VALUES.split()
        if asked and payload.get("acr") not in asked:
            # acr_values travelled through the browser, which may have dropped or changed
            # them: the level the provider says it reached is what counts.
            raise SuspiciousOperation(
                f"the sign-in reached level {payload.get('acr')!r}, not one asked for"[:200]
            )
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = payload.get("sub") or ""
        if claims.get("sub") != subject:
            # OpenID Connect Core 5.3.2: userinfo for another subject must not be used.
            raise sso.SSORefused("userinfo names another subject than the ID token")
        email = claims.get("email") or ""
        verified = claims.get("email_verified") is True or settings.OIDC_EMAILS_VERIFIED
        signed_on = sso.sign_on(
            issuer=self.issuer, subject=subject, email=email, email_verified=verified
        )
        # The callback view reads what happened, for the security log.
        self.request.sso_sign_on = signed_on
        return signed_on.user
