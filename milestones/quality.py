"""The milestone and plan quality check: what an agency performance office or an OMB
examiner pushes back on in an action plan (docs/quality-rules.md lists each rule, the
guidance it comes from and why). Advice, never a refusal: nothing here blocks a save.

``findings_for_goals`` checks any number of goals in a fixed number of queries (three:
the milestones, the recorded revisions of their due, the published indicators); a page
that already holds a goal's milestones or indicators passes them in and spares those.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from milestones.models import Milestone, Status
from milestones.services import COMMENT_REQUIRED_STATUSES
from strategies.models import Goal, Indicator, Strategy


class Rule(models.TextChoices):
    """The rules, in the order docs/quality-rules.md explains them (Q1…Q9)."""

    NO_DUE = "Q1", gettext_lazy("Milestone without a due quarter")
    ONGOING_REPEATED = "Q2", gettext_lazy("More than one “Ongoing” milestone in a strategy")
    ACTIVITY_WORDING = "Q3", gettext_lazy("Milestone names an activity, not a result")
    NO_OWNER = "Q4", gettext_lazy("Milestone without an owner")
    DUE_REVISED = "Q5", gettext_lazy("Due date revised more than twice")
    NO_CAUSE = "Q6", gettext_lazy("Delayed or at risk without the cause")
    STATEMENT_NOT_MEASURABLE = "Q7", gettext_lazy("Goal statement without a number and a date")
    NO_LEADER = "Q8", gettext_lazy("No named goal leader")
    INDICATOR_NO_SOURCE = "Q9", gettext_lazy("Published indicator without a data source")


# More revisions of a milestone's due than this and it is flagged (Q5).
MAX_DUE_REVISIONS = 2


@dataclass(frozen=True)
class Finding:
    """One thing the check found: the rule, a plain message naming the object and how to
    fix it, and the object it is about (the goal always; a milestone, strategy or
    indicator when the finding is about one)."""

    rule: Rule
    message: str
    goal: Goal
    milestone: Milestone | None = None
    strategy: Strategy | None = None
    indicator: Indicator | None = None

    @property
    def subject(self):
        """The object the finding is about: the milestone, else the indicator, else the
        strategy, else the goal."""
        return self.milestone or self.indicator or self.strategy or self.goal

    @property
    def subject_kind(self) -> str:
        if self.milestone is not None:
            return "milestone"
        if self.indicator is not None:
            return "indicator"
        if self.strategy is not None:
            return "strategy"
        return "goal"


# --- Text rules (English and Spanish), matched on words, ignoring case and accents ---------


def fold(text: str) -> str:
    """``text`` lower-cased and without accents, so "Participación" matches "participacion"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# Phrases that name something the team does rather than what it delivers. Written
# folded (lower case, no accents); each matches whole words only.
ACTIVITY_PHRASES = (
    # English
    r"participate in",
    r"participating in",
    r"participation in",
    r"attend",
    r"attends",
    r"attending",
    r"continue to",
    r"continue",
    r"continues",
    r"continuing",
    r"assist with",
    r"assist in",
    r"assist",
    r"help with",
    r"engage in",
    r"engage with",
    r"work with",
    r"work towards?",
    # Spanish
    r"participar en",
    r"participar",
    r"participacion en",
    r"asistir a",
    r"asistencia a",
    r"continuar",
    r"continuar con",
    r"seguir",
    r"ayudar a",
    r"ayudar con",
    r"ayudar en",
    r"colaborar en",
    r"colaborar con",
    r"trabajar con",
)
_ACTIVITY = re.compile(r"\b(" + "|".join(sorted(ACTIVITY_PHRASES, key=len, reverse=True)) + r")\b")
# Meetings as the deliverable: the milestone ends with them ("… level meetings."), opens
# with them ("Reuniones bilaterales …"; plural, so "Meeting minutes published" passes),
# or holds, convenes or schedules them ("Hold quarterly meetings with …").
_MEETINGS = re.compile(
    r"\b(meetings?|reunion|reuniones)\W*$"
    r"|^\W*(meetings|reuniones)\b"
    r"|\b(hold|holding|convene|convening|organi[sz]e|schedule|celebrar|realizar|convocar"
    r"|organizar|programar)\b.*\b(meetings?|reunion|reuniones)\b"
)


