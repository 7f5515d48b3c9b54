"""What the read-only pages show: the SDIF plan's dashboard groupings and published plan,
filters, the milestone page, the portfolio, sanitising."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from audit.history import recorded_change
from milestones.models import Milestone, Status
from strategies.models import Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
    UserFactory,
)
from tests.helpers import groups, positions, row
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

# A period far enough ahead never to have ended when the suite runs.
FUTURE = FiscalPeriod(2990, 1)


def get_page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


def dashboard(client, goal, **params):
    return get_page(client, reverse("goal_dashboard", kwargs={"slug": goal.slug}), **params)


# -- the SDIF plan on the dashboard ("Done when") ------------------------------------------


def test_sdif_dashboard_groups_milestones_by_strategy(staff_client, sdif_goal):
    page = dashboard(staff_client, sdif_goal)
    assert groups(page) == [
        ("strategy-1", [5, 7]),
        ("strategy-2", [6, 8]),
        ("strategy-3", [1, 3, 4]),
        ("strategy-4", [2]),
    ]
    headings = [section.find("h3").text for section in page.find_all("section", data_group=True)]
    assert headings[0].startswith("Strategy 1: Strengthen U.S./Mexican cooperation")
    assert headings[3] == (
        "Strategy 4: Share operational information on illicit finance activities in the "
        "U.S. and Mexico"
    )


def test_sdif_dashboard_groups_milestones_by_effective_due_quarter(staff_client, sdif_goal):
    page = dashboard(staff_client, sdif_goal, group="quarter")
    assert groups(page) == [
        ("Q1 FY19", [7]),
        ("Q4 FY19", [3, 4, 8]),
        ("FY19", [5, 6]),
        ("Ongoing", [1, 2]),
    ]
    fy19 = page.find("section", data_group="FY19")
    assert "FY19 (originally Q3 FY18)" in row(fy19, 5).text
    assert "FY19 (originally Q4 FY18)" in row(fy19, 6).text


def test_sdif_dashboard_rows_show_what_a_leader_needs(staff_client, sdif_goal):
    page = dashboard(staff_client, sdif_goal)
    cells = [cell.visible_text for cell in row(page, 5).find_all() if cell.tag in ("th", "td")]
    title, due, revised, status, since, owner, comment, updated, action = cells
    assert title.startswith("Develop requirements for data matching")
    # Q3 FY18, revised to FY19: due within Q4 FY19, the quarter the goal reports on.
    assert "Due this quarter" in title and "Overdue" not in title
    assert due == "Q3 FY18"
    assert revised == "FY19 (originally Q3 FY18)"
    assert status == "Delayed"
    # Reporting on Q4 FY19: nothing changed since the plan as reported for Q3 FY19.
    assert since == "No change"
    assert owner == "—"
    assert comment.startswith("Treasury and Mexican authorities are looking")
    assert updated  # a date
    assert action.startswith("Update")  # staff may update
    link = row(page, 5).find("a")
    milestone = Milestone.objects.get(goal=sdif_goal, position=5)
    assert link.attrs["href"] == milestone.get_absolute_url()


def test_sdif_matrix_counts_milestones_by_strategy_and_effective_due(staff_client, sdif_goal):
    matrix = dashboard(staff_client, sdif_goal).find("table", data_matrix=True)
    periods = [th.attrs["data-period"] for th in matrix.find_all("th", data_period=True)]
    assert periods == ["Q1 FY19", "Q4 FY19", "FY19", "Ongoing"]
    rows = {tr.attrs["data-strategy"]: tr for tr in matrix.find_all("tr", data_strategy=True)}
    assert list(rows) == ["1", "2", "3", "4"]
    counts = {
        number: [int(td.attrs["data-count"]) for td in tr.find_all("td", data_count=True)]
        for number, tr in rows.items()
    }
    assert counts == {"1": [1, 0, 1, 0], "2": [0, 1, 1, 0], "3": [0, 2, 0, 1], "4": [0, 0, 0, 1]}
    # Each non-zero count links to the list filtered to its strategy and due period.
    fy19_strategy_1 = rows["1"].find_all("td", data_count=True)[2]
    assert " ".join(fy19_strategy_1.text.split()) == "Strategy 1, FY19: 1"
    link = fy19_strategy_1.find("a").attrs["href"]
    assert "strategy=1" in link and "due=FY19" in link
    assert rows["1"].find_all("td", data_count=True)[1].find_all("a") == []  # a zero


# -- the published plan (seed order) ---------------------------------------------------


SEED_HEADINGS = [
    "Agency Priority Goal Action Plan U.S.-Mexico Strategic Dialogue on Illicit Finance",
    "Overview",
    "Goal Statement",
    "Challenge",
    "Opportunity",
    "Goal Structure & Strategies",
    "Strategies",
    "Key External Factors",
    "History",
    "Summary of Progress – Q3 FY19",
    "Key Milestones",
    "Key Indicators",
    "Data Accuracy and Reliability",
    "Additional Information",
    "Contributing Programs",
    "Organizations",
    "Regulations",
    "Policies",
    "Other Federal Activities",
]

SEED_MILESTONES = [
    # (title starts with, Milestone Due Date, Strategy Alignment, Milestone Status)
    ("Assist with U.S./Mexico domestic sanctions reforms", "Ongoing", "3", "On track"),
    ("Provide additional information about illicit financial", "Ongoing", "4", "On track"),
    ("Participate in annual SDIF senior level meetings.", "Q4 FY19", "3", "On track"),
    ("Participate in annual SDIF working level meetings.", "Q4 FY19", "3", "On track"),
    # As the seed prints them: the original due, the revision beside it; "Delayed for FY 19".
    ("Develop requirements for data matching", "Q3 FY18 (revised: FY19)", "1", "Delayed for FY19"),
    (
        "Confirm mutual understanding of FY 2018",
        "Q4 FY18 (revised: FY19)",
        "2",
        "Delayed for FY19",
    ),
    ("Establish timeline for the data matching", "Q1 FY19", "1", "TBD"),
    ("Confirm mutual understanding of FY 2019", "Q4 FY19", "2", "TBD"),
]


@pytest.fixture
def sdif_plan(client, sdif_goal):
    # The plan page is readable by any signed-in user for an internal goal.
    client.force_login(UserFactory())
    return get_page(client, reverse("goal_plan", kwargs={"slug": sdif_goal.slug}))


def test_sdif_plan_has_the_seed_sections_in_the_seed_order(sdif_plan):
    article = sdif_plan.find("article")
    headings = [node.text for node in article.iter() if node.tag in ("h1", "h2", "h3", "h4")]
    assert headings == SEED_HEADINGS


def test_sdif_plan_names_the_goal_leader_and_deputy(sdif_plan):
    leaders = sdif_plan.find("dl", class_="plan-leaders").text
    assert (
        "Goal Leader: Marshall Billingslea, Assistant Secretary, Office of Terrorism and "
        "Financial Intelligence (TFI)"
    ) in leaders
    assert "Deputy Goal Leader: Daniel Moger, Principal Deputy Assistant Secretary" in leaders


def test_sdif_plan_renders_the_narrative(sdif_plan):
    overview = sdif_plan.find("section", id="overview")
    assert "By September 2019, increase U.S. and Mexican effectiveness" in overview.text
    challenges = [li.text for li in overview.find_all("li")]
    assert challenges[0] == (
        "Mexico's loss of key personnel and presidential transition on December 1st, 2018"
    )
    strategies = [li.text for li in sdif_plan.find("section", id="strategies").find_all("li")]
    assert [s.split(":")[0] for s in strategies] == [f"Strategy {n}" for n in (1, 2, 3, 4)]
    progress = sdif_plan.find("section", data_progress_period="Q3 FY19").text
    assert "The new Treasury attaché to Mexico has been selected and deployed." in progress


def test_sdif_plan_key_milestones_table(sdif_plan):
    table = sdif_plan.find("table", class_="plan-milestones")
    assert [th.text for th in table.find("thead").find_all("th")] == [
        "Key Milestone",
        "Milestone Due Date",
        "Strategy Alignment",
        "Milestone Status",
        "Change from last quarter",
        "Owner",
        "Comments",
    ]
    rows = table.find("tbody").find_all("tr")
    assert [int(tr.attrs["data-milestone-position"]) for tr in rows] == list(range(1, 9))
    for tr, (title, due, strategy, status) in zip(rows, SEED_MILESTONES, strict=True):
        cells = [node.visible_text for node in tr.find_all() if node.tag in ("th", "td")]
        assert cells[0].startswith(title)
        assert cells[1:4] == [due, strategy, status]
    assert rows[6].find_all("td")[-1].text == "See fifth milestone above."


def test_sdif_plan_explains_why_no_indicators_are_published(sdif_plan):
    assert sdif_plan.find("section", id="indicators").text == (
        "Key Indicators Due to the sensitive nature of this goal, OMB and Treasury will hold "
        "internal quarterly discussions to track measurable progress toward the desired "
        "outcomes."
    )


def test_sdif_plan_lists_the_contributing_programs(sdif_plan):
    programs = {
        node.attrs["data-programs"]: [li.text for li in node.find_all("li")]
        for node in sdif_plan.find_all("div", data_programs=True)
    }
    assert programs["organizations"][0] == "Department of the Treasury"
    assert programs["organizations"][1].startswith("Department of Justice, Department of")
    assert programs["regulations"] == ["Bank Secrecy Act"]
    assert programs["policies"][0].startswith("Sanctions under the Foreign Narcotics Kingpin")
    assert programs["other_federal_activities"][0].startswith("Presidential Executive Order")


def test_the_plan_is_printable(sdif_plan):
    # The handler lives in static/js/app.js: the CSP allows no inline event handlers.
    button = sdif_plan.find("button", data_print=True)
    assert button.text == "Print"
    assert "onclick" not in button.attrs
    script = Path(settings.BASE_DIR, "static/js/app.js").read_text()
    assert '"[data-print]"' in script and "window.print()" in script
    css = Path(settings.BASE_DIR, "static/css/app.css").read_text()
    print_rules = css[css.index("@media print") :]
    assert re.search(r"thead\s*{\s*display:\s*table-header-group", print_rules)
    assert re.search(r"tr\s*{\s*break-inside:\s*avoid", print_rules)
    assert ".site-header" in print_rules


def test_the_plan_lists_every_progress_summary_newest_first(client, admin_user, goal):
    ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2018), summary="Year one.")
    ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2019, 2), summary="Mid year.")
    ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2019), summary="Year two.")
    client.force_login(admin_user)
    page = get_page(client, goal.get_plan_url())
    sections = page.find_all("section", data_progress_period=True)
    assert [s.find("h2").text for s in sections] == [
        "Summary of Progress – FY19",
        "Summary of Progress – Q2 FY19",
        "Summary of Progress – FY18",
    ]


def test_the_plan_shows_indicators_instead_of_the_note_when_there_are_some(
    client, admin_user, goal
):
    goal.key_indicators = "Nothing published yet."
    goal.save()
    # Published: an internal indicator alone leaves the note in place (test_indicators.py).
    indicator = IndicatorFactory(
        goal=goal, name="Joint actions taken", unit="actions", is_published=True
    )
    IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, 1), target=10, actual=8)
    client.force_login(admin_user)
    section = get_page(client, goal.get_plan_url()).find("section", id="indicators")
    assert "Joint actions taken (actions)" in section.find("h3").text
    assert [td.text for td in section.find("tbody").find_all("td")] == ["10.00", "8.00", ""]
    assert "Nothing published yet." not in section.text


# -- sanitising ---------------------------------------------------------------------------


def test_raw_html_in_the_narrative_never_renders_live(client):
    goal = GoalFactory(
        sensitivity=Sensitivity.PUBLIC,
        challenge=(
            "- real point <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[click](javascript:alert(1))"
        ),
    )
    response = client.get(goal.get_plan_url())
    html = response.content.decode()
    article = parse(html).find("article")
    assert "real point" in article.text
    assert article.find_all("script") == []
    assert article.find_all("img") == []
    assert not [node for node in article.iter() if any(a.startswith("on") for a in node.attrs)]
    assert "alert(1)" not in html
    assert "javascript:" not in html


def test_markdown_links_open_safely(client):
    goal = GoalFactory(sensitivity=Sensitivity.PUBLIC, history="See [the site](https://x.gov).")
    link = get_page(client, goal.get_plan_url()).find("section", id="history").find("a")
    assert link.attrs == {"href": "https://x.gov", "rel": "noopener noreferrer"}


def test_a_milestone_comment_is_shown_as_text_not_html(staff_client, goal):
    milestone = MilestoneFactory(goal=goal, comment="Use <b>bold</b> here")
    for url in (goal.get_absolute_url(), milestone.get_absolute_url(), goal.get_plan_url()):
        response = staff_client.get(url)
        assert "Use &lt;b&gt;bold&lt;/b&gt; here" in response.content.decode(), url
        assert parse(response.content).find("main").find_all("b") == [], url


# -- dashboard filters ----------------------------------------------------------------


@pytest.fixture
def varied_goal(goal):
    """Five milestones covering the filters, by position:
    1 strategy 1, Q1 FY19, on track            (overdue)
    2 strategy 2, future, on track
    3 no strategy, FY19, completed             (past but closed: not overdue)
    4 strategy 1, Q3 FY18 revised to future, delayed
    5 strategy 2, Q2 FY19, at risk             (overdue)
    """
    s1 = StrategyFactory(goal=goal, number=1)
    s2 = StrategyFactory(goal=goal, number=2)
    specs = [
        (s1, FiscalPeriod(2019, 1), None, Status.ON_TRACK),
        (s2, FUTURE, None, Status.ON_TRACK),
        (None, FiscalPeriod(2019), None, Status.COMPLETED),
        (s1, FiscalPeriod(2018, 3), FUTURE, Status.DELAYED),
        (s2, FiscalPeriod(2019, 2), None, Status.AT_RISK),
    ]
    for position, (strategy, due, revised_due, status) in enumerate(specs, start=1):
        MilestoneFactory(
            goal=goal,
            strategy=strategy,
            position=position,
            due=due,
            revised_due=revised_due,
            status=status,
        )
    return goal


def shown(page):
    return sorted(positions(page.find("main")))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [1, 2, 3, 4, 5]),
        ({"status": "completed"}, [3]),
        ({"status": ["on_track", "delayed"]}, [1, 2, 4]),
        ({"strategy": "1"}, [1, 4]),
        ({"strategy": "none"}, [3]),
        ({"fy": "2019"}, [1, 3, 5]),
        ({"fy": "2018"}, []),  # milestone 4 was due in FY18, but its revised due is later
        ({"fy": "2990"}, [2, 4]),
        ({"overdue": "1"}, [1, 5]),
        ({"strategy": "2", "overdue": "on"}, [5]),
        # Due: this quarter (Q4 FY19: nothing open), or one effective due period.
        ({"due": "now"}, []),
        ({"due": "FY19"}, [3]),
        ({"due": "Q1 FY19"}, [1]),
        ({"due": "Q1 FY2990"}, [2, 4]),
        ({"strategy": "1", "due": "Q1 FY19"}, [1]),
        # Still to update for Q4 FY19: open and no status update for it.
        ({"updated": "no"}, [1, 2, 4, 5]),
        ({"updated": "yes"}, []),
    ],
)
@pytest.mark.parametrize("group", ["strategy", "quarter"])
def test_filters_narrow_the_rows(staff_client, varied_goal, params, expected, group):
    page = dashboard(staff_client, varied_goal, group=group, **params)
    assert shown(page) == expected
    assert page.find_all(data_filter_problems=True) == []


def work_line(page) -> dict[str, tuple[str, str | None]]:
    """The dashboard's line of counts: {count: (value, link)}."""
    line = page.find(id="work-summary")
    return {
        a.attrs["data-count"]: (a.attrs["data-value"], a.attrs["href"])
        for a in line.find_all("a", data_count=True)
    }


