"""The plan as of a moment (dashboard and published plan, ``?as_of=``) and the change since
last quarter, on the real SDIF plan after a known sequence of changes (asof_story)."""

import pytest
from django.urls import reverse

from sdif_tracker.pages import asof
from strategies.periods import FiscalPeriod
from tests.helpers import groups, row
from tests.html_dom import parse
from tests.sdif_tracker.asof_story import NEW_TITLE, STRATEGY_4_TITLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, clock, story, admin_user):
    """An admin reading on 25 August 2019 (Q4 FY19): the last quarter ended 30 June."""
    clock.set(2019, 8, 25, 9, 0)
    client.force_login(admin_user)
    return client


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


def dashboard(client, goal, **params):
    return get(client, reverse("goal_dashboard", kwargs={"slug": goal.slug}), **params)


def plan(client, goal, **params):
    return get(client, reverse("goal_plan", kwargs={"slug": goal.slug}), **params)


def cells(tr):
    return [node.visible_text for node in tr.find_all() if node.tag in ("th", "td")]


def shown(page):
    """{position: (status, since last quarter)} of every dashboard row."""
    return {
        int(tr.attrs["data-milestone-position"]): (cells(tr)[3], cells(tr)[4])
        for tr in page.find_all("tr", data_milestone_position=True)
    }


def banner(page):
    return page.find("div", class_="asof-banner").visible_text


# -- parsing the moment --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("2019-06-30", "2019-06-30T23:59:59.999999-04:00"),
        ("Q3 FY19", "2019-06-30T23:59:59.999999-04:00"),
        ("q1 fy 2019", "2018-12-31T23:59:59.999999-05:00"),
        ("FY18", "2018-09-30T23:59:59.999999-04:00"),
        (" 2019-05-15 ", "2019-05-15T23:59:59.999999-04:00"),
    ],
)
def test_a_moment_is_a_date_or_the_end_of_a_period(text, end):
    moment = asof.parse_moment(text, today=FiscalPeriod(2019, 4).end)
    assert moment.day.isoformat() == end[:10]
    # The end of that day where the agency is (settings.TIME_ZONE), not in UTC.
    assert moment.at.isoformat() == end


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("yesterday", "“yesterday” is not a date or a quarter"),
        ("2019-02-30", "“2019-02-30” is not a date or a quarter"),
        ("Ongoing", "“Ongoing” has no end"),
        ("Q1 FY20", "31 December 2019 is in the future."),
    ],
)
def test_a_moment_that_is_not_understood_says_why(text, problem):
    with pytest.raises(ValueError, match=problem):
        asof.parse_moment(text, today=FiscalPeriod(2019, 4).end)


def test_the_label_names_the_quarter():
    assert asof.Moment(FiscalPeriod(2019, 3).end).label == (
        "as recorded on 30 June 2019 (end of Q3 FY19)"
    )
    assert asof.parse_moment("2019-05-15").label == "as recorded on 15 May 2019 (in Q3 FY19)"


# -- the dashboard as it stood ---------------------------------------------------------------


def test_the_dashboard_shows_the_plan_at_the_end_of_q1_fy19_as_imported(viewer, story):
    page = dashboard(viewer, story.goal, as_of="Q1 FY19")
    assert banner(page) == (
        "You are looking at the plan as recorded on 31 December 2018 (end of Q1 FY19). "
        "Back to the current plan."
    )
    assert groups(page) == [
        ("strategy-1", [5, 7, 10]),  # 10 deleted later: present then
        ("strategy-2", [6, 8]),  # 9 not added yet
        ("strategy-3", [1, 3, 4]),
        ("strategy-4", [2]),
    ]
    for position, (status, comment) in story.originals.items():
        tr = row(page, position)
        assert tr.find("td", class_="milestone-comment").visible_text == (comment or "—")
        assert (
            cells(tr)[3]
            == {
                "on_track": "On track",
                "delayed": "Delayed",
                "tbd": "TBD",
                "not_started": "Not started",
            }[status]
        )
    # Nothing to change in the past: no Update buttons, no action column.
    assert page.find_all("a", id="update-button-" + str(story.milestone(1).pk)) == []
    assert len(cells(row(page, 1))) == 8


