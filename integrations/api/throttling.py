"""One request budget per personal access token, or per user for a signed-in browser:
``API_RATE_LIMIT`` (e.g. ``1000/hour``), read when each request is checked so a changed
setting (or a test's) applies at once."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import AccessToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if isinstance(request.auth, AccessToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"
