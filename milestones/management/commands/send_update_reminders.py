"""`manage.py send_update_reminders [--force]`: email each goal leader, deputy and
contributor the milestones of their goals that need their attention this quarter.

A milestone is listed when it is open (not Completed or Cancelled) and either has no
status update for the current reporting quarter or is overdue. One email per person,
covering all their goals; a person with nothing to do gets none. Each email sent is
recorded in ``ReminderLog``; whoever already has a reminder for the quarter is skipped
unless ``--force``. Three queries whatever the number of people or milestones.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.management.base import BaseCommand
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When

from milestones.models import CLOSED_STATUSES, Milestone, ReminderLog, StatusUpdate, overdue_q
from strategies.models import EDITOR_ROLES, Membership
from strategies.periods import FiscalPeriod, current_quarter


def milestones_needing_update(goal_ids, quarter: FiscalPeriod) -> list[Milestone]:
    """Open milestones of ``goal_ids`` with no status update for ``quarter``, or overdue,
    each with ``updated_now`` and ``overdue_flag``: one query."""
    return list(
        Milestone.objects.filter(goal__in=goal_ids)
        .exclude(status__in=CLOSED_STATUSES)
        .with_effective_due()
        .annotate(
            updated_now=Exists(
                StatusUpdate.objects.filter(milestone=OuterRef("pk"), period=quarter)
            ),
            overdue_flag=Case(
                When(overdue_q(quarter.start), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .filter(Q(updated_now=False) | Q(overdue_flag=True))
        .select_related("goal")
        .order_by("goal__title", "goal_id", "position", "pk")
    )


def reminder_text(user, quarter: FiscalPeriod, by_goal: dict) -> str:
    name = user.get_full_name() or user.get_username()
    lines = [
        f"Hello {name},",
        "",
        f"These key milestones of your goals need a status update for {quarter}:",
    ]
    for goal, milestones in by_goal.items():
        lines += ["", f"{goal.short_name or goal.title}: {goal.title}"]
        for milestone in milestones:
            notes = []
            if milestone.overdue_flag:
                notes.append(f"OVERDUE (due {milestone.effective_due})")
            if not milestone.updated_now:
                notes.append(f"not updated in {quarter}")
            lines.append(f"  - {milestone.title} [{'; '.join(notes)}]")
            lines.append(f"    {settings.SITE_URL}{milestone.get_absolute_url()}")
    lines += [
        "",
        f"Your list for the quarter: {settings.SITE_URL}/my/",
        "",
        "— SDIF Tracker",
    ]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = (
        "Email each goal leader, deputy and contributor the milestones of their goals not "
        "updated in the current reporting quarter, and the overdue ones; once per person "
        "per quarter unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Send even to people already reminded this quarter.",
        )

    def handle(self, *args, force=False, **options):
        quarter = current_quarter()
        memberships = list(
            Membership.objects.filter(role__in=EDITOR_ROLES, user__is_active=True)
            .exclude(user__email="")
            .select_related("user")
            .order_by("user__username")
        )
        goals_of = defaultdict(set)
        users = {}
        for membership in memberships:
            goals_of[membership.user_id].add(membership.goal_id)
            users[membership.user_id] = membership.user
        milestones = milestones_needing_update({m.goal_id for m in memberships}, quarter)
        reminded = set(
            ReminderLog.objects.filter(period=quarter, user__in=list(users)).values_list(
                "user_id", flat=True
            )
        )

        sent = skipped = 0
        for user_id, user in users.items():
            if user_id in reminded and not force:
                skipped += 1
                continue
            by_goal = defaultdict(list)
            for milestone in milestones:
                if milestone.goal_id in goals_of[user_id]:
                    by_goal[milestone.goal].append(milestone)
            if not by_goal:
                continue
            count = sum(len(items) for items in by_goal.values())
            EmailMessage(
                subject=f"[SDIF Tracker] {count} key milestone(s) to update for {quarter}",
                body=reminder_text(user, quarter, by_goal),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
            ).send()
            # Recorded only once the email is handed over, so a failure is retried.
            ReminderLog.objects.create(user=user, period=quarter, milestone_count=count)
            sent += 1
        self.stdout.write(
            f"Sent {sent} reminder(s) for {quarter}; skipped {skipped} already reminded."
        )