def test_each_quarter_end_shows_the_statuses_comments_and_dues_of_that_moment(viewer, story):
    q2 = dashboard(viewer, story.goal, as_of="2019-03-31")
    assert cells(row(q2, 3))[3] == "At risk"
    assert row(q2, 3).find("td", class_="milestone-comment").text == "Meeting postponed."
    assert cells(row(q2, 4))[1:4] == ["Q4 FY19", "—", "On track"]

    q3 = dashboard(viewer, story.goal, as_of="Q3 FY19")
    assert cells(row(q3, 4))[1:4] == ["Q4 FY19", "FY20 (originally Q4 FY19)", "Delayed"]
    assert row(q3, 1).find("td", class_="milestone-comment").text == "OFAC shared more."
    assert [p for _, ps in groups(q3) for p in ps if p == 9] == [9]
    assert row(q3, 9).find("th").visible_text.startswith(NEW_TITLE)
    assert row(q3, 10)  # deleted only in Q4
    assert cells(row(q3, 2))[3] == "On track"

    q4 = get(viewer, story.goal.get_absolute_url(), as_of="2019-08-24")
    positions = [p for _, ps in groups(q4) for p in ps]
    assert 10 not in positions and 9 in positions
    assert cells(row(q4, 2))[3] == "Completed"


def test_the_matrix_and_the_quarter_grouping_are_of_that_moment(viewer, story):
    page = dashboard(viewer, story.goal, as_of="Q3 FY19", group="quarter")
    assert [key for key, _ in groups(page)] == [
        "Q1 FY19",
        "Q4 FY19",
        "FY19",
        "Q2 FY20",
        "FY20",
        "Ongoing",
    ]
    assert dict(groups(page))["FY20"] == [4]
    matrix = page.find("table", data_matrix=True)
    assert matrix.find("tfoot").visible_text.split()[-1] == "10"


def test_filters_apply_to_the_past_and_keep_the_moment(viewer, story):
    page = dashboard(viewer, story.goal, as_of="Q2 FY19", status="at_risk")
    assert groups(page) == [("strategy-3", [3])]
    form = page.find("form", class_="filter-form")
    assert form.find("input", type="hidden", name="as_of").attrs["value"] == "2019-03-31"
    # Overdue on that day: Q1 FY19 had ended by 31 March 2019, TBD #7 was overdue then.
    overdue = dashboard(viewer, story.goal, as_of="Q2 FY19", overdue="1")
    assert [p for _, ps in groups(overdue) for p in ps] == [7]


def test_a_milestone_deleted_since_is_shown_without_a_link(viewer, story):
    page = dashboard(viewer, story.goal, as_of="Q3 FY19")
    title = row(page, 10).find("th")
    assert title.find_all("a") == []
    assert "Deleted since" in title.visible_text
    assert row(page, 5).find("a").attrs["href"] == story.milestone(5).get_absolute_url()


def test_a_moment_before_the_goal_existed_says_so(viewer, story):
    page = dashboard(viewer, story.goal, as_of="2018-10-04")
    assert banner(page) == (
        "There is no plan as recorded on 4 October 2018 (in Q1 FY19): the goal did not exist "
        "yet. Back to the current plan."
    )
    assert page.find_all("tr", data_milestone_position=True) == []
    plan_page = plan(viewer, story.goal, as_of="2018-10-04")
    assert "There is no plan as recorded on 4 October 2018" in banner(plan_page)
    assert plan_page.find_all("article") == []


@pytest.mark.parametrize("value", ["not-a-date", "2019-13-01", "Q5 FY19", "Ongoing", "2030-01-01"])
def test_a_bad_moment_shows_a_message_and_the_current_plan(viewer, story, value):
    page = dashboard(viewer, story.goal, as_of=value)
    assert "Showing the current plan." in page.find("div", id="messages").visible_text
    assert page.find_all("div", class_="asof-banner") == []
    assert cells(row(page, 2))[3] == "Completed"  # today's plan, editable
    assert row(page, 2).find("a", id=f"update-button-{story.milestone(2).pk}")
    assert "Showing the current plan." in plan(viewer, story.goal, as_of=value).text


