"""Development only: the demo users of `make run`, one per role on the SDIF goal and one
per agency-wide role over its agency."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.history import get_system_user, recorded_change
from audit.reasons import encode
from strategies import reasons
from strategies.models import AgencyRole, AgencyRoleKind, Goal, Membership, Role

DEMO_ROLES = {
    "leader": Role.LEADER,
    "deputy": Role.DEPUTY,
    "contributor": Role.CONTRIBUTOR,
    "reviewer": Role.REVIEWER,
}
# Over the goal's agency (Treasury, for the SDIF plan).
DEMO_AGENCY_ROLES = {
    "treasury-admin": AgencyRoleKind.ADMIN,
    "pio": AgencyRoleKind.PERFORMANCE_OFFICE,
    "examiner": AgencyRoleKind.EXAMINER,
}


class Command(BaseCommand):
    help = (
        "Create the demo users admin, leader, deputy, contributor, reviewer, outsider, "
        "and treasury-admin, pio and examiner over the goal's agency (password from "
        "DEMO_PASSWORD). Refuses to run unless DEBUG is on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--goal", default="sdif", help="Slug of the goal they work on.")

    def handle(self, *args, goal, **options):
        if not settings.DEBUG:
            raise CommandError("Demo users are for development only; this needs DEBUG=1.")
        password = os.environ.get("DEMO_PASSWORD", "")
        if len(password) < 8:
            raise CommandError("Set DEMO_PASSWORD (8 characters or more) for the demo users.")
        try:
            plan = Goal.objects.get(slug=goal)
        except Goal.DoesNotExist:
            raise CommandError(f'No goal "{goal}": import its plan first.') from None

        user_model = get_user_model()
        with (
            transaction.atomic(),
            recorded_change(
                user=get_system_user(),
                reason=encode(reasons.DEMO_USERS),
                source="command:create_demo_users",
            ),
        ):
            for username in ["admin", *DEMO_ROLES, "outsider", *DEMO_AGENCY_ROLES]:
                user, _ = user_model.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@example.gov"}
                )
                user.is_staff = user.is_superuser = username == "admin"
                user.is_active = True
                user.set_password(password)
                user.save()
                agency_role = DEMO_AGENCY_ROLES.get(username)
                if agency_role is not None:
                    AgencyRole.objects.get_or_create(
                        user=user, agency_id=plan.agency_id, role=agency_role
                    )
                role = DEMO_ROLES.get(username)
                if role is None:
                    continue
                membership = Membership.objects.filter(user=user, goal=plan).first()
                if membership is None:
                    Membership.objects.create(user=user, goal=plan, role=role)
                elif membership.role != role:
                    membership.role = role
                    membership.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo users ready on {plan.short_name or plan.slug}: admin, "
                + ", ".join(DEMO_ROLES)
                + ", outsider; over its agency: "
                + ", ".join(DEMO_AGENCY_ROLES)
                + "."
            )
        )
