"""Sign-in identities, security events and personal access tokens."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExternalIdentity(models.Model):
    """One user's account at one OpenID provider: matched on (issuer, subject), never on
    an email address that the provider may reassign."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    issuer = models.CharField(_("issuer"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    email_at_link = models.EmailField(_("email when linked"), blank=True)
    created_at = models.DateTimeField(_("linked"), default=timezone.now)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="identity_issuer_subject")
        ]

    def __str__(self):
        return f"{self.user} @ {self.issuer}"


class SecurityEvent(models.Model):
    """A sign-in or second-factor event, kept append-only for the audit log: who, what,
    when and from where. Rows are only ever inserted (accounts/events.py)."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", _("Signed in")
        SIGNED_IN_SSO = "signed_in_sso", _("Signed in with single sign-on")
        SSO_ACCOUNT_CREATED = "sso_account_created", _("Account created at first sign-in")
        SSO_REFUSED = "sso_refused", _("Single sign-on refused")
        SSO_LINKED = "sso_linked", _("Single sign-on account linked by an administrator")
        SIGNED_OUT = "signed_out", _("Signed out")
        MFA_ADDED = "mfa_added", _("Authenticator app added")
        MFA_REMOVED = "mfa_removed", _("Authenticator app removed")
        MFA_VERIFIED = "mfa_verified", _("Second factor accepted")
        MFA_FAILED = "mfa_failed", _("Wrong second-factor code")
        RECOVERY_CODES_CREATED = "recovery_created", _("Recovery codes created")
        RECOVERY_CODE_USED = "recovery_used", _("Recovery code used")
        TOKEN_CREATED = "token_created", _("Access token created")
        TOKEN_REVOKED = "token_revoked", _("Access token revoked")
        WEBHOOK_REGISTERED = "webhook_registered", _("Webhook endpoint registered")
        WEBHOOK_SECRET_ROTATED = "webhook_rotated", _("Webhook signing secret rotated")
        WEBHOOK_ENABLED = "webhook_enabled", _("Webhook endpoint enabled again")
        WEBHOOK_REMOVED = "webhook_removed", _("Webhook endpoint removed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.username}"


TOKEN_PREFIX = "sdif_pat_"  # noqa: S105 - a prefix that marks a token, not a secret


def token_digest(raw: str) -> str:
    """The stored form of a token: SHA-256 of the whole string. A token is 32 random
    bytes, so a fast hash is enough; a slow password hash would only slow every call."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class AccessToken(models.Model):
    """A personal access token: read-only, expiring, stored only as its digest. The
    raw value is shown once, when it is created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    # The first characters after the prefix, shown in lists so a leaked token is found.
    hint = models.CharField(_("starts with"), max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def new_raw_value() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now