def activity_wording(title: str) -> str | None:
    """The phrase of ``title`` that names an activity rather than a result (as written in
    the title), or None. English and Spanish, whole words, any case or accents."""
    folded = fold(title)
    match = _ACTIVITY.search(folded) or _MEETINGS.search(folded)
    if match is None:
        return None
    # Folding keeps the length of plain Latin text; fall back to the folded phrase when
    # it did not (a ligature, say).
    if len(folded) == len(title):
        return title[match.start() : match.end()].strip(" .;:,")
    return match.group(0).strip(" .;:,")


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
    "|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    "|noviembre|diciembre"
)
# A date a target can be held to: a numeric date, a month and year, a fiscal year
# ("FY2020", "FY 20", "AF 2020": año fiscal) or a year. Folded text.
_DATE = re.compile(
    r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"
    rf"|\b(?:\d{{1,2}}\s+(?:de\s+)?)?(?:{_MONTHS})\.?\s+(?:de\s+|del\s+)?(?:19|20)\d{{2}}\b"
    r"|\b(?:fy|af|ejercicio(?:\s+fiscal)?)\s?'?(?:(?:19|20)\d{2}|\d{2})\b"
    r"|\b(?:19|20)\d{2}\b"
)
_NUMBER = re.compile(r"\d")


def statement_gaps(statement: str) -> tuple[bool, bool]:
    """(has a number, has a date) for a goal statement. The number must be something
    other than the date (the target, as "by 20 percent" or "to 1,500 cases"), written in
    figures."""
    folded = fold(statement)
    has_date = _DATE.search(folded) is not None
    has_number = _NUMBER.search(_DATE.sub(" ", folded)) is not None
    return has_number, has_date


# --- The check ----------------------------------------------------------------------------


def _name(milestone: Milestone) -> str:
    return Truncator(milestone.title.strip()).chars(80)


def _milestone_findings(goal, milestones, revisions) -> list[Finding]:
    findings: list[Finding] = []
    # Q2 groups a goal's milestones by strategy (the unaligned ones together).
    ongoing: dict[int | None, list[Milestone]] = defaultdict(list)
    for milestone in milestones:
        if milestone.status == Status.CANCELLED:
            continue
        due = milestone.effective_due
        if due is not None and due.is_ongoing:
            ongoing[milestone.strategy_id].append(milestone)

    def add(rule, milestone, message):
        findings.append(
            Finding(
                rule=rule,
                message=message,
                goal=goal,
                milestone=milestone,
                strategy=milestone.strategy,
            )
        )

    for milestone in milestones:
        if milestone.status == Status.CANCELLED:
            continue
        values = {"milestone": _name(milestone)}
        if milestone.due is None and milestone.revised_due is None:
            add(
                Rule.NO_DUE,
                milestone,
                _("“%(milestone)s” has no due quarter: give the quarter it will be done by.")
                % values,
            )
        group = ongoing.get(milestone.strategy_id, ())
        if len(group) > 1 and milestone in group:
            if milestone.strategy_id is None:
                text = ngettext(
                    "“%(milestone)s” is due “Ongoing”, as are %(count)d other milestone "
                    "without a strategy: give each a quarter it will be done by.",
                    "“%(milestone)s” is due “Ongoing”, as are %(count)d other milestones "
                    "without a strategy: give each a quarter it will be done by.",
                    len(group) - 1,
                )
            else:
                values["number"] = milestone.strategy.number
                text = ngettext(
                    "“%(milestone)s” is due “Ongoing”, as is %(count)d other milestone of "
                    "strategy %(number)d: give each a quarter it will be done by.",
                    "“%(milestone)s” is due “Ongoing”, as are %(count)d other milestones of "
                    "strategy %(number)d: give each a quarter it will be done by.",
                    len(group) - 1,
                )
            values["count"] = len(group) - 1
            add(Rule.ONGOING_REPEATED, milestone, text % values)
        phrase = activity_wording(milestone.title)
        if phrase is not None:
            add(
                Rule.ACTIVITY_WORDING,
                milestone,
                _(
                    "“%(milestone)s” names an activity (“%(phrase)s”), not a result: reword "
                    "it as what will be delivered or decided, and by when."
                )
                % {**values, "phrase": phrase},
            )
        if not milestone.owner.strip():
            add(
                Rule.NO_OWNER,
                milestone,
                _("“%(milestone)s” has no owner: name the office accountable for it.") % values,
            )
        revised = revisions.get(milestone.pk, set())
        if milestone.revised_due is not None:
            revised = revised | {milestone.revised_due.key}
        if len(revised) > MAX_DUE_REVISIONS:
            add(
                Rule.DUE_REVISED,
                milestone,
                _(
                    "The due of “%(milestone)s” has been revised %(count)d times: re-plan it "
                    "with a date the team can hold, or split it into steps."
                )
                % {**values, "count": len(revised)},
            )
        if milestone.status in COMMENT_REQUIRED_STATUSES and not milestone.comment.strip():
            add(
                Rule.NO_CAUSE,
                milestone,
                _(
                    "“%(milestone)s” is %(status)s with no comment: say why, and what is "
                    "being done about it, in its status update."
                )
                % {**values, "status": milestone.get_status_display().lower()},
            )
    return findings


