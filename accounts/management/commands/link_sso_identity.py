"""Link a provider's account to a local one that single sign-on will not link by email
(an administrator's, or one with a second factor: accounts/sso.py).

    manage.py link_sso_identity USERNAME SUBJECT --reason "identity checked in person"

The issuer is the configured provider's (``OIDC_ISSUER``) unless ``--issuer`` names
another; SUBJECT is the provider's ``sub`` for the person (the security log's "single
sign-on refused" event shows it). The link is recorded in the security log.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import events
from accounts.models import ExternalIdentity


class Command(BaseCommand):
    help = "Link a single sign-on account (issuer, subject) to a local user (recorded)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("subject", help="The provider's subject (sub) for this person.")
        parser.add_argument("--issuer", default="", help="Default: OIDC_ISSUER.")
        parser.add_argument(
            "--reason", required=True, help="How the person was identified (kept in the log)."
        )

    def handle(self, *args, username, subject, issuer, reason, **options):
        issuer = (issuer or settings.OIDC_ISSUER or "").strip().rstrip("/")
        subject, reason = subject.strip(), reason.strip()
        if not issuer:
            raise CommandError("No provider: set OIDC_ISSUER or give --issuer.")
        if not subject or len(subject) > 255:
            raise CommandError("The subject must be 1 to 255 characters.")
        if not reason:
            raise CommandError("Give a --reason: it is kept in the security log.")
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user is named {username!r}; nothing was changed.") from None
        with transaction.atomic():
            taken = ExternalIdentity.objects.filter(issuer=issuer, subject=subject).first()
            if taken is not None:
                raise CommandError(
                    f"That provider account is already linked to {taken.user.get_username()}; "
                    "nothing was changed."
                )
            if ExternalIdentity.objects.filter(user=user, issuer=issuer).exists():
                raise CommandError(
                    f"{username} is already linked to another account at {issuer}; "
                    "nothing was changed."
                )
            ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
            events.record(
                events.Kind.SSO_LINKED,
                user=user,
                detail=f"Linked with manage.py link_sso_identity ({issuer}): {reason}",
            )
        self.stdout.write(self.style.SUCCESS(f"{username} now signs in through {issuer}."))
