"""What an action plan is expected to have and a goal lacks: warnings for its leaders and
admins on the goal dashboard, for active goals (a closed goal's plan no longer changes).
Four queries whatever the size of the plan, and one for the reporting quarter unless
the goal carries it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from milestones.models import DATA_STATEMENT_FIELDS, ProgressSummary
from milestones.quarters import reporting_quarter
from strategies.models import PROGRAM_FIELDS, Goal


@dataclass(frozen=True)
class Gap:
    code: str
    text: str


def check_goal(goal: Goal, *, strategies=None, milestones=None) -> list[Gap]:
    """Every gap in ``goal``'s plan, in the order of the published plan; none for a
    closed goal. ``strategies`` and ``milestones``: the goal's, already fetched (the
    dashboard's), which spares two of the queries."""
    warnings: list[Gap] = []
    if goal.is_closed:
        return warnings

    def warn(code, text):
        warnings.append(Gap(code, text))

    if not goal.deputy_name.strip():
        warn("no_deputy", _("No deputy goal leader is named."))

    if strategies is None or milestones is None:
        strategies = list(
            goal.strategies.annotate(milestone_count=Count("milestones")).order_by("number")
        )
        counts = goal.milestones.aggregate(
            total=Count("pk"), undated=Count("pk", filter=Q(due__isnull=True))
        )
        aligned = {s.pk for s in strategies if s.milestone_count}
    else:
        counts = {
            "total": len(milestones),
            "undated": sum(1 for m in milestones if m.due is None),
        }
        aligned = {m.strategy_id for m in milestones}
    if not strategies:
        warn("no_strategies", _("The plan has no strategies."))
    for strategy in strategies:
        if strategy.pk not in aligned:
            warn(
                "strategy_without_milestones",
                _("Strategy %(number)d has no key milestones aligned to it.")
                % {"number": strategy.number},
            )

    if not counts["total"]:
        warn("no_milestones", _("The plan has no key milestones."))
    elif counts["undated"]:
        warn(
            "milestones_without_due",
            ngettext(
                "%(count)d key milestone has no due period.",
                "%(count)d key milestones have no due period.",
                counts["undated"],
            )
            % {"count": counts["undated"]},
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