def _goal_findings(goal) -> list[Finding]:
    findings: list[Finding] = []
    has_number, has_date = statement_gaps(goal.statement)
    if not (has_number and has_date):
        if has_date:
            message = _(
                "The goal statement has a date but no number: state the target in figures "
                "(how much, by when)."
            )
        elif has_number:
            message = _(
                "The goal statement has no date: state when the target is to be met "
                "(“by September 2020”)."
            )
        else:
            message = _(
                "The goal statement has no number and no date: state the target in figures "
                "and when it is to be met."
            )
        findings.append(Finding(rule=Rule.STATEMENT_NOT_MEASURABLE, message=message, goal=goal))
    if not goal.leader_name.strip():
        findings.append(
            Finding(
                rule=Rule.NO_LEADER,
                message=_("No goal leader is named: name the accountable official."),
                goal=goal,
            )
        )
    return findings


def _indicator_findings(goal, indicators) -> list[Finding]:
    return [
        Finding(
            rule=Rule.INDICATOR_NO_SOURCE,
            message=_(
                "The published indicator “%(indicator)s” has no data source: name where "
                "its figures come from."
            )
            % {"indicator": indicator.name},
            goal=goal,
            indicator=indicator,
        )
        for indicator in indicators
        if indicator.is_published and not indicator.data_source.strip()
    ]


def _due_revisions(goal_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each milestone, the revised dues it has had (period keys), from its recorded
    history: every save of a milestone is recorded, whichever path made it. One query."""
    revisions: dict[int, set[int]] = defaultdict(set)
    rows = (
        Milestone.history.filter(goal_id__in=list(goal_ids), revised_due__isnull=False)
        .values_list("id", "revised_due")
        .distinct()
        .order_by()
    )
    for milestone_id, revised_due in rows:
        key = revised_due.key if hasattr(revised_due, "key") else int(revised_due)
        revisions[milestone_id].add(key)
    return revisions


def findings_for_goals(
    goals: Iterable[Goal], *, milestones=None, indicators=None
) -> dict[int, list[Finding]]:
    """Every finding for each of ``goals``, by goal id, in a fixed number of queries
    (three; fewer when ``milestones`` or ``indicators``, lists of the goals' rows, are
    given). Goal findings first, then the milestones' in plan order, then indicators'."""
    goals = list(goals)
    by_id = {goal.pk: goal for goal in goals}
    if not by_id:
        return {}
    if milestones is None:
        milestones = list(
            Milestone.objects.filter(goal_id__in=by_id)
            .select_related("strategy")
            .order_by("goal_id", "position", "id")
        )
    if indicators is None:
        indicators = list(
            Indicator.objects.filter(goal_id__in=by_id, is_published=True).order_by(
                "goal_id", "position", "id"
            )
        )
    milestones_by_goal: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in milestones:
        milestones_by_goal[milestone.goal_id].append(milestone)
    indicators_by_goal: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in indicators:
        indicators_by_goal[indicator.goal_id].append(indicator)
    revisions = _due_revisions(by_id)

    result: dict[int, list[Finding]] = {}
    for goal_id, goal in by_id.items():
        result[goal_id] = [
            *_goal_findings(goal),
            *_milestone_findings(goal, milestones_by_goal[goal_id], revisions),
            *_indicator_findings(goal, indicators_by_goal[goal_id]),
        ]
    return result


def goal_findings(goal: Goal, *, milestones=None, indicators=None) -> list[Finding]:
    """Every finding for one goal (see ``findings_for_goals``)."""
    return findings_for_goals([goal], milestones=milestones, indicators=indicators)[goal.pk]
