"""Failed-login throttling: django-axes' database handler, plus an alert on one username.

Axes locks a username only at the client address its failures came from (settings,
``AXES_LOCKOUT_PARAMETERS``), so nobody can lock a colleague out by mistyping their name
from elsewhere. Many failures for one username from many addresses are still worth a
person's attention: past ``LOGIN_USERNAME_ALERT_LIMIT`` within the cool-off this logs a
warning (an alert for whoever watches the logs) instead of locking the account.
"""

import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Count, Sum
from django_otp import user_has_device

logger = logging.getLogger(__name__)


class AlertingDatabaseHandler(AxesDatabaseHandler):
    def user_logged_in(self, sender, request, user, **kwargs):
        # A password alone does not finish the sign-in of an account with a second factor:
        # its failures (wrong codes among them) stand until the code is accepted, which
        # clears them (accounts/mfa.py). Otherwise signing in again would reset the count.
        request.axes_keep_failures = user_has_device(user)
        super().user_logged_in(sender, request, user, **kwargs)

    def reset_user_attempts(self, request, credentials=None) -> int:
        if getattr(request, "axes_keep_failures", False):
            return 0
        return super().reset_user_attempts(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # A refused attempt during a lockout is not recorded by axes, so it adds nothing.
        already_locked = getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or already_locked:
            return
        username = get_client_username(request, credentials)
        if username:
            self.alert_on_many_failures(request, username)

    @staticmethod
    def alert_on_many_failures(request, username: str) -> None:
        """Log a warning when the failures for ``username`` (from every address, within
        the cool-off) reach the limit, and again at each multiple of it."""
        attempts = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        )
        totals = attempts.aggregate(
            failures=Sum("failures_since_start"), addresses=Count("ip_address", distinct=True)
        )
        failures, limit = totals["failures"] or 0, settings.LOGIN_USERNAME_ALERT_LIMIT
        if failures and failures % limit == 0:
            logger.warning(
                "Login alert: %d failed logins for username %r from %d addresses in the "
                "last %d minutes; the account is not locked, each address is throttled "
                "on its own.",
                failures,
                username,
                totals["addresses"],
                get_cool_off(request).total_seconds() // 60,
            )
