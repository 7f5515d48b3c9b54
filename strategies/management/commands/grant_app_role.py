"""Give the app's PostgreSQL role its privileges: history read and add only."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from strategies.database_roles import grant_app_role


class Command(BaseCommand):
    help = (
        "Run as the tables' owner: let ROLE (default DATABASE_APP_ROLE) read and add "
        "history but never change or remove it, and read and write the other tables. "
        "`migrate` does the same by itself while DATABASE_APP_ROLE is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", nargs="?", default=settings.DATABASE_APP_ROLE)
        parser.add_argument("--database", default="default")

    def handle(self, *args, role, database, **options):
        if not role:
            raise CommandError("Name the role, or set DATABASE_APP_ROLE.")
        try:
            grants = grant_app_role(role, using=database)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{grants.role}: SELECT, INSERT on {len(grants.append_only_tables)} history "
            f"tables; SELECT, INSERT, UPDATE, DELETE on {grants.other_tables} other tables."
        )