def test_the_work_line_counts_the_reporting_quarter_and_links_to_each_list(
    staff_client, varied_goal
):
    first, second = (varied_goal.milestones.get(position=n) for n in (1, 2))
    StatusUpdateFactory(milestone=first, period=FiscalPeriod(2019, 4))
    StatusUpdateFactory(milestone=second, period=FiscalPeriod(2019, 3))  # not this quarter

    page = dashboard(staff_client, varied_goal, group="quarter")
    line = page.find(id="work-summary")
    assert line.attrs["data-work-summary"] == "Q4 FY19"
    # Updated: 1 of the 4 to report on (the completed one, not updated, is done).
    assert "1 of 4 updated for Q4 FY19" in line.visible_text
    counts = work_line(page)
    assert {name: value for name, (value, _) in counts.items()} == {
        "updated": "1",
        "overdue": "2",
        "due-now": "0",
    }
    # Each count links to the list it counts, keeping the grouping.
    expected = {"updated": [2, 4, 5], "overdue": [1, 5], "due-now": []}
    for name, (_, href) in counts.items():
        assert "group=quarter" in href
        listed = parse(staff_client.get(varied_goal.get_absolute_url() + href).content)
        assert shown(listed) == expected[name], name
    # The counts are of the whole plan, whatever the filters.
    filtered = dashboard(staff_client, varied_goal, strategy="2")
    assert work_line(filtered)["overdue"][0] == "2"
    assert shown(filtered) == [2, 5]


