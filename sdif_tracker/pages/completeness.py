"""What an action plan is expected to have and a goal lacks: warnings for its leaders and
admins on the goal dashboard, for active goals (a closed goal's plan no longer changes).
Four queries whatever the size of the plan, and one for the reporting quarter unless
the goal carries it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from milestones.models import DATA_STATEMENT_FIELDS, ProgressSummary
from milestones.quarters import reporting_quarter
from strategies.models import PROGRAM_FIELDS, Goal


@dataclass(frozen=True)
class Gap:
    code: str
    text: str


def check_goal(goal: Goal) -> list[Gap]:
    """Every gap in ``goal``'s plan, in the order of the published plan; none for a
    closed goal."""
    warnings: list[Gap] = []
    if goal.is_closed:
        return warnings

    def warn(code, text):
        warnings.append(Gap(code, text))

    if not goal.deputy_name.strip():
        warn("no_deputy", _("No deputy goal leader is named."))

    strategies = list(
        goal.strategies.annotate(milestone_count=Count("milestones")).order_by("number")
    )
    if not strategies:
        warn("no_strategies", _("The plan has no strategies."))
    for strategy in strategies:
        if not strategy.milestone_count:
            warn(
                "strategy_without_milestones",
                _("Strategy %(number)d has no key milestones aligned to it.")
                % {"number": strategy.number},
            )

    milestones = goal.milestones.aggregate(
        total=Count("pk"), undated=Count("pk", filter=Q(due__isnull=True))
    )
    if not milestones["total"]:
        warn("no_milestones", _("The plan has no key milestones."))
    elif milestones["undated"]:
        warn(
            "milestones_without_due",
            _("%(count)d key milestone(s) have no due period.") % {"count": milestones["undated"]},
        )

    if not goal.indicators.exists() and not goal.key_indicators.strip():
        warn(
            "no_indicators",
            _("No key indicators, and no note explaining why none are published."),
        )

    if not any(goal.program_list(name) for name in PROGRAM_FIELDS):
        warn("no_programs", _("No contributing programs are listed."))

    quarter = reporting_quarter(goal)
    summaries = list(ProgressSummary.objects.filter(goal=goal).order_by("-period"))
    # The statement printed is the newest update's (publishing.data_statement_source).
    stated = next((s for s in summaries if s.data_statement), None)
    missing = [
        str(ProgressSummary._meta.get_field(name).verbose_name)
        for name in DATA_STATEMENT_FIELDS
        if stated is None or not getattr(stated, name).strip()
    ]
    if missing:
        warn(
            "data_statement_incomplete",
            _("The data accuracy and reliability statement lacks: %(parts)s.")
            % {"parts": "; ".join(missing)},
        )
    if not any(summary.period == quarter for summary in summaries):
        warn(
            "no_current_summary",
            _("No %(quarter)s progress summary yet (the quarter the goal reports on).")
            % {"quarter": quarter},
        )
    return warnings
