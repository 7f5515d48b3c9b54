"""Key indicators: admins define them (definition, unit, source, frequency, baseline,
direction, published) and enter targets and actuals in the app; each is charted as
server-side SVG (valid XML with a title and description) beside its table; the published
plan, a published quarter and the PDF show published indicators only (signed-in readers
of the current plan also the internal ones, marked); the data accuracy statement names
each published indicator's source; goals without a published indicator show their
key-indicators note. Actuals entered by the team: test_indicator_actuals.py."""

import xml.etree.ElementTree as ET  # noqa: S405 - parses only the app's own chart output
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from milestones.services import publish_quarter
from sdif_tracker.pages.charts import indicator_svg
from strategies.models import Direction, Frequency, Indicator, IndicatorValue, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def definition_post(name="Cases referred", unit="cases", direction="higher", **fields):
    """The indicator form's fields as a browser posts them (an unticked box is absent)."""
    data = {
        "name": name,
        "unit": unit,
        "direction": direction,
        "definition": "",
        "data_source": "",
        "frequency": "quarterly",
        "baseline_value": "",
        "baseline_period": "",
        **fields,
    }
    return {key: value for key, value in data.items() if value is not None}


def values_post(name="Cases referred", unit="cases", direction="higher", rows=(), version=1):
    data = {
        **definition_post(name, unit, direction),
        "version": str(version),
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
        definition_post(is_published="on", data_source="OFAC case system"),
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
        definition_post(name="cases referred", unit=""),
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


# -- the definition -----------------------------------------------------------------------


def test_the_form_saves_every_field_of_the_definition(goal, admin_user):
    indicator = IndicatorFactory(goal=goal, name="Cases referred")
    data = {
        **values_post(),
        "definition": "Cases referred to prosecutors.",
        "data_source": "FinCEN case system",
        "frequency": "annual",
        "baseline_value": "40",
        "baseline_period": "FY17",
        "is_published": "on",
        "direction": "lower",
    }

    response = client_for(admin_user).post(
        reverse("indicator_edit", args=[goal.slug, indicator.pk]), data
    )

    assert response.status_code == 302
    indicator.refresh_from_db()
    assert (
        indicator.definition,
        indicator.data_source,
        indicator.frequency,
        indicator.baseline_value,
        indicator.baseline_period,
        indicator.is_published,
        indicator.direction,
        indicator.version,
    ) == (
        "Cases referred to prosecutors.",
        "FinCEN case system",
        Frequency.ANNUAL,
        Decimal(40),
        FiscalPeriod(2017, None),
        True,
        Direction.LOWER,
        2,
    )
    form = parse(
        client_for(admin_user)
        .get(reverse("indicator_edit", args=[goal.slug, indicator.pk]))
        .content
    )
    assert form.find("input", name="version").attrs["value"] == "2"
    assert form.find("input", name="baseline_period").attrs["value"] == "FY17"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"baseline_value": "12"}, "Say which period the baseline is for, e.g. FY17."),
        ({"baseline_period": "FY17"}, "Enter the baseline value for FY17, or clear the period."),
        (
            {"baseline_value": "1", "baseline_period": "Ongoing"},
            "A baseline is for a quarter or a fiscal year, not Ongoing.",
        ),
        ({"frequency": "monthly"}, "Select a valid choice."),
    ],
)
def test_a_bad_definition_is_refused_with_a_clear_message(goal, admin_user, fields, message):
    response = client_for(admin_user).post(
        reverse("indicator_list", kwargs={"slug": goal.slug}), definition_post(**fields)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not goal.indicators.exists()


def test_a_definition_edited_on_a_stale_form_is_refused_and_the_typing_kept(goal, admin_user):
    indicator = IndicatorFactory(goal=goal, name="Cases referred")
    url = reverse("indicator_edit", args=[goal.slug, indicator.pk])
    first = client_for(admin_user).post(url, {**values_post(), "data_source": "First source"})
    assert first.status_code == 302

    second = client_for(admin_user).post(url, {**values_post(), "unit": "referrals"})

    assert second.status_code == 409
    page = parse(second.content)
    assert page.find("div", data_conflict=True)
    assert page.find("input", name="unit").attrs["value"] == "referrals"
    assert page.find("input", name="version").attrs["value"] == "2"
    indicator.refresh_from_db()
    assert (indicator.unit, indicator.data_source) == ("cases", "First source")


def test_an_admin_cannot_change_a_value_of_a_quarter_in_review(goal, admin_user):
    indicator = IndicatorFactory(goal=goal, name="Cases referred")
    ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2019, 1), review_state="submitted")

    response = client_for(admin_user).post(
        reverse("indicator_edit", args=[goal.slug, indicator.pk]),
        values_post(rows=[("Q1 FY19", "10", "8")]),
    )

    assert response.status_code == 409
    assert "locked while it is in review" in response.content.decode()
    assert not indicator.values.exists()