def test_the_matrix_links_filter_the_list(staff_client, varied_goal):
    page = dashboard(staff_client, varied_goal, status="on_track")
    matrix = page.find("table", data_matrix=True)
    links = [a.attrs["href"] for a in matrix.find_all("a")]
    assert links  # every non-zero count
    for href in links:
        assert "status=" not in href  # a cell's link replaces the other filters
        listed = parse(staff_client.get(varied_goal.get_absolute_url() + href).content)
        assert shown(listed)  # never an empty list
    strategy_1_q1 = next(h for h in links if "strategy=1" in h and "due=Q1+FY19" in h)
    listed = parse(staff_client.get(varied_goal.get_absolute_url() + strategy_1_q1).content)
    assert shown(listed) == [1]


def test_the_overdue_filter_and_the_group_headings(staff_client, sdif_goal):
    page = dashboard(staff_client, sdif_goal, group="quarter")
    headings = [s.find("h3").visible_text for s in page.find_all("section", data_group=True)]
    assert headings == ["Due Q1 FY19", "Due Q4 FY19", "Due FY19", "Ongoing"]


def test_overdue_rows_carry_an_overdue_badge(staff_client, varied_goal):
    page = dashboard(staff_client, varied_goal)
    flagged = [
        int(tr.attrs["data-milestone-position"])
        for tr in page.find_all("tr", data_milestone_position=True)
        if "Overdue" in tr.text
    ]
    assert sorted(flagged) == [1, 5]


