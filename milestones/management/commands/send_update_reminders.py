"""`manage.py send_update_reminders [--force]`: email each goal leader, deputy and
contributor the milestones of their goals that need an update for the quarter the goal
reports on: the data call.

Only active goals whose reporting quarter has ended are concerned (a quarter's update is
written after it ends). A milestone is listed when it is open (not Completed or
Cancelled) and either has no status update for its goal's reporting quarter or is
overdue in it. One email per person and reporting quarter (one, usually), covering all
their goals on it; a person with nothing to do gets none. Each email is handed to the
worker once the run commits (``milestones.tasks.enqueue_email``: the worker sends it and
tries again when the mail server fails) and recorded in ``ReminderLog`` for that quarter;
whoever already has a reminder for the quarter is skipped unless ``--force``. Four
queries whatever the number of people or milestones, then one insert per email.

Users store no language of their own: every email is written in the site's language
(``settings.LANGUAGE_CODE``), whatever language the command runs in.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from milestones.models import (
    CLOSED_STATUSES,
    Milestone,
    ReminderLog,
    overdue_q,
    updated_for_quarter,
)
from milestones.quarters import (
    per_goal_q,
    reporting_is_done,
    reporting_quarter,
    reporting_quarter_has_ended,
    with_reporting_quarter,
)
from milestones.tasks import enqueue_email
from strategies.models import EDITOR_ROLES, Goal, Membership
from strategies.periods import FiscalPeriod


def goals_due_for_reminders() -> dict[int, FiscalPeriod]:
    """The active goals whose reporting quarter has ended, with that quarter, by id: one
    query."""
    goals = with_reporting_quarter(Goal.objects.filter(closed_at__isnull=True))
    return {
        goal.pk: reporting_quarter(goal)
        for goal in goals
        # Nothing to ask for once every quarter is published (the goal awaits closing).
        if reporting_quarter_has_ended(goal) and not reporting_is_done(goal)
    }


def milestones_needing_update(quarters: dict[int, FiscalPeriod]) -> list[Milestone]:
    """Open milestones of the goals of ``quarters`` (goal id → its reporting quarter) with
    no status update for their goal's quarter, or overdue in it, each with
    ``updated_now`` and ``overdue_flag``: one query (a term per distinct quarter)."""
    by_quarter = defaultdict(list)
    for goal_id, quarter in quarters.items():
        by_quarter[quarter].append(goal_id)
    updated = per_goal_q(by_quarter, updated_for_quarter)
    overdue = per_goal_q(by_quarter, overdue_q)
    return list(
        Milestone.objects.filter(goal__in=list(quarters))
        .exclude(status__in=CLOSED_STATUSES)
        .with_effective_due()
        .annotate(updated_now=_flag(updated), overdue_flag=_flag(overdue))
        .filter(Q(updated_now=False) | Q(overdue_flag=True))
        .select_related("goal")
        .order_by("goal__title", "goal_id", "position", "pk")
    )


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def email_language(user) -> str:
    """The language ``user``'s emails are written in: users store none, so the site's."""
    return settings.LANGUAGE_CODE


def reminder_subject(count: int, quarter: FiscalPeriod) -> str:
    return ngettext(
        "[SDIF Tracker] %(count)d key milestone to update for %(quarter)s",
        "[SDIF Tracker] %(count)d key milestones to update for %(quarter)s",
        count,
    ) % {"count": count, "quarter": quarter}


def reminder_text(user, quarter: FiscalPeriod, by_goal: dict) -> str:
    """The email's body, in the active language."""
    name = user.get_full_name() or user.get_username()
    lines = [
        _("Hello %(name)s,") % {"name": name},
        "",
        _("These key milestones of your goals need a status update for %(quarter)s:")
        % {"quarter": quarter},
    ]
    for goal, milestones in by_goal.items():
        lines += ["", f"{goal.short_name or goal.title}: {goal.title}"]
        for milestone in milestones:
            notes = []
            if milestone.overdue_flag:
                notes.append(_("OVERDUE (due %(due)s)") % {"due": milestone.effective_due})
            if not milestone.updated_now:
                notes.append(_("not updated in %(quarter)s") % {"quarter": quarter})
            lines.append(f"  - {milestone.title} [{'; '.join(notes)}]")
            lines.append(f"    {settings.SITE_URL}{milestone.get_absolute_url()}")
    lines += [
        "",
        _("Your list for the quarter: %(url)s") % {"url": f"{settings.SITE_URL}/my/"},
        "",
        _("— SDIF Tracker"),
    ]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = (
        "Email each goal leader, deputy and contributor of an active goal whose reporting "
        "quarter has ended the milestones not updated for that quarter, and the overdue "
        "ones; once per person per quarter unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Send even to people already reminded this quarter.",
        )

    def handle(self, *args, force=False, **options):
        quarters = goals_due_for_reminders()
        memberships = list(
            Membership.objects.filter(
                role__in=EDITOR_ROLES, user__is_active=True, goal__in=list(quarters)
            )
            .exclude(user__email="")
            .select_related("user")
            .order_by("user__username")
        )
        goals_of = defaultdict(set)
        users = {}
        for membership in memberships:
            goals_of[membership.user_id].add(membership.goal_id)
            users[membership.user_id] = membership.user
        milestones = milestones_needing_update(
            {goal_id: quarters[goal_id] for goal_id in {m.goal_id for m in memberships}}
        )
        reminded = set(
            ReminderLog.objects.filter(
                period__in=set(quarters.values()), user__in=list(users)
            ).values_list("user_id", "period")
        )

        sent = skipped = 0
        for user_id, user in users.items():
            by_quarter = defaultdict(lambda: defaultdict(list))
            for milestone in milestones:
                if milestone.goal_id in goals_of[user_id]:
                    by_quarter[quarters[milestone.goal_id]][milestone.goal].append(milestone)
            for quarter in sorted({quarters[goal_id] for goal_id in goals_of[user_id]}):
                if (user_id, quarter) in reminded and not force:
                    skipped += 1
                    continue
                by_goal = by_quarter.get(quarter)
                if by_goal:
                    self._send(user, quarter, by_goal)
                    sent += 1
        names = ", ".join(str(q) for q in sorted(set(quarters.values()))) or "no quarter"
        self.stdout.write(
            f"Sent {sent} reminder(s) for {names}; skipped {skipped} already reminded."
        )

    def _send(self, user, quarter: FiscalPeriod, by_goal: dict) -> None:
        """One email about ``quarter``, queued for the worker and recorded."""
        count = sum(len(items) for items in by_goal.values())
        with translation.override(email_language(user)):
            subject = reminder_subject(count, quarter)
            body = reminder_text(user, quarter, by_goal)
        # Sent by the worker once the run commits, so a slow mail server does not hold
        # the command; the worker tries a failed send again (milestones/tasks.py).
        enqueue_email(subject=subject, body=body, to=[user.email])
        # Recorded once handed over to the worker: the next run does not queue it again.
        ReminderLog.objects.create(user=user, period=quarter, milestone_count=count)
