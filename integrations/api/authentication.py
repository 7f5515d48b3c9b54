"""``Authorization: Bearer <personal access token>``: the token is looked up by its
digest (the raw value is never stored); an unknown, expired or revoked token is 401."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.models import AccessToken, token_digest

# ``last_used_at`` is written at most this often per token: a busy client must not turn
# every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token: the session, or anonymous
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be “Bearer” and one token.")
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This access token is not valid.")) from None
        token = AccessToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This access token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This access token has been revoked."))
        if not token.is_usable(now):
            raise exceptions.AuthenticationFailed(_("This access token has expired."))
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # A plain UPDATE of one column: tokens keep no history, and a concurrent
            # revocation (another column) is not overwritten.
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