# -- the plan: published indicators, internal ones, their sources ------------------------


def _indicators_section(client, url):
    return parse(client.get(url).content).find("section", id="indicators")


@pytest.fixture
def public_goal():
    goal = GoalFactory(sensitivity=Sensitivity.PUBLIC, key_indicators="Some are sensitive.")
    published = IndicatorFactory(
        goal=goal, name="Published one", is_published=True, data_source="Agency ledger"
    )
    IndicatorValueFactory(indicator=published, period=FiscalPeriod(2019, 1), target=10, actual=8)
    internal = IndicatorFactory(goal=goal, name="Internal one", data_source="Sensitive source")
    IndicatorValueFactory(indicator=internal, period=FiscalPeriod(2019, 1))
    return goal


def test_the_published_plan_shows_only_published_indicators(client, public_goal):
    section = _indicators_section(client, public_goal.get_plan_url())

    assert [h.text for h in section.find_all("h3")] == ["Published one (cases)"]
    svg = section.find("svg")
    assert svg.attrs["role"] == "img"
    assert svg.find("title").text == "Published one (cases): target and actual by period"
    assert svg.find("desc").text.startswith("Higher is better. Q1 FY19: target 10, actual 8")
    assert [th.text for th in section.find("table").find("thead").find_all("th")] == [
        "Period",
        "Target",
        "Actual",
        "Note",
    ]
    assert "Internal one" not in client.get(public_goal.get_plan_url()).content.decode()
    # The note stands in for indicators only where none is published.
    assert not section.find_all(data_key_indicators_note=True)


def test_a_signed_in_reader_also_sees_the_internal_ones_marked(public_goal, leader):
    section = _indicators_section(client_for(leader), public_goal.get_plan_url())

    headings = [h.text for h in section.find_all("h3")]
    assert headings == ["Published one (cases)", "Internal one (cases) Internal"]
    assert len(section.find_all("svg")) == 2


def test_the_pdf_and_a_published_quarter_show_published_indicators_only(
    public_goal, leader, monkeypatch
):
    from sdif_tracker import exports

    monkeypatch.setattr(exports, "html_to_pdf", lambda html, base_url: html.encode())
    pdf = client_for(leader).get(reverse("goal_plan_pdf", kwargs={"slug": public_goal.slug}))
    text = pdf.content.decode()
    assert "Published one" in text and "Internal one" not in text

    ProgressSummaryFactory(
        goal=public_goal, period=FiscalPeriod(2019, 4), risk="low", review_state="cleared"
    )
    publish_quarter(goal=public_goal, user=leader, period=FiscalPeriod(2019, 4))
    section = _indicators_section(
        client_for(leader), public_goal.get_plan_url() + "?quarter=Q4+FY19"
    )
    assert [h.text for h in section.find_all("h3")] == ["Published one (cases)"]


def test_the_data_statement_names_each_published_indicators_source(client, public_goal):
    page = parse(client.get(public_goal.get_plan_url()).content)
    statement = page.find("section", id="data-accuracy")

    assert [li.text for li in statement.find_all("li", data_indicator_source=True)] == [
        "Published one: Agency ledger"
    ]
    assert "Sources:" in statement.text
    assert "Sensitive source" not in page.text


def test_the_publish_confirmation_names_the_sources_too(public_goal, admin_user):
    # Cleared by the examiner: ready to publish, so the confirmation shows what would be.
    ProgressSummaryFactory(
        goal=public_goal, period=FiscalPeriod(2019, 4), risk="low", review_state="cleared"
    )
    page = parse(
        client_for(admin_user)
        .get(reverse("publish_quarter", kwargs={"slug": public_goal.slug}))
        .content
    )
    assert [li.text for li in page.find_all("li", data_indicator_source=True)] == [
        "Published one: Agency ledger"
    ]


def test_the_sdif_seed_keeps_its_sensitive_note_with_internal_indicators(sdif_goal, client):
    IndicatorFactory(goal=sdif_goal, name="Internal count")
    section = _indicators_section(client_for(UserFactory()), sdif_goal.get_plan_url())
    note = section.find("div", data_key_indicators_note=True)
    assert note.text.startswith("Due to the sensitive nature of this goal")
    assert [h.text for h in section.find_all("h3")] == ["Internal count (cases) Internal"]
    assert not parse(client.get(sdif_goal.get_plan_url()).content).find_all(
        data_indicator_source=True
    )
