"""The quality check's pages (rules: ``milestones.quality``, docs/quality-rules.md): the
dashboard's one line that opens a goal's findings, and the Quality report across every
goal the reader may see, filtered by goal, rule and agency, with counts per rule and a
CSV of the same rows.

Each finding links to where the reader can fix it: the edit page of its goal, strategy
or indicator when they may edit the plan, else the object's own page (a milestone's
page is where its update is written).

The report reads a fixed number of queries whatever the number of goals: the goals
(with their agency), then the check's three (``findings_for_goals``).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django import forms
from django.core.paginator import Page, Paginator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from milestones.quality import Finding, Rule, findings_for_goals, goal_findings
from sdif_tracker import access
from sdif_tracker.exports import safe_cell
from sdif_tracker.pages.filters import ListFilterForm
from strategies.models import Goal

PAGE_SIZE = 100


@dataclass(frozen=True)
class FindingRow:
    finding: Finding
    href: str  # where the reader can fix it (or see it, if they may not edit)
    editable: bool  # ``href`` is an edit page

    @property
    def rule(self) -> Rule:
        return self.finding.rule

    @property
    def goal(self) -> Goal:
        return self.finding.goal

    @property
    def object_label(self) -> str:
        finding = self.finding
        if finding.milestone is not None:
            return str(_("Key milestone: %(title)s") % {"title": finding.milestone.title})
        if finding.indicator is not None:
            return str(_("Indicator: %(name)s") % {"name": finding.indicator.name})
        if finding.strategy is not None:
            return str(_("Strategy %(number)d") % {"number": finding.strategy.number})
        return str(_("Goal"))


def finding_link(finding: Finding, perms: access.GoalPermissions) -> tuple[str, bool]:
    """(URL, is an edit page) of the place to fix ``finding`` for a reader with ``perms``
    on its goal. Reverses URLs only: no query."""
    slug = finding.goal.slug
    if finding.milestone is not None:
        # The milestone's page: its update form for editors, its record for others.
        url = reverse("milestone_detail", kwargs={"slug": slug, "pk": finding.milestone.pk})
        return url, perms.update_milestones
    if finding.indicator is not None:
        if perms.edit_plan:
            kwargs = {"slug": slug, "pk": finding.indicator.pk}
            return reverse("indicator_edit", kwargs=kwargs), True
        return f"{reverse('goal_plan', kwargs={'slug': slug})}#indicators", False
    if finding.strategy is not None:
        if perms.edit_plan:
            kwargs = {"slug": slug, "pk": finding.strategy.pk}
            return reverse("strategy_edit", kwargs=kwargs), True
        return reverse("goal_dashboard", kwargs={"slug": slug}), False
    if perms.edit_plan:
        return reverse("goal_edit", kwargs={"slug": slug}), True
    return reverse("goal_plan", kwargs={"slug": slug}), False


def rows_for(findings: list[Finding], user) -> list[FindingRow]:
    """``findings`` with the link to fix each, for ``user`` (their roles are read once a
    request; the permissions once a goal)."""
    perms: dict[int, access.GoalPermissions] = {}
    rows = []
    for finding in findings:
        goal = finding.goal
        if goal.pk not in perms:
            perms[goal.pk] = access.permissions_for(user, goal)
        href, editable = finding_link(finding, perms[goal.pk])
        rows.append(FindingRow(finding=finding, href=href, editable=editable))
    return rows


# -- the dashboard's line ------------------------------------------------------------------


def dashboard_findings(user, goal: Goal, *, milestones) -> list[FindingRow]:
    """The goal's findings for its dashboard, from the plan's milestones it already
    holds (each with its strategy): two queries (indicators, due revisions)."""
    return rows_for(goal_findings(goal, milestones=milestones), user)


# -- the report ----------------------------------------------------------------------------


def _choice(label, choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", ""), *choices],
        required=False,
        # Never echo the value: the goal filter must not tell "not yours" from "none".
        error_messages={"invalid_choice": _("Not one of the listed choices, so it was ignored.")},
    )


class QualityFilterForm(ListFilterForm):
    """The report's GET filters: goal (slug), rule (Q1…), agency (id), closed goals."""

    closed = forms.BooleanField(label=_("Include closed goals"), required=False)

    def __init__(self, data, *, goals: list[Goal]):
        super().__init__(data)
        agencies = {goal.agency_id: goal.agency for goal in goals}
        self.fields["goal"] = _choice(_("Goal"), [(goal.slug, goal.slug) for goal in goals])
        self.fields["rule"] = _choice(_("Rule"), Rule.choices)
        self.fields["agency"] = _choice(_("Agency"), [(str(pk), pk) for pk in agencies])
        self.goal_options = [(goal.slug, goal.short_name or goal.title) for goal in goals]
        self.agency_options = sorted(
            ((str(pk), agency.name) for pk, agency in agencies.items()), key=lambda o: o[1]
        )
        self.rule_options = Rule.choices


@dataclass(frozen=True)
class RuleCount:
    rule: Rule
    count: int


@dataclass
class QualityReport:
    form: QualityFilterForm
    rows: list[FindingRow]
    rule_counts: list[RuleCount]  # every rule, over the goal and agency filters
    goal_count: int  # goals checked
    page_obj: Page | None = None

    @property
    def total(self) -> int:
        return len(self.rows)


def quality_report(user, params, *, paginate: bool = True) -> QualityReport:
    """The findings of every goal ``user`` may see (active ones unless asked for closed
    ones too), filtered by ``params``: four queries, plus the reader's roles."""
    goals = list(access.visible_goals(user).select_related("agency").order_by("title", "pk"))
    form = QualityFilterForm(params, goals=goals)
    if slug := form.value("goal"):
        # A goal asked for by name is shown even if closed.
        goals = [goal for goal in goals if goal.slug == slug]
    elif not form.value("closed"):
        goals = [goal for goal in goals if not goal.is_closed]
    if agency := form.value("agency"):
        goals = [goal for goal in goals if str(goal.agency_id) == agency]
    findings = [f for goal_list in findings_for_goals(goals).values() for f in goal_list]
    by_rule = Counter(finding.rule for finding in findings)
    rule_counts = [RuleCount(rule=rule, count=by_rule[rule]) for rule in Rule]
    if rule := form.value("rule"):
        findings = [finding for finding in findings if finding.rule == rule]
    rows = rows_for(findings, user)
    report = QualityReport(form=form, rows=rows, rule_counts=rule_counts, goal_count=len(goals))
    if paginate:
        report.page_obj = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
    return report


CSV_HEADER = ["goal", "agency", "rule", "rule name", "object", "object id", "message", "link"]


class _Echo:
    def write(self, value):
        return value


def csv_lines(report: QualityReport, base_url: str) -> Iterator[str]:
    """The report's rows (all of them, not a page) as CSV lines, header first, every
    cell neutralised against spreadsheet formulas. Worded in the language the report was
    built in (the export builds it in English, as the audit log's CSV is)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in report.rows:
        finding = row.finding
        cells = [
            finding.goal.short_name or finding.goal.title,
            finding.goal.agency.name,
            finding.rule.value,
            str(finding.rule.label),
            row.object_label,
            finding.subject.pk,
            finding.message,
            base_url + row.href,
        ]
        yield writer.writerow([safe_cell(cell) for cell in cells])
