"""The portfolio in pages of 50 goals, with a search and a switch between active and
closed goals: what a reader of a large portfolio sees, what a bad page number or search
gets, and overdue counted by each goal's reporting quarter."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from milestones.models import Risk, Status
from sdif_tracker.pages.portfolio import PORTFOLIO_PAGE_SIZE
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def portfolio(client, **params):
    response = client.get(reverse("portfolio"), params)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


def goal_titles(page):
    return [row.find("a").text for row in page.find("tbody").find_all("tr", data_goal=True)]


def make_goals(count, **fields):
    return [GoalFactory(title=f"Goal {index:03d}", **fields) for index in range(1, count + 1)]


def test_a_large_portfolio_comes_in_pages_of_50_with_previous_and_next(staff_client):
    make_goals(120)

    first = portfolio(staff_client)
    assert PORTFOLIO_PAGE_SIZE == 50
    assert goal_titles(first) == [f"Goal {i:03d}" for i in range(1, 51)]
    assert first.find("p", data_portfolio_count=True).text == "Goals 1–50 of 120."
    pages = first.find("nav", data_portfolio_pages=True)
    assert "Page 1 of 3" in pages.text
    assert pages.find("a", rel="next").attrs["href"] == "?page=2"
    assert pages.find("a", data_page_link="last").attrs["href"] == "?page=3"
    assert not pages.find_all("a", rel="prev")
    assert not pages.find_all("a", data_page_link="first")

    last = portfolio(staff_client, page=3)
    assert goal_titles(last) == [f"Goal {i:03d}" for i in range(101, 121)]
    assert last.find("p", data_portfolio_count=True).text == "Goals 101–120 of 120."
    assert last.find("a", rel="prev").attrs["href"] == "?page=2"
    assert last.find("a", data_page_link="first").attrs["href"] == "?page=1"
    assert not last.find_all("a", rel="next")
    assert not last.find_all("a", data_page_link="last")


def test_a_small_portfolio_has_no_page_links(staff_client):
    make_goals(3)

    page = portfolio(staff_client)

    assert len(goal_titles(page)) == 3
    assert not page.find_all("nav", data_portfolio_pages=True)
    assert page.find("p", data_portfolio_count=True).text == "Goals 1–3 of 3."


@pytest.mark.parametrize(
    ("asked", "message", "shown"),
    [
        ("abc", "“abc” is not a page number; showing page 1.", "Goals 1–50 of 60."),
        ("0", "There is no page 0; showing page 1 of 2.", "Goals 1–50 of 60."),
        ("99", "There is no page 99; showing page 2 of 2.", "Goals 51–60 of 60."),
        ("-3", "There is no page -3; showing page 1 of 2.", "Goals 1–50 of 60."),
    ],
)
def test_a_bad_page_number_says_so_and_shows_the_nearest_page(staff_client, asked, message, shown):
    make_goals(60)

    page = portfolio(staff_client, page=asked)

    assert page.find("div", data_portfolio_problems=True).text == message
    assert page.find("p", data_portfolio_count=True).text == shown


def test_the_search_finds_goals_by_title_short_name_or_agency_and_pages_within_them(
    staff_client,
):
    make_goals(55, agency=AgencyFactory(name="Department of Energy"))
    GoalFactory(title="Counter illicit finance", short_name="SDIF")
    GoalFactory(title="Modernize payments", short_name="PAY")

    by_title = portfolio(staff_client, q="illicit")
    assert goal_titles(by_title) == ["Counter illicit finance"]
    assert by_title.find("p", data_portfolio_count=True).text == ("1 goal. Matching “illicit”.")
    assert by_title.find("input", id="portfolio-q").attrs["value"] == "illicit"
    assert goal_titles(portfolio(staff_client, q="pay")) == ["Modernize payments"]

    by_agency = portfolio(staff_client, q="energy", page=2)
    assert goal_titles(by_agency) == [f"Goal {i:03d}" for i in range(51, 56)]
    assert by_agency.find("a", rel="prev").attrs["href"] == "?q=energy&page=1"


def test_a_search_that_finds_nothing_says_so(staff_client):
    make_goals(2)

    page = portfolio(staff_client, q="<script>nothing</script>")

    assert not page.find_all("tbody")
    assert "No goal you may see matches “<script>nothing</script>”." in page.text
    assert (
        b"<script>nothing"
        not in staff_client.get(reverse("portfolio"), {"q": "<script>nothing</script>"}).content
    )


def test_an_overlong_search_is_ignored_with_a_message(staff_client):
    make_goals(2)

    page = portfolio(staff_client, q="x" * 201)

    assert page.find("div", data_portfolio_problems=True).text == (
        "The search text is longer than 200 characters, so it was ignored."
    )
    assert len(goal_titles(page)) == 2


def test_pages_and_counts_leave_out_goals_the_reader_may_not_see(client):
    reader = UserFactory()
    client.force_login(reader)
    visible = make_goals(52, sensitivity=Sensitivity.INTERNAL)
    hidden = GoalFactory(title="Goal 000 restricted", sensitivity=Sensitivity.RESTRICTED)
    member_of = GoalFactory(title="Goal 999 restricted", sensitivity=Sensitivity.RESTRICTED)
    MembershipFactory(goal=member_of, user=reader, role=Role.REVIEWER)

    first = portfolio(client)
    last = portfolio(client, page=2)

    assert first.find("p", data_portfolio_count=True).text == "Goals 1–50 of 53."
    shown = goal_titles(first) + goal_titles(last)
    assert shown == [goal.title for goal in visible] + [member_of.title]
    assert hidden.title not in shown
    assert portfolio(client, q="restricted").find("p", data_portfolio_count=True).text == (
        "1 goal. Matching “restricted”."
    )


def test_a_search_with_control_characters_is_ignored_with_a_message(staff_client):
    make_goals(2)

    page = portfolio(staff_client, q="a\x00b")  # PostgreSQL refuses a NUL outright

    assert page.find("div", data_portfolio_problems=True).text == (
        "The search text contains control characters, so it was ignored."
    )
    assert len(goal_titles(page)) == 2


def test_page_links_drop_an_ignored_search_and_keep_one_in_force(staff_client):
    make_goals(60)

    ignored = portfolio(staff_client, q="x" * 201)
    kept = portfolio(staff_client, q="Goal")

    assert ignored.find("a", rel="next").attrs["href"] == "?page=2"
    assert kept.find("a", rel="next").attrs["href"] == "?q=Goal&page=2"


def test_a_long_bad_page_number_is_cut_short_in_the_message(staff_client):
    make_goals(2)

    page = portfolio(staff_client, page="9" * 15 + "x" * 100)

    assert page.find("div", data_portfolio_problems=True).text == (
        f"“{'9' * 15 + 'x' * 5}…” is not a page number; showing page 1."
    )


def test_goals_with_the_same_title_keep_one_order_across_pages(staff_client):
    twins = [GoalFactory(title="Same title") for _ in range(PORTFOLIO_PAGE_SIZE + 5)]

    shown = [
        row.attrs["data-goal"]
        for number in (1, 2)
        for row in portfolio(staff_client, page=number).find("tbody").find_all("tr")
    ]

    assert shown == [goal.slug for goal in sorted(twins, key=lambda goal: goal.pk)]


# -- active and closed goals; overdue by each goal's reporting quarter ------------------------


def published(goal, period):
    return ProgressSummaryFactory(
        goal=goal, period=period, risk=Risk.LOW, published_at=timezone.now()
    )


def test_active_goals_are_listed_by_default_with_a_switch_to_the_closed_ones(staff_client):
    make_goals(2)
    GoalFactory(title="Finished goal", closed_at=timezone.now())

    active = portfolio(staff_client)
    closed = portfolio(staff_client, state="closed")

    assert goal_titles(active) == ["Goal 001", "Goal 002"]
    assert goal_titles(closed) == ["Finished goal"]
    links = {a.attrs["data-state-link"]: a for a in active.find_all("a", data_state_link=True)}
    assert links["active"].text == "Active goals (2)"
    assert links["closed"].text == "Closed goals (1)"
    assert links["closed"].attrs["href"] == "?state=closed"
    assert links["active"].attrs.get("aria-current") == "page"
    row = closed.find("tr", data_goal=True)
    assert "Closed on" in row.find("div", data_goal_clock=True).text


def test_the_switch_keeps_the_search_and_counts_what_it_finds(staff_client):
    GoalFactory(title="Illicit finance FY19", closed_at=timezone.now())
    GoalFactory(title="Illicit finance FY21")
    GoalFactory(title="Something else")

    page = portfolio(staff_client, q="illicit")

    links = {a.attrs["data-state-link"]: a for a in page.find_all("a", data_state_link=True)}
    assert links["active"].text == "Active goals (1)"
    assert links["closed"].text == "Closed goals (1)"
    assert links["closed"].attrs["href"] == "?q=illicit&state=closed"
    assert goal_titles(page) == ["Illicit finance FY21"]


def test_overdue_counts_follow_each_goals_reporting_quarter(staff_client, monkeypatch):
    """Two goals of FY18–FY19: one reports on Q4 FY19 (Q3 published), the other on Q2 FY19
    (Q1 published). A milestone due Q1 FY19 is overdue in both; one due Q3 FY19 only in
    the first; in 2019 as in 2026."""
    ahead = GoalFactory(title="Ahead", reporting_quarter_set=None)
    published(ahead, FiscalPeriod(2019, 3))
    behind = GoalFactory(title="Behind", reporting_quarter_set=None)
    published(behind, FiscalPeriod(2019, 1))
    for goal in (ahead, behind):
        MilestoneFactory(goal=goal, due=FiscalPeriod(2019, 1), status=Status.ON_TRACK)
        MilestoneFactory(goal=goal, due=FiscalPeriod(2019, 3), status=Status.ON_TRACK)
        MilestoneFactory(goal=goal, due=FiscalPeriod(2018, 1), status=Status.COMPLETED)

    for year, month in ((2019, 8), (2026, 11)):
        moment = datetime.datetime(year, month, 15, 12, tzinfo=datetime.UTC)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        staff_client.force_login(get_user_model().objects.get(is_superuser=True))

        page = portfolio(staff_client)

        counts = {
            row.find("a").text: row.find("td", data_overdue_count=True).attrs["data-overdue-count"]
            for row in page.find("tbody").find_all("tr", data_goal=True)
        }
        assert counts == {"Ahead": "2", "Behind": "1"}
        clocks = [div.text for div in page.find_all("div", data_goal_clock=True)]
        assert clocks == ["Reporting on Q4 FY19", "Reporting on Q2 FY19"]


def test_the_query_count_stays_fixed_with_closed_goals_and_different_quarters(staff_client):
    def add_goals(count):
        for index in range(count):
            goal = GoalFactory(reporting_quarter_set=None)
            published(goal, FiscalPeriod(2018 + index % 2, 1 + index % 3))
            MilestoneFactory(goal=goal, due=FiscalPeriod(2018, 4))
            GoalFactory(closed_at=timezone.now())

    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            portfolio(staff_client, **params)
        return len(captured)

    add_goals(3)
    small = queries(), queries(state="closed")
    add_goals(12)
    assert (queries(), queries(state="closed")) == small


# -- the status bar ------------------------------------------------------------------------


def test_each_goal_shows_its_milestones_as_a_status_bar_with_the_counts_in_words(staff_client):
    goal = GoalFactory(title="Barred")
    for status, count in ((Status.ON_TRACK, 5), (Status.AT_RISK, 2), (Status.COMPLETED, 1)):
        for _ in range(count):
            MilestoneFactory(goal=goal, status=status)
    GoalFactory(title="Bare")

    page = portfolio(staff_client)

    row = page.find("tr", data_goal=goal.slug)
    bar = row.find("div", data_status_bar=True)
    assert bar.find("p").visible_text == ("8 key milestones: 5 on track, 2 at risk, 1 completed")
    drawing = bar.find("svg", class_="status-bar")
    assert drawing.attrs["aria-hidden"] == "true"
    # One segment per status, in the scale's order, as wide as its share, with its shape.
    segments = drawing.find_all("g", data_segment=True)
    assert [(g.attrs["data-segment"], g.find("rect").attrs["width"]) for g in segments] == [
        ("on_track", "62.5%"),
        ("at_risk", "25.0%"),
        ("completed", "12.5%"),
    ]
    assert [g.find("rect").attrs["x"] for g in segments] == ["0.0%", "62.5%", "87.5%"]
    assert all(f"status-{g.attrs['data-segment']}" in g.attrs["class"] for g in segments)
    assert all(g.find("path") for g in segments)

    bare = page.find("tr", data_goal=GoalFactory._meta.model.objects.get(title="Bare").slug)
    assert not bare.find_all("div", data_status_bar=True)
    assert "No key milestones yet" in bare.visible_text


def test_the_status_key_is_shown_once_above_the_goals(staff_client):
    for index in range(3):
        MilestoneFactory(goal=GoalFactory(title=f"Goal {index}"), status=Status.DELAYED)

    page = portfolio(staff_client)

    legends = page.find_all("div", data_status_legend=True)
    assert len(legends) == 1
    assert " ".join(legends[0].visible_text.split()) == (
        "Status key: TBD Not started On track At risk Delayed Completed Cancelled"
    )


def test_the_status_bar_in_spanish(staff_client):
    goal = GoalFactory()
    MilestoneFactory(goal=goal, status=Status.TBD)
    MilestoneFactory(goal=goal, status=Status.DELAYED)

    response = staff_client.get(reverse("portfolio"), headers={"accept-language": "es"})

    bar = parse(response.content).find("div", data_status_bar=True)
    # The statuses in the reader's language, inside the sentence.
    assert bar.find("p").visible_text.endswith(": 1 por definir, 1 retrasado")