@pytest.mark.parametrize("group", ["strategy", "quarter"])
def test_garbage_filters_are_reported_and_ignored(staff_client, varied_goal, group):
    page = dashboard(
        staff_client, varied_goal, status="nope", strategy="abc", fy="x", group="zzz", overdue=""
    )
    assert shown(page) == [1, 2, 3, 4, 5]
    problems = page.find(data_filter_problems=True)
    assert problems.attrs["role"] == "alert"
    text = problems.text
    for word in ("Status", "nope", "Strategy", "abc", "Fiscal year", "x", "Group by", "zzz"):
        assert word in text


def test_a_bad_filter_does_not_cancel_the_good_ones(staff_client, varied_goal):
    page = dashboard(staff_client, varied_goal, status="completed", fy="20x9", overdue="1")
    assert shown(page) == []  # completed AND overdue: none
    assert "Fiscal year" in page.find(data_filter_problems=True).text
    page = dashboard(staff_client, varied_goal, status="at_risk", strategy="99")
    assert shown(page) == [5]


def test_the_group_toggle_keeps_the_filters(staff_client, varied_goal):
    page = dashboard(staff_client, varied_goal, status="delayed", strategy="1")
    toggle = page.find("ul", class_="group-toggle")
    by_strategy, by_quarter = toggle.find_all("a")
    assert by_strategy.attrs["aria-current"] == "true"
    assert by_quarter.attrs["href"] == "?status=delayed&strategy=1&group=quarter"
    assert "aria-current" not in by_quarter.attrs


