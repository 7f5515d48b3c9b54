"""`manage.py import_plan FILE [--replace | --if-absent]`: load an action-plan YAML file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from milestones.plan_yaml import IMPORT_REASON, PlanError, import_plan, parse_plan
from strategies.history import get_system_user
from strategies.models import Goal


class Command(BaseCommand):
    help = (
        "Import an action plan from a YAML file (format apg-action-plan/1). All or nothing: "
        "a file with any error changes nothing and every error is listed with its line."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the YAML file.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--replace",
            action="store_true",
            help="Update the goal of the same slug in place (a recorded change).",
        )
        mode.add_argument(
            "--if-absent",
            action="store_true",
            help="Do nothing if a goal of the same slug exists already (for `make run`).",
        )

    def handle(self, *args, file, replace, if_absent, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        try:
            if if_absent:
                slug = parse_plan(text).slug
                if Goal.objects.filter(slug=slug).exists():
                    self.stdout.write(f'The plan "{slug}" is already loaded; nothing changed.')
                    return
            goal = import_plan(
                text,
                replace=replace,
                user=get_system_user(),
                reason=f"{IMPORT_REASON} ({path.name})",
                source="command:import_plan",
            )
        except PlanError as error:
            count = len(error.errors)
            raise CommandError(
                f"{path}: not imported, nothing changed ({count} error{'s' * (count != 1)}):\n"
                + "\n".join(error.errors)
            ) from None
        self.stdout.write(self.style.SUCCESS(f'Imported the plan "{goal.slug}" from {path}.'))
