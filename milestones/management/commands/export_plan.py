"""`manage.py export_plan SLUG [-o FILE] [--with-ids]`: write a goal's plan as
action-plan YAML; ``--with-ids`` adds each milestone's id, for editing and importing
again with ``import_plan --replace``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from milestones.plan_yaml import export_plan
from strategies.models import Goal


class Command(BaseCommand):
    help = "Export a goal's action plan as YAML (format apg-action-plan/2, with its history)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Slug of the goal, e.g. sdif.")
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")
        parser.add_argument(
            "--with-ids",
            action="store_true",
            help="Write each milestone's id, so an edited file re-imported with "
            "import_plan --replace updates the same milestones.",
        )

    def handle(self, *args, slug, output, with_ids, **options):
        goal = Goal.objects.filter(slug=slug).first()
        if goal is None:
            raise CommandError(f'No goal with slug "{slug}".')
        text = export_plan(goal, with_ids=with_ids)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from None
        self.stdout.write(f'Exported the plan "{slug}" to {output}.')