def test_clear_filters_keeps_the_grouping(staff_client, varied_goal):
    page = dashboard(staff_client, varied_goal, status="delayed", fy="2019", group="quarter")
    # Beside the folded filter bar, in the list's heading row.
    clear = [
        a
        for a in page.find("div", class_="worklist-head").find_all("a")
        if a.text == "Clear filters"
    ]
    assert [a.attrs["href"] for a in clear] == ["?group=quarter"]
    unfiltered = dashboard(staff_client, varied_goal, group="quarter")
    assert [
        a
        for a in unfiltered.find("div", class_="worklist-head").find_all("a")
        if a.text == "Clear filters"
    ] == []


def test_the_filter_form_keeps_the_grouping_and_labels_its_fields(staff_client, varied_goal):
    page = dashboard(staff_client, varied_goal, group="quarter")
    form = page.find("form", class_="filter-form")
    assert form.attrs["method"] == "get"
    assert form.find("input", name="group").attrs["value"] == "quarter"
    labelled = {label.attrs.get("for") for label in form.find_all("label")}
    for control in form.find_all("select") + form.find_all("input", type="checkbox"):
        assert control.attrs["id"] in labelled


def test_milestones_without_a_strategy_or_due_come_last(staff_client, goal):
    strategy = StrategyFactory(goal=goal, number=1)
    MilestoneFactory(goal=goal, position=1, strategy=None, due=None)
    MilestoneFactory(goal=goal, position=2, strategy=strategy, due=FiscalPeriod.ongoing())
    MilestoneFactory(goal=goal, position=3, strategy=strategy, due=FiscalPeriod(2019, 2))
    assert groups(dashboard(staff_client, goal)) == [("strategy-1", [2, 3]), ("unaligned", [1])]
    assert groups(dashboard(staff_client, goal, group="quarter")) == [
        ("Q2 FY19", [3]),
        ("Ongoing", [2]),
        ("no-due-date", [1]),
    ]