def test_the_picker_offers_the_goals_quarters_and_a_date(viewer, story):
    page = dashboard(viewer, story.goal)
    select = page.find("form", data_asof_quarter=True).find("select")
    options = select.find_all("option")
    # The goal's first quarter is Q1 FY18; it reports on Q4 FY19 (Q3 FY19 published).
    assert select.attrs["name"] == "quarter"
    assert [o.attrs["value"] for o in options][:2] == ["Q4 FY19", "Q3 FY19"]
    assert options[-1].attrs["value"] == "Q1 FY18"
    date_input = page.find("form", data_asof_date=True).find("input", type="date")
    assert date_input.attrs["name"] == "as_of"


# -- the published plan as it stood --------------------------------------------------------


def test_the_plan_shows_the_key_milestones_of_that_moment(viewer, story):
    page = plan(viewer, story.goal, as_of="Q3 FY19")
    assert banner(page).startswith(
        "You are looking at the plan as recorded on 30 June 2019 (end of Q3 FY19)."
    )
    table = page.find("table", class_="plan-milestones")
    rows = table.find("tbody").find_all("tr")
    assert [int(tr.attrs["data-milestone-position"]) for tr in rows] == list(range(1, 11))
    # Changed in an update for Q2 FY19: as reported for Q2 it was already so.
    assert cells(rows[3])[1:5] == ["Q4 FY19 (revised: FY20)", "3", "Delayed for FY20", "No change"]
    assert cells(rows[3])[-1] == "Moved to next year."
    strategies = [li.text for li in page.find("section", id="strategies").find_all("li")]
    assert not any(STRATEGY_4_TITLE in s for s in strategies)  # retitled only in Q4
    # No edit links in the past.
    assert (
        page.find_all("a", href=reverse("progress_edit", kwargs={"slug": story.goal.slug})) == []
    )


def test_the_plan_after_the_retitle_shows_the_new_strategy_title(viewer, story):
    page = plan(viewer, story.goal, as_of="2019-08-21")
    strategies = [li.text for li in page.find("section", id="strategies").find_all("li")]
    assert strategies[3] == f"Strategy 4: {STRATEGY_4_TITLE}"
    positions = [
        int(tr.attrs["data-milestone-position"])
        for tr in page.find("table", class_="plan-milestones").find("tbody").find_all("tr")
    ]
    assert positions == [1, 2, 3, 4, 5, 6, 7, 8, 9]


# -- change since last quarter -----------------------------------------------------------------


def test_change_since_last_quarter_on_the_q3_dashboard(viewer, story):
    # As recorded on 30 June 2019, compared with the plan as reported for Q2 FY19 by
    # then: the Q2 updates of #1, #3 and #4; the imported plan belongs to Q3 FY19.
    page = dashboard(viewer, story.goal, as_of="Q3 FY19")
    assert shown(page) == {
        1: ("On track", "No change"),
        2: ("On track", "New"),
        3: ("At risk", "No change"),
        4: ("Delayed", "No change"),
        5: ("Delayed", "New"),
        6: ("Delayed", "New"),
        7: ("TBD", "New"),
        8: ("TBD", "New"),
        9: ("Not started", "New"),
        10: ("Not started", "No change"),  # added while the goal reported on Q1 FY19
    }
    assert page.find("p", data_since=True).text == (
        "“Since last quarter” shows what changed since the plan as reported for Q2 FY19."
    )


def test_change_since_last_quarter_on_the_current_dashboard_and_plan(viewer, story):
    # The goal reports on Q4 FY19: compared with the plan as reported for Q3 FY19.
    page = dashboard(viewer, story.goal)
    since = {p: s for p, (_, s) in shown(page).items()}
    assert since == {
        1: "No change",
        2: "Status: On track → Completed Comment changed",
        3: "No change",
        4: "No change",
        5: "No change",
        6: "No change",
        7: "No change",
        8: "No change",
        9: "No change",
    }
    table = plan(viewer, story.goal).find("table", class_="plan-milestones")
    plan_since = [
        tr.find("td", class_="since-last-quarter").visible_text
        for tr in table.find("tbody").find_all("tr")
    ]
    assert plan_since == [since[p] for p in (1, 2, 3, 4, 5, 6, 7, 8, 9)]


