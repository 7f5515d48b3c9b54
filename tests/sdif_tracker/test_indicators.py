"""Key indicators: admins define them and enter targets and actuals in the app; each is
charted as server-side SVG (valid XML with a title and description) beside its table;
goals without indicators show their key-indicators note."""

import xml.etree.ElementTree as ET  # noqa: S405 - parses only the app's own chart output
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from sdif_tracker.pages.charts import indicator_svg
from strategies.models import Direction, Indicator, IndicatorValue
from strategies.periods import FiscalPeriod
from tests.factories import IndicatorFactory, IndicatorValueFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def values_post(name="Cases referred", unit="cases", direction="higher", rows=()):
    data = {
        "name": name,
        "unit": unit,
        "direction": direction,
        "values-TOTAL_FORMS": str(len(rows)),
        "values-INITIAL_FORMS": "0",
    }
    for index, (period, target, actual) in enumerate(rows):
        data.update(
            {
                f"values-{index}-period": period,
                f"values-{index}-target": target,
                f"values-{index}-actual": actual,
            }
        )
    return data


def test_an_admin_defines_an_indicator_and_enters_its_values(goal, admin_user):
    client = client_for(admin_user)
    added = client.post(
        reverse("indicator_list", kwargs={"slug": goal.slug}),
        {"name": "Cases referred", "unit": "cases", "direction": "higher"},
    )
    indicator = Indicator.objects.get(goal=goal)
    assert added.status_code == 302
    assert added["Location"] == reverse("indicator_edit", args=[goal.slug, indicator.pk])

    saved = client.post(
        reverse("indicator_edit", args=[goal.slug, indicator.pk]),
        values_post(rows=[("Q1 FY19", "10", "8"), ("q2 fy 19", "12", "")]),
    )

    assert saved.status_code == 302
    assert list(indicator.values.values_list("period", "target", "actual")) == [
        (FiscalPeriod(2019, 1), Decimal("10.00"), Decimal("8.00")),
        (FiscalPeriod(2019, 2), Decimal("12.00"), None),
    ]
    assert indicator.history.latest().history_user == admin_user
    plan = parse(client.get(goal.get_plan_url()).content).find("section", id="indicators")
    assert (
        plan.find("svg").find("title").text
        == "Cases referred (cases): target and actual by period"
    )
    assert [th.text for th in plan.find("table").find("tbody").find_all("th")] == [
        "Q1 FY19",
        "Q2 FY19",
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("Ongoing", "1", "1")], "not Ongoing"),
        ([("Q5 FY19", "1", "1")], "a quarter is Q1 to Q4"),
        ([("Q1 FY19", "1", ""), ("Q1 FY19", "2", "")], "Q1 FY19 is entered twice"),
        ([("", "5", "")], "Say which period these values are for."),
        ([("Q1 FY19", "lots", "")], "Enter a number."),
    ],
)
def test_bad_values_are_refused_with_a_message_and_nothing_changes(
    goal, admin_user, rows, message
):
    indicator = IndicatorFactory(goal=goal, name="Before")
    IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, 1))
    before = list(IndicatorValue.objects.values_list("period", "target", "actual"))

    response = client_for(admin_user).post(
        reverse("indicator_edit", args=[goal.slug, indicator.pk]),
        values_post(name="After", rows=rows),
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    indicator.refresh_from_db()
    assert indicator.name == "Before"
    assert list(IndicatorValue.objects.values_list("period", "target", "actual")) == before


def test_a_form_count_past_the_limit_renders_no_more_rows_than_the_limit(goal, admin_user):
    indicator = IndicatorFactory(goal=goal, name="Before")
    data = values_post(name="After")
    data["values-TOTAL_FORMS"] = str(2**31)

    response = client_for(admin_user).post(
        reverse("indicator_edit", args=[goal.slug, indicator.pk]), data
    )

    assert response.status_code == 400
    assert "Please submit at most 200 forms." in response.content.decode()
    names = [node.attrs.get("name") or "" for node in parse(response.content).find_all("input")]
    assert sum(name.endswith("-period") for name in names) == 200
    indicator.refresh_from_db()
    assert indicator.name == "Before"


def test_a_duplicate_indicator_name_is_refused(goal, admin_user):
    IndicatorFactory(goal=goal, name="Cases referred")
    response = client_for(admin_user).post(
        reverse("indicator_list", kwargs={"slug": goal.slug}),
        {"name": "cases referred", "unit": "", "direction": "higher"},
    )
    assert response.status_code == 400
    assert "already has an indicator called" in response.content.decode()
    assert goal.indicators.count() == 1


def test_the_chart_is_valid_svg_with_a_title_and_a_description(goal):
    indicator = IndicatorFactory(goal=goal, name="Sanctions <designations> & more", unit="%")
    for quarter, target, actual in [(1, 10, 8), (2, 12, None), (3, 14, 15)]:
        IndicatorValueFactory(
            indicator=indicator,
            period=FiscalPeriod(2019, quarter),
            target=Decimal(target),
            actual=None if actual is None else Decimal(actual),
        )
    values = list(indicator.values.order_by("period"))

    root = ET.fromstring(indicator_svg(indicator, values, element_id="chart-1"))  # noqa: S314

    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-labelledby"] == "chart-1-title chart-1-desc"
    assert root.find(f"{SVG}title").text == (
        "Sanctions <designations> & more (%): target and actual by period"
    )
    description = root.find(f"{SVG}desc").text
    assert description == (
        "Higher is better. Q1 FY19: target 10, actual 8; Q2 FY19: target 12, actual —; "
        "Q3 FY19: target 14, actual 15."
    )
    assert len(root.findall(f".//{SVG}g[@class='series-actual']/{SVG}circle")) == 2
    assert len(root.findall(f".//{SVG}g[@class='series-target']/{SVG}rect")) == 3


def test_a_chart_without_values_says_so(goal):
    indicator = IndicatorFactory(goal=goal, direction=Direction.LOWER)
    root = ET.fromstring(indicator_svg(indicator, [], element_id="c"))  # noqa: S314
    assert root.find(f"{SVG}desc").text == "No values have been entered yet."


def test_user_text_in_a_chart_is_escaped_on_the_page(goal, leader):
    indicator = IndicatorFactory(goal=goal, name='<script>alert("x")</script>', unit="<b>u</b>")
    IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, 1))

    html = client_for(leader).get(goal.get_plan_url()).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html or (
        '&lt;script&gt;alert("x")&lt;/script&gt;' in html
    )


def test_goals_without_indicators_show_their_note(sdif_goal, admin_user):
    page = parse(client_for(admin_user).get(sdif_goal.get_plan_url()).content)
    section = page.find("section", id="indicators")
    assert not section.find_all("svg")
    assert section.text.startswith("Key Indicators Due to the sensitive nature of this goal")
    listing = client_for(admin_user).get(reverse("indicator_list", args=["sdif"]))
    assert "This goal has no key indicators." in listing.content.decode()