def test_an_unfiltered_dashboard_shows_strategies_without_milestones(staff_client, goal):
    StrategyFactory(goal=goal, number=1)
    page = dashboard(staff_client, goal)
    assert groups(page) == [("strategy-1", [])]
    assert "No key milestones are aligned to this strategy." in page.find("main").text


# -- milestone page ------------------------------------------------------------------------


def test_the_milestone_page_shows_every_field(staff_client, sdif_goal):
    seventh = Milestone.objects.get(goal=sdif_goal, position=7)
    fifth = Milestone.objects.get(goal=sdif_goal, position=5)
    page = get_page(staff_client, seventh.get_absolute_url())
    details = page.find("dl", class_="milestone-fields")
    fields = {
        dt.text: dd for dt, dd in zip(details.find_all("dt"), details.find_all("dd"), strict=True)
    }
    assert fields["Goal"].text == "U.S.-Mexico Strategic Dialogue on Illicit Finance"
    assert fields["Strategy alignment"].text.startswith("Strategy 1: Strengthen")
    assert fields["Due"].text == "Q1 FY19"
    assert fields["Status"].text.startswith("TBD")
    assert fields["Comment"].text == "See fifth milestone above."
    assert fields["Depends on"].find("a").attrs["href"] == fifth.get_absolute_url()

    page = get_page(staff_client, fifth.get_absolute_url())
    revised = page.find("dd", data_field="revised_due")
    assert revised.text == "FY19 (originally Q3 FY18)"


def test_the_milestone_page_lists_status_updates_newest_first(staff_client, goal):
    milestone = MilestoneFactory(goal=goal)
    author = UserFactory(username="mbillingslea")
    StatusUpdateFactory(
        milestone=milestone,
        author=author,
        author_name="Marshall Billingslea",
        period=FiscalPeriod(2019, 1),
        previous_status=Status.ON_TRACK,
        status=Status.DELAYED,
        revised_due=FiscalPeriod(2019),
        comment="Waiting on Mexico.",
    )
    StatusUpdateFactory(milestone=milestone, author=author, period=FiscalPeriod(2019, 2))
    page = get_page(staff_client, milestone.get_absolute_url())
    rows = page.find("table", class_="status-updates").find("tbody").find_all("tr")
    assert [td.visible_text for td in rows[0].find_all("td")][2] == "Q2 FY19"
    older = [td.visible_text for td in rows[1].find_all("td")]
    assert older[1:] == [
        "Marshall Billingslea",
        "Q1 FY19",
        "On track → Delayed",
        "Waiting on Mexico.",
        "FY19",
    ]


