"""Remove a user's second factor, for someone who lost their phone and recovery codes.

    manage.py mfa_reset USERNAME --reason "lost phone, identity checked by phone call"

The removal is recorded in the security log against the user, with the reason. The user
signs in with their password next time (an administrator is then asked to add a new
authenticator at once). A lockout from wrong codes is lifted separately:
``manage.py axes_reset_username USERNAME``.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import mfa


class Command(BaseCommand):
    help = "Remove a user's authenticator app and recovery codes (recorded in the security log)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--reason",
            required=True,
            help="Why, and how the person was identified (kept in the security log).",
        )

    def handle(self, *args, username, reason, **options):
        reason = reason.strip()
        if not reason:
            raise CommandError("Give a --reason: it is kept in the security log.")
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user is named {username!r}; nothing was changed.") from None
        detail = f"Removed with manage.py mfa_reset: {reason}"
        if not mfa.remove_second_factor(user=user, detail=detail):
            raise CommandError(f"{username} has no second factor; nothing was changed.")
        self.stdout.write(self.style.SUCCESS(f"The second factor of {username} was removed."))
