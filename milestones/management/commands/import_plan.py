"""`manage.py import_plan FILE [--replace | --if-absent]`: load an action-plan YAML file."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from milestones.plan_yaml import PlanError, check_size, import_plan, parse_plan
from milestones.plan_yaml.data import import_reason
from strategies.models import Goal


class Command(BaseCommand):
    help = (
        "Import an action plan from a YAML file (format apg-action-plan/2; /1 is read too). "
        "All or nothing: a file with any error changes nothing and every error is listed "
        "with its line."
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
            # One byte past the limit is enough to refuse it: a huge file is never read
            # whole (nor is a pipe, whose size is unknown beforehand).
            with path.open("rb") as stream:
                data = stream.read(settings.PLAN_IMPORT_MAX_BYTES + 1)
            check_size(len(data))
            text = data.decode("utf-8")
        except PlanError as error:
            raise self.refusal(path, error) from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        try:
            if if_absent:
                slug = parse_plan(text).slug
                if Goal.objects.filter(slug=slug).exists():
                    self.stdout.write(f'The plan "{slug}" is already loaded; nothing changed.')
                    return
            # As the system user, who is made (on a fresh database) in the import's own
            # transaction: a refused import leaves not even that behind.
            goal = import_plan(
                text,
                replace=replace,
                reason=import_reason(path.name),
                source="command:import_plan",
            )
        except PlanError as error:
            raise self.refusal(path, error) from None
        self.stdout.write(self.style.SUCCESS(f'Imported the plan "{goal.slug}" from {path}.'))

    @staticmethod
    def refusal(path: Path, error: PlanError) -> CommandError:
        count = len(error.errors)
        return CommandError(
            f"{path}: not imported, nothing changed ({count} error{'s' * (count != 1)}):\n"
            + "\n".join(error.errors)
        )