def test_the_milestone_page_shows_its_history_newest_first_with_the_changes(staff_client, goal):
    s1 = StrategyFactory(goal=goal, number=1, title="First strategy")
    s2 = StrategyFactory(goal=goal, number=2, title="Second strategy")
    milestone = MilestoneFactory(goal=goal, strategy=s1, status=Status.ON_TRACK)
    editor = UserFactory(username="dmoger")
    with recorded_change(user=editor, reason="Quarterly review, Q2 FY19"):
        milestone.status = Status.DELAYED
        milestone.revised_due = FiscalPeriod(2019)
        milestone.save()
    with recorded_change(user=editor, reason="Realigned"):
        milestone.strategy = s2
        milestone.save()

    entries = get_page(staff_client, milestone.get_absolute_url()).find_all(
        "li", class_="history-entry"
    )
    assert len(entries) == 3
    newest, middle, created = entries
    assert newest.find("p").text.startswith("Changed by dmoger")
    assert "Reason: Realigned" in newest.text
    assert changes(newest) == [
        ["Strategy alignment", "Strategy 1: First strategy", "Strategy 2: Second strategy"]
    ]
    assert changes(middle) == [["Revised due", "—", "FY19"], ["Status", "On track", "Delayed"]]
    assert "Quarterly review, Q2 FY19" in middle.text
    assert created.find("p").text.startswith("Created by")


def changes(entry):
    """[[field, before, after], ...]: each field's label and its two values."""
    return [
        [change.find("dt").text]
        + [side.text for side in change.find_all("div", class_="history-value")]
        for change in entry.find_all("div", class_="history-change")
    ]


# -- portfolio -------------------------------------------------------------------------


def test_the_portfolio_rolls_up_statuses_and_overdue_milestones(staff_client, goal):
    MilestoneFactory(goal=goal, status=Status.ON_TRACK, due=FiscalPeriod(2019, 1))  # overdue
    MilestoneFactory(goal=goal, status=Status.ON_TRACK, due=FUTURE)
    MilestoneFactory(goal=goal, status=Status.COMPLETED, due=FiscalPeriod(2019, 1))
    MilestoneFactory(
        goal=goal, status=Status.DELAYED, due=FiscalPeriod(2018, 1), revised_due=FUTURE
    )
    empty = GoalFactory(title="No milestones yet")
    page = get_page(staff_client, reverse("portfolio"))
    row_ = page.find("tr", data_goal=goal.slug)
    counts = {
        span.attrs["data-status-count"]: span.visible_text
        for span in row_.find_all("span", data_status_count=True)
    }
    assert counts == {"on_track": "2 on track", "delayed": "1 delayed", "completed": "1 completed"}
    assert row_.find("td", data_overdue_count=True).text == "1 overdue"
    assert "/goals/" in row_.find("a").attrs["href"]

    empty_row = page.find("tr", data_goal=empty.slug)
    assert empty_row.find("td", data_overdue_count=True).text == "0"
    assert "No key milestones yet" in empty_row.text
    assert empty_row.find("time").attrs["datetime"].startswith(str(empty.updated_at.year))


# -- layout -------------------------------------------------------------------------------


def test_every_page_has_a_skip_link_landmarks_and_a_logout_button(staff_client, goal):
    milestone = MilestoneFactory(goal=goal)
    for url in (
        reverse("portfolio"),
        goal.get_absolute_url(),
        milestone.get_absolute_url(),
        goal.get_plan_url(),
    ):
        page = get_page(staff_client, url)
        assert page.find("html").attrs["lang"] == "en"
        assert page.find("a", class_="skip-link").attrs["href"] == "#main"
        assert page.find("main").attrs["id"] == "main"
        assert page.find("div", id="messages").attrs["aria-live"] == "polite"
        logout = page.find("form", action=reverse("logout"))
        assert logout.attrs["method"] == "post"
        assert logout.find("button").text == "Log out"


def test_the_login_page_is_a_labelled_form(client, db):
    page = get_page(client, reverse("login"), next="/")
    form = page.find("main").find("form")
    assert form.attrs["method"] == "post"
    labels = {label.attrs["for"] for label in form.find_all("label")}
    assert {"id_username", "id_password"} <= labels


def test_logging_out_takes_a_post(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("portfolio")).status_code == 302