def test_a_moved_milestone_says_where_it_went(viewer, story):
    milestone = story.milestone(7)
    with_strategy_3 = story.goal.strategies.get(number=3)
    from milestones.services import move_milestone

    move_milestone(
        milestone=milestone,
        user=story.leader,
        strategy=with_strategy_3,
        expected_version=milestone.version,
    )
    page = dashboard(viewer, story.goal)
    assert cells(row(page, 7))[4] == "Moved to strategy 3"


def test_the_htmx_row_after_a_status_update_carries_the_change_column(viewer, story):
    milestone = story.milestone(5)
    url = reverse("milestone_update", kwargs={"slug": story.goal.slug, "pk": milestone.pk})
    data = {"status": "at_risk", "comment": "Slipping.", "period": "Q4 FY19", "revised_due": ""}
    data["version"] = milestone.version
    response = viewer.post(
        url,
        {f"m{milestone.pk}-{key}": value for key, value in data.items()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    tr = parse(response.content).find("tr")
    title, due, revised, status, since, owner, comment, updated, action = cells(tr)
    assert status == "At risk"
    assert since == "Status: Delayed → At risk Comment changed"
    # The same number of cells as the dashboard's header; the form opens in the edit
    # panel, never in the table.
    header = dashboard(viewer, story.goal).find("table", class_="milestone-table")
    assert len(header.find("thead").find_all("th")) == 9
    panel = parse(viewer.get(url, HTTP_HX_REQUEST="true").content)
    assert panel.find("form", data_panel_form=True) is not None
    assert panel.find_all("tr") == []


# -- query counts ----------------------------------------------------------------------------


def add_versions(goal, strategies, count, versions, start=0):
    """``count`` milestones, each saved ``versions`` times with a new status and comment."""
    from audit.history import recorded_change
    from milestones.models import Status
    from tests.factories import MilestoneFactory

    statuses = list(Status)
    for index in range(start, start + count):
        milestone = MilestoneFactory(
            goal=goal, strategy=strategies[index % len(strategies)], position=index + 1
        )
        for version in range(versions):
            with recorded_change(reason=f"Change {version}"):
                milestone.status = statuses[(index + version) % len(statuses)]
                milestone.comment = f"Comment {version}"
                milestone.save()


@pytest.fixture
def sized_goal(clock, db):
    from tests.factories import GoalFactory, ProgressSummaryFactory, StrategyFactory

    clock.set(2019, 2, 1, 9, 0)
    goal = GoalFactory()
    strategies = [StrategyFactory(goal=goal, number=n) for n in (1, 2, 3)]
    ProgressSummaryFactory(goal=goal)
    return goal, strategies


def count_queries(client, url, params, milestones):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    page = parse(response.content)
    # Every milestone of the moment is on the page (the filtered one: a share of them).
    rows = page.find_all("tr", data_milestone_position=True) or page.find_all(
        "tr", data_milestone_diff=True
    )
    if "status" in params:
        assert 0 < len(rows) < milestones
    else:
        assert len(rows) == milestones
    return len(queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("goal_dashboard", {"as_of": "2019-05-01"}),
        ("goal_dashboard", {"as_of": "2019-05-01", "group": "quarter", "status": "tbd"}),
        ("goal_plan", {"as_of": "2019-05-01"}),
        ("goal_compare", {"from": "Q2 FY19", "to": "Q3 FY19"}),
    ],
    ids=["dashboard", "dashboard-filtered", "plan", "compare"],
)
def test_history_pages_run_the_same_queries_for_10_and_100_milestones(
    client, clock, admin_user, sized_goal, name, params
):
    goal, strategies = sized_goal
    add_versions(goal, strategies, 10, versions=2)
    clock.set(2019, 5, 20, 9, 0)
    client.force_login(admin_user)
    url = reverse(name, kwargs={"slug": goal.slug})
    small = count_queries(client, url, params, 10)

    clock.set(2019, 3, 1, 9, 0)
    add_versions(goal, strategies, 90, versions=6, start=10)
    clock.set(2019, 5, 20, 9, 0)
    client.force_login(admin_user)
    assert count_queries(client, url, params, 100) == small
    assert small <= 12
