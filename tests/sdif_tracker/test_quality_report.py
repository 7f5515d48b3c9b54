"""The quality check's pages: the dashboard's one line, and the Quality report across the
goals a reader may see (filters, counts per rule, CSV, visibility, fixed queries)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from milestones.models import Status
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    IndicatorFactory,
    MembershipFactory,
    MilestoneFactory,
    StrategyFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

MEASURABLE = "Reduce the backlog of cases by 20 percent by September 2019."
REPORT = reverse("quality_report")
EXPORT = reverse("quality_export")


def flagged_goal(**kwargs):
    """A goal with two findings: a milestone worded as an activity (Q3) and one without
    an owner (Q4)."""
    values = {"statement": MEASURABLE, "leader_name": "Jane Doe"}
    goal = GoalFactory(**{**values, **kwargs})
    strategy = StrategyFactory(goal=goal, number=1)
    MilestoneFactory(goal=goal, strategy=strategy, title="Attend the plenary", owner="OFAC")
    MilestoneFactory(goal=goal, strategy=strategy, title="Publish the typology", owner="")
    return goal


def clean_goal(**kwargs):
    values = {"statement": MEASURABLE, "leader_name": "Jane Doe"}
    goal = GoalFactory(**{**values, **kwargs})
    MilestoneFactory(goal=goal, title="Publish the typology", owner="OFAC")
    return goal


def finding_rows(response):
    page = parse(response.content.decode())
    return [
        (node.attrs["data-goal"], node.attrs["data-finding"])
        for node in page.find_all("tr", data_finding=True)
    ]


def csv_rows(response):
    text = response.content.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def reader(client):
    user = UserFactory()
    client.force_login(user)
    return user


# -- the dashboard's line ---------------------------------------------------------------


def test_the_dashboard_shows_one_line_that_opens_the_findings(client, reader):
    goal = flagged_goal(sensitivity=Sensitivity.INTERNAL)
    response = client.get(goal.get_absolute_url())
    page = parse(response.content.decode())
    check = page.find("details", data_quality_check=True)
    assert check.find("summary").text == "Quality check: 2 findings"
    items = check.find_all("li", data_finding=True)
    assert [item.attrs["data-finding"] for item in items] == ["Q3", "Q4"]
    # Each links to the milestone's page, where its update is written.
    links = [item.find("a").attrs["href"] for item in items]
    assert all(f"/goals/{goal.slug}/milestones/" in link for link in links)
    assert "Attend the plenary" in items[0].text


def test_the_dashboard_says_when_there_are_no_findings(client, reader):
    goal = clean_goal(sensitivity=Sensitivity.INTERNAL)
    page = parse(client.get(goal.get_absolute_url()).content.decode())
    check = page.find("details", data_quality_check=True)
    assert check.find("summary").text == "Quality check: no findings"


def test_goal_findings_link_to_the_edit_page_for_those_who_may_edit(admin_client):
    goal = clean_goal(leader_name="")
    page = parse(admin_client.get(goal.get_absolute_url()).content.decode())
    item = page.find("details", data_quality_check=True).find("li", data_finding="Q8")
    assert item.find("a").attrs["href"] == reverse("goal_edit", kwargs={"slug": goal.slug})


def test_goal_findings_link_to_the_plan_for_readers(client, reader):
    goal = clean_goal(leader_name="", sensitivity=Sensitivity.INTERNAL)
    page = parse(client.get(goal.get_absolute_url()).content.decode())
    item = page.find("details", data_quality_check=True).find("li", data_finding="Q8")
    assert item.find("a").attrs["href"] == reverse("goal_plan", kwargs={"slug": goal.slug})


# -- the report ------------------------------------------------------------------------------


def test_the_report_lists_the_findings_of_every_goal_the_reader_sees(client, reader):
    first, second = flagged_goal(), flagged_goal()
    response = client.get(REPORT)
    assert response.status_code == 200
    assert sorted(finding_rows(response)) == sorted(
        [(first.slug, "Q3"), (first.slug, "Q4"), (second.slug, "Q3"), (second.slug, "Q4")]
    )
    counts = parse(response.content.decode()).find("table", data_rule_counts=True)
    assert "2" in counts.find("tr", data_rule="Q3").text
    assert "0" in counts.find("tr", data_rule="Q1").text


def test_an_outsider_never_sees_a_restricted_goals_findings(client, reader):
    restricted = flagged_goal(sensitivity=Sensitivity.RESTRICTED)
    internal = flagged_goal(sensitivity=Sensitivity.INTERNAL)
    rows = finding_rows(client.get(REPORT))
    assert {slug for slug, _rule in rows} == {internal.slug}
    # Asking for it by name tells nothing either: the filter is ignored, as any unknown.
    response = client.get(REPORT, {"goal": restricted.slug})
    assert restricted.title not in response.content.decode()
    assert {slug for slug, _rule in finding_rows(response)} == {internal.slug}
    exported = csv_rows(client.get(EXPORT))
    assert {row["goal"] for row in exported} == {internal.short_name}
    # A member of the restricted goal sees it.
    MembershipFactory(goal=restricted, user=reader, role=Role.REVIEWER)
    assert {slug for slug, _rule in finding_rows(client.get(REPORT))} == {
        internal.slug,
        restricted.slug,
    }


def test_a_reader_who_sees_no_goal_is_refused(client, reader):
    flagged_goal(sensitivity=Sensitivity.RESTRICTED)
    response = client.get(REPORT)
    assert response.status_code == 403
    assert "you see none" in response.content.decode()
    assert client.get(EXPORT).status_code == 403
    # And the navigation does not offer it.
    page = parse(client.get(reverse("portfolio")).content.decode())
    assert not page.find_all("a", data_nav="quality")


def test_the_navigation_offers_the_report_to_those_who_see_goals(client, reader):
    clean_goal()
    page = parse(client.get(reverse("portfolio")).content.decode())
    assert page.find("a", data_nav="quality").attrs["href"] == REPORT


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get(REPORT).status_code == 302


def test_the_report_filters_by_goal_rule_and_agency(client, reader):
    first = flagged_goal()
    other_agency = AgencyFactory(name="Department of Justice", abbreviation="DOJ")
    second = flagged_goal(agency=other_agency)
    assert set(finding_rows(client.get(REPORT, {"goal": first.slug}))) == {
        (first.slug, "Q3"),
        (first.slug, "Q4"),
    }
    assert sorted(finding_rows(client.get(REPORT, {"rule": "Q4"}))) == sorted(
        [(first.slug, "Q4"), (second.slug, "Q4")]
    )
    assert set(finding_rows(client.get(REPORT, {"agency": other_agency.pk}))) == {
        (second.slug, "Q3"),
        (second.slug, "Q4"),
    }
    # Counts per rule follow the goal and agency filters, not the rule's.
    response = client.get(REPORT, {"rule": "Q4", "agency": other_agency.pk})
    counts = parse(response.content.decode()).find("table", data_rule_counts=True)
    assert counts.find("tr", data_rule="Q3").find("td").text == "1"


def test_a_filter_not_understood_is_said_and_ignored(client, reader):
    goal = flagged_goal()
    response = client.get(REPORT, {"rule": "Q99", "agency": "x"})
    assert response.status_code == 200
    page = parse(response.content.decode())
    problems = page.find("div", data_filter_problems=True).text
    assert "Rule" in problems and "Agency" in problems
    assert {slug for slug, _rule in finding_rows(response)} == {goal.slug}
    # The export refuses rather than export something else than asked.
    refused = client.get(EXPORT, {"rule": "Q99"})
    assert refused.status_code == 400
    assert "Nothing was exported" in refused.content.decode()


def test_closed_goals_are_left_out_unless_asked_for(client, reader):
    open_goal = flagged_goal()
    closed = flagged_goal()
    closed.closed_at = timezone.now()
    closed.save()
    assert {slug for slug, _ in finding_rows(client.get(REPORT))} == {open_goal.slug}
    assert {slug for slug, _ in finding_rows(client.get(REPORT, {"closed": "1"}))} == {
        open_goal.slug,
        closed.slug,
    }
    # A closed goal asked for by name is shown.
    assert {slug for slug, _ in finding_rows(client.get(REPORT, {"goal": closed.slug}))} == {
        closed.slug
    }


def test_the_csv_has_the_filtered_rows_neutralised_against_formulas(client, reader):
    goal = flagged_goal()
    MilestoneFactory(goal=goal, title="=HYPERLINK(1) attend", owner="OFAC")
    flagged_goal()
    response = client.get(EXPORT, {"goal": goal.slug})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["rule"] for row in rows] == ["Q3", "Q4", "Q3"]
    assert {row["goal"] for row in rows} == {goal.short_name}
    formula = rows[2]
    assert formula["object"].startswith("Key milestone: =HYPERLINK")
    assert formula["message"].startswith("“=HYPERLINK")
    assert formula["link"].startswith("http://testserver/goals/")
    assert all(not cell.startswith("=") for row in rows for cell in row.values())


def test_the_csv_is_in_english_whatever_the_readers_language(client, reader):
    flagged_goal()
    response = client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="es")
    assert csv_rows(response)[0]["rule name"] == "Milestone names an activity, not a result"


def test_findings_are_paged(client, reader, settings):
    goal = GoalFactory(statement=MEASURABLE, leader_name="Jane Doe")
    strategy = StrategyFactory(goal=goal, number=1)
    for index in range(105):
        MilestoneFactory(goal=goal, strategy=strategy, title=f"Deliver {index}", owner="")
    page_one = client.get(REPORT)
    assert len(finding_rows(page_one)) == 100
    assert "105 findings" in page_one.content.decode()
    assert len(finding_rows(client.get(REPORT, {"page": "2"}))) == 5
    assert len(csv_rows(client.get(EXPORT))) == 105


# -- a fixed number of queries ------------------------------------------------------------------


def add_goals(count, user):
    for index in range(count):
        goal = flagged_goal(
            sensitivity=[Sensitivity.INTERNAL, Sensitivity.RESTRICTED][index % 2],
            leader_name="" if index % 3 else "Jane Doe",
        )
        if index % 4 == 1:
            MembershipFactory(goal=goal, user=user, role=Role.REVIEWER)
        MilestoneFactory(goal=goal, strategy=None, due=FiscalPeriod.ongoing(), owner="")
        MilestoneFactory(
            goal=goal, strategy=None, due=None, status=Status.DELAYED, comment="", owner="x"
        )
        IndicatorFactory(goal=goal, is_published=True, data_source="")


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [REPORT, EXPORT])
@pytest.mark.parametrize("params", [{}, {"rule": "Q2", "closed": "1"}])
def test_the_report_runs_the_same_queries_for_2_and_20_goals(client, reader, url, params):
    add_goals(2, reader)
    small = count_queries(client, url, params)
    add_goals(18, reader)
    assert count_queries(client, url, params) == small
    assert small <= 12