def _luminance(hex_colour):
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_status_has_a_colour_with_aa_text_contrast():
    css = Path(settings.BASE_DIR, "static/css/app.css").read_text()
    classes = [f"status-{status.value}" for status in Status] + ["overdue-badge"]
    for name in classes:
        rule = re.search(rf"\.{name}\s*{{([^}}]*)}}", css)
        assert rule, name
        fg = re.search(r"--badge-fg:\s*(#[0-9a-fA-F]{6})", rule[1])[1]
        bg = re.search(r"--badge-bg:\s*(#[0-9a-fA-F]{6})", rule[1])[1]
        light, dark = sorted([_luminance(fg), _luminance(bg)], reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, name


# -- a milestone with a long record ---------------------------------------------------------


def test_a_long_record_shows_its_latest_updates_and_versions_with_the_count(
    staff_client, goal, leader
):
    from milestones.services import record_status_update

    milestone = MilestoneFactory(goal=goal, status=Status.NOT_STARTED, due=FUTURE)
    statuses = [Status.ON_TRACK, Status.AT_RISK]
    for number in range(1, 16):
        milestone = record_status_update(
            milestone=milestone,
            user=leader,
            status=statuses[number % 2],
            comment=f"Report number {number}.",
            period=FiscalPeriod(2019, 1 + number % 4),
            expected_version=milestone.version,
        ).milestone

    page = get_page(staff_client, milestone.get_absolute_url())

    updates = page.find("table", class_="status-updates")
    assert updates.find("caption").text == ("The latest 12 of 15 status updates, newest first")
    comments = [row.find_all("td")[4].text for row in updates.find("tbody").find_all("tr")]
    assert comments == [f"Report number {n}." for n in range(15, 3, -1)]
    earlier = page.find("p", data_earlier_updates=True)
    assert earlier.text == "3 earlier status updates are in the full history."
    assert (
        earlier.find("a").attrs["href"]
        == page.find("a", data_history_link="milestone").attrs["href"]
    )

    # 16 versions: created, then one per update; the newest 10 shown, each with its diff.
    assert page.find("p", data_history_shown=True).text == "The latest 10 of 16 versions."
    entries = page.find("ol", class_="history-timeline").find_all("li", class_="history-entry")
    assert len(entries) == 10
    oldest_shown = entries[-1]
    # Diffed against version 6: the comment's words, "5." struck out and "6." added.
    comment = oldest_shown.find("div", data_changed_field="comment")
    before, after = comment.find("div", data_old=True), comment.find("div", data_new=True)
    assert before.visible_text == "Before Report number 5."
    assert after.visible_text == "After Report number 6."
    assert [removed.visible_text for removed in before.find_all("del")] == ["5."]
    assert [added.visible_text for added in after.find_all("ins")] == ["6."]


def test_a_short_record_shows_everything_without_a_count(staff_client, goal, leader):
    from milestones.services import record_status_update

    milestone = MilestoneFactory(goal=goal, status=Status.NOT_STARTED, due=FUTURE)
    record_status_update(
        milestone=milestone,
        user=leader,
        status=Status.ON_TRACK,
        comment="Started.",
        period=FiscalPeriod(2019, 2),
        expected_version=milestone.version,
    )

    page = get_page(staff_client, milestone.get_absolute_url())

    assert page.find("table", class_="status-updates").find("caption").text == (
        "Status updates, newest first"
    )
    assert not page.find_all("p", data_earlier_updates=True)
    assert not page.find_all("p", data_history_shown=True)
    assert len(page.find_all("li", class_="history-entry")) == 2


def test_row_links_name_the_milestone_even_when_the_slug_is_all_digits(staff_client):
    goal = GoalFactory(slug="987654321", short_name="Digits")
    milestone = MilestoneFactory(goal=goal, title="Sign the MoU")
    page = dashboard(staff_client, goal)
    title = page.find("tr", id=f"milestone-{milestone.pk}").find("th").find("a")
    assert title.attrs["href"] == f"/goals/987654321/milestones/{milestone.pk}/"
    update = page.find("a", id=f"update-button-{milestone.pk}")
    assert update.attrs["href"] == f"/goals/987654321/milestones/{milestone.pk}/update/"
