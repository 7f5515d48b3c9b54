"""Two reporting quarters of the SDIF plan side by side, every difference marked."""

import pytest
from django.urls import reverse

from tests.html_dom import parse
from tests.sdif_tracker.asof_story import STRATEGY_4_TITLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client, clock, story):
    """A reviewer of the goal on 25 September 2019, in Q4 FY19."""
    from strategies.models import Role
    from tests.factories import MembershipFactory

    clock.set(2019, 9, 25, 9, 0)
    client.force_login(MembershipFactory(goal=story.goal, role=Role.REVIEWER).user)
    return client


def compare(client, goal, status=200, **params):
    response = client.get(reverse("goal_compare", kwargs={"slug": goal.slug}), params)
    assert response.status_code == status
    return parse(response.content)


def milestone_rows(page):
    table = page.find("table", class_="compare-milestones")
    return {int(tr.attrs["data-milestone-id"]): tr for tr in table.find("tbody").find_all("tr")}


def kinds(page, story):
    ids = {m.pk: p for p, m in story.by_position.items()}
    ids.update({pk: 10 for pk in milestone_rows(page) if pk not in ids})  # the deleted one
    return {ids[pk]: tr.attrs["data-milestone-diff"] for pk, tr in milestone_rows(page).items()}


def changed_fields(tr):
    return [li.attrs["data-changed"] for li in tr.find_all("li", data_changed=True)]


def test_it_marks_added_removed_and_changed_milestones_between_q3_and_q4(reader, story):
    from audit.history import recorded_change
    from milestones.models import Milestone
    from strategies.periods import FiscalPeriod

    # Added now, while the goal reports on Q4 FY19: it belongs to Q4.
    with recorded_change(user=story.leader, reason="Added"):
        added = Milestone(
            goal=story.goal, position=11, title="Brief the G7.", due=FiscalPeriod(2020)
        )
        added.full_clean()
        added.save()
    story.by_position[11] = added

    page = compare(reader, story.goal, **{"from": "Q3 FY19", "to": "Q4 FY19"})

    assert kinds(page, story) == {
        1: "unchanged",
        2: "changed",
        3: "unchanged",
        4: "unchanged",
        5: "unchanged",
        6: "unchanged",
        7: "unchanged",
        8: "unchanged",
        9: "unchanged",
        10: "removed",
        11: "added",
    }
    rows = milestone_rows(page)
    two = rows[story.milestone(2).pk]
    assert changed_fields(two) == ["status", "comment"]
    before = two.find("td", class_="compare-before")
    after = two.find("td", class_="compare-after")
    assert before.find("dd", data_field="status").visible_text == "On track"
    assert after.find("dd", data_field="status").visible_text == "Completed"
    # Marked in words, not only by colour.
    assert "Status (changed)" in after.visible_text
    assert rows[added.pk].find("th").text == "Brief the G7."
    assert "Not yet in the plan" in rows[added.pk].visible_text
    assert page.find("p", data_compare_summary=True).visible_text == (
        "From the plan as reported for Q3 FY19 to the plan as reported for Q4 FY19: "
        "1 key milestone added, 1 removed, 1 changed, 8 unchanged; 1 strategy changed."
    )


def test_a_late_update_for_an_earlier_quarter_belongs_to_it(reader, story):
    """#4's update for Q2 FY19 was typed on 15 May 2019, after the plan arrived: as
    reported for Q3 FY19 it is already Delayed, and it does not differ in Q4."""
    page = compare(reader, story.goal, **{"from": "Q3 FY19", "to": "Q4 FY19"})
    four = milestone_rows(page)[story.milestone(4).pk]
    before = four.find("td", class_="compare-before")
    assert before.find("dd", data_field="status").visible_text == "Delayed"
    assert before.find("dd", data_field="due").visible_text == "FY20 (originally Q4 FY19)"


def test_it_marks_strategies_added_removed_and_retitled(reader, story):
    from strategies.services import add_strategy

    add_strategy(goal=story.goal, user=story.leader, number=5, title="A fifth strategy")
    page = compare(reader, story.goal, **{"from": "Q3 FY19", "to": "Q4 FY19"})
    table = page.find("table", class_="compare-strategies")
    diffs = [tr.attrs["data-strategy-diff"] for tr in table.find("tbody").find_all("tr")]
    assert diffs == ["unchanged", "unchanged", "unchanged", "retitled", "added"]
    retitled = table.find("tr", data_strategy_diff="retitled")
    assert retitled.find_all("td")[2].text == f"Strategy 4: {STRATEGY_4_TITLE}"
    removed = compare(reader, story.goal, **{"from": "Q4 FY19", "to": "Q3 FY19"})
    # Given the wrong way round, the earlier quarter is still shown first.
    assert "The earlier quarter is shown first." in removed.find("div", id="messages").text


def test_it_marks_a_strategy_change(reader, clock, story):
    from milestones.models import Milestone
    from milestones.services import move_milestone

    # Fetched afresh, as the request moving it would: the move belongs to Q4 FY19.
    milestone = Milestone.objects.get(pk=story.milestone(9).pk)
    move_milestone(
        milestone=milestone,
        user=story.leader,
        strategy=story.goal.strategies.get(number=1),
        expected_version=milestone.version,
    )
    page = compare(reader, story.goal, **{"from": "Q3 FY19", "to": "Q4 FY19"})
    assert changed_fields(milestone_rows(page)[milestone.pk]) == ["strategy"]


def test_it_defaults_to_the_previous_quarter_against_the_current_one(reader, story):
    page = compare(reader, story.goal)
    form = page.find("form", class_="compare-form")
    selected = [
        option.attrs["value"]
        for select in form.find_all("select")
        for option in select.find_all("option")
        if "selected" in option.attrs
    ]
    assert selected == ["Q3 FY19", "Q4 FY19"]
    assert kinds(page, story)[2] == "changed"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "sideways"}, "is not a fiscal period"),
        ({"from": "FY19"}, "“FY19” is not a quarter"),
        (
            {"to": "Q2 FY21"},
            "Nothing is reported for Q2 FY21 yet: the goal is reporting on Q4 FY19.",
        ),
    ],
)
def test_bad_quarters_give_a_message_and_the_default(reader, story, params, message):
    page = compare(reader, story.goal, **params)
    assert message in page.find("div", id="messages").text
    assert page.find("table", class_="compare-milestones")


def test_a_quarter_before_the_plan_was_reported_shows_everything_as_added(reader, story):
    """The plan arrived as the Q3 FY19 update: nothing of the goal belongs to Q2."""
    page = compare(reader, story.goal, **{"from": "Q2 FY19", "to": "Q3 FY19"})
    assert set(kinds(page, story).values()) == {"added"}
    assert "There is no plan as reported for Q2 FY19." in page.text


def test_it_is_404_for_an_outsider(client, story):
    from tests.factories import UserFactory

    story.goal.sensitivity = "restricted"
    story.goal.save()
    client.force_login(UserFactory())
    compare(client, story.goal, status=404)
