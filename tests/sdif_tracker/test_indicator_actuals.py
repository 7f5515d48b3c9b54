"""Indicator actuals for the reporting quarter: leaders, deputies, contributors given the
capability and admins enter them on one form, each with a note; the write is recorded,
refuses a stale form (409, nothing lost), a quarter whose update is in review (409) and
a closed goal; only the reporting quarter's period is open to non-admins (an annual
indicator's fiscal year, with the Q4 update)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.reasons import describe
from milestones.indicator_actuals import (
    ActualEntry,
    StaleActualError,
    StaleActualsError,
    record_actual,
    record_actuals,
)
from milestones.models import ReviewState
from milestones.review import UpdateInReviewError
from strategies.models import Frequency, IndicatorValue, Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q3_FY19 = FiscalPeriod(2019, 3)
Q4_FY19 = FiscalPeriod(2019, 4)  # the factory goal's reporting quarter
FY19 = FiscalPeriod(2019, None)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def actuals_url(goal):
    return reverse("indicator_actuals", kwargs={"slug": goal.slug})


def row_post(indicator, *, actual="", note="", opened=None, version=None):
    """One indicator's row as the page posts it: the typed values, what the row held
    when the page was opened (``opened``: (actual, note)) and the version then."""
    opened_actual, opened_note = opened or ("", "")
    prefix = f"indicator-{indicator.pk}"
    return {
        f"{prefix}-actual": actual,
        f"initial-{prefix}-actual": opened_actual,
        f"{prefix}-note": note,
        f"initial-{prefix}-note": opened_note,
        f"{prefix}-version": "" if version is None else str(version),
    }


def page_post(*rows, period="Q4 FY19"):
    data = {"period": period}
    for row in rows:
        data.update(row)
    return data


@pytest.fixture
def indicator(goal):
    value = IndicatorValueFactory(
        indicator=IndicatorFactory(goal=goal, name="Cases referred"),
        period=Q4_FY19,
        target=Decimal(12),
        actual=None,
    )
    return value.indicator


def test_a_leader_enters_the_reporting_quarters_actual_with_a_note(goal, leader, indicator):
    client = client_for(leader)
    page = parse(client.get(actuals_url(goal)).content)
    row = page.find("tr", data_actual_row=str(indicator.pk))
    assert page.find("h1").text == "Indicator actuals for Q4 FY19"
    assert [td.text.strip() for td in row.find_all("td")][:2] == ["Q4 FY19", "12.00"]
    assert "only" in page.find("p", data_actuals_rule=True).text

    response = client.post(
        actuals_url(goal),
        page_post(row_post(indicator, actual="9.5", note="Two cases moved to Q1.", version=1)),
    )

    assert response.status_code == 302
    value = indicator.values.get(period=Q4_FY19)
    assert (value.target, value.actual, value.note) == (
        Decimal(12),
        Decimal("9.50"),
        "Two cases moved to Q1.",
    )
    assert value.version == 2
    record = value.history.latest()
    assert record.history_user == leader
    assert describe(record.history_change_reason) == (
        "Entered the Q4 FY19 actual of “Cases referred”"
    )


def test_the_dashboard_links_to_the_actuals_for_those_who_may_enter_them(goal, leader, reviewer):
    link = parse(client_for(leader).get(goal.get_absolute_url()).content).find(
        "a", data_actuals_link=True
    )
    assert link.text == "Enter actuals for Q4 FY19"
    assert link.attrs["href"] == actuals_url(goal)
    reviewer_page = parse(client_for(reviewer).get(goal.get_absolute_url()).content)
    assert reviewer_page.find_all("a", data_actuals_link=True) == []


@pytest.mark.parametrize(
    ("role", "reports", "expected"),
    [
        (Role.LEADER, False, 302),
        (Role.DEPUTY, False, 302),
        (Role.CONTRIBUTOR, True, 302),
        (Role.CONTRIBUTOR, False, 403),
        (Role.REVIEWER, False, 403),
    ],
)
def test_who_may_enter_actuals(goal, indicator, role, reports, expected):
    user = MembershipFactory(goal=goal, role=role, reports_indicators=reports).user

    response = client_for(user).post(
        actuals_url(goal), page_post(row_post(indicator, actual="7", version=1))
    )

    assert response.status_code == expected
    saved = indicator.values.get(period=Q4_FY19).actual
    assert saved == (Decimal(7) if expected == 302 else None)


def test_an_outsider_of_a_restricted_goal_gets_404_and_an_admin_may(indicator, goal, admin_user):
    goal.sensitivity = "restricted"
    goal.save()
    outsider = UserFactory(username="nobody")
    data = page_post(row_post(indicator, actual="3", version=1))
    assert client_for(outsider).post(actuals_url(goal), data).status_code == 404
    assert client_for(outsider).get(actuals_url(goal)).status_code == 404
    assert indicator.values.get(period=Q4_FY19).actual is None
    assert client_for(admin_user).post(actuals_url(goal), data).status_code == 302
    assert indicator.values.get(period=Q4_FY19).actual == Decimal(3)


def test_a_form_opened_before_someone_elses_save_is_refused_and_loses_nothing(
    goal, leader, indicator
):
    deputy = MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="deputy").user
    other = IndicatorFactory(goal=goal, name="Designations")
    # Both open the page at version 1 of the Q4 value (and no value of the other).
    first = client_for(deputy).post(
        actuals_url(goal), page_post(row_post(indicator, actual="10", note="Deputy's", version=1))
    )
    assert first.status_code == 302

    second = client_for(leader).post(
        actuals_url(goal),
        page_post(
            row_post(indicator, actual="11", note="Leader's", version=1),
            row_post(other, actual="4"),
        ),
    )

    assert second.status_code == 409
    page = parse(second.content)
    assert [li.text for li in page.find("div", data_conflict=True).find_all("li")] == [
        "Cases referred"
    ]
    # All or nothing: the other row is not saved either, and the deputy's save stands.
    assert not other.values.exists()
    value = indicator.values.get(period=Q4_FY19)
    assert (value.actual, value.note, value.version) == (Decimal(10), "Deputy's", 2)
    # What the leader typed is kept, beside what is saved now, at the current version.
    row = page.find("tr", data_actual_row=str(indicator.pk))
    assert row.find("input", name=f"indicator-{indicator.pk}-actual").attrs["value"] == "11"
    assert row.find("textarea").text.strip() == "Leader's"
    assert row.find("input", name=f"indicator-{indicator.pk}-version").attrs["value"] == "2"
    assert "Saved now: 10.00" in row.find("div", data_saved_now=True).text
    assert "deputy" in row.find("div", data_saved_now=True).text
    other_row = page.find("tr", data_actual_row=str(other.pk))
    assert other_row.find("input", name=f"indicator-{other.pk}-actual").attrs["value"] == "4"

    # Saving the page as shown now applies the leader's edits.
    again = {
        node.attrs["name"]: node.attrs.get("value", "")
        for node in page.find("main").find("form", method="post").find_all("input")
    }
    again.update({f"indicator-{indicator.pk}-note": "Leader's", f"indicator-{other.pk}-note": ""})
    assert client_for(leader).post(actuals_url(goal), again).status_code == 302
    value.refresh_from_db()
    assert (value.actual, value.note, value.version) == (Decimal(11), "Leader's", 3)
    assert other.values.get(period=Q4_FY19).actual == Decimal(4)


def test_a_row_the_user_did_not_touch_is_left_alone(goal, leader, indicator):
    """Someone else's save of a row this user did not change is no conflict."""
    other = IndicatorFactory(goal=goal, name="Designations")
    record_actual(
        indicator=indicator,
        user=leader,
        period=Q4_FY19,
        actual=Decimal(5),
        note="",
        expected_version=1,
    )

    response = client_for(leader).post(
        actuals_url(goal),
        page_post(row_post(indicator, version=1), row_post(other, actual="2")),
    )

    assert response.status_code == 302
    assert indicator.values.get(period=Q4_FY19).actual == Decimal(5)
    assert other.values.get(period=Q4_FY19).actual == Decimal(2)


def test_a_first_entry_made_meanwhile_makes_the_second_stale(goal, leader, indicator):
    other = IndicatorFactory(goal=goal, name="Designations")
    record_actual(
        indicator=other, user=leader, period=Q4_FY19, actual=1, note="", expected_version=None
    )
    with pytest.raises(StaleActualError) as stale:
        record_actual(
            indicator=other,
            user=leader,
            period=Q4_FY19,
            actual=Decimal(2),
            note="",
            expected_version=None,
        )
    assert stale.value.value.actual == Decimal(1)


def test_a_quarter_in_review_refuses_actuals_with_the_reason(goal, leader, indicator):
    ProgressSummaryFactory(goal=goal, period=Q4_FY19, review_state=ReviewState.SUBMITTED)
    client = client_for(leader)
    assert "locked while it is in review" in client.get(actuals_url(goal)).content.decode()

    response = client.post(
        actuals_url(goal), page_post(row_post(indicator, actual="9", note="Typed", version=1))
    )

    assert response.status_code == 409
    page = parse(response.content)
    assert "is submitted" in page.find("div", data_actuals_problem=True).text
    assert page.find("input", name=f"indicator-{indicator.pk}-actual").attrs["value"] == "9"
    assert indicator.values.get(period=Q4_FY19).actual is None


def test_an_annual_indicator_takes_its_years_value_locked_with_the_q4_update(goal, leader):
    annual = IndicatorFactory(goal=goal, name="Annual assessments", frequency=Frequency.ANNUAL)
    page = parse(client_for(leader).get(actuals_url(goal)).content)
    row = page.find("tr", data_actual_row=str(annual.pk))
    assert row.find_all("td")[0].text == "FY19"

    record_actual(
        indicator=annual, user=leader, period=FY19, actual=3, note="", expected_version=None
    )
    assert annual.values.get().period == FY19
    ProgressSummaryFactory(goal=goal, period=Q4_FY19, review_state=ReviewState.APPROVED)
    with pytest.raises(UpdateInReviewError):
        record_actual(
            indicator=annual, user=leader, period=FY19, actual=4, note="", expected_version=2
        )


def test_an_annual_indicator_is_not_due_before_q4(leader):
    goal = GoalFactory(reporting_quarter_set=Q3_FY19)
    MembershipFactory(goal=goal, user=leader, role=Role.LEADER)
    annual = IndicatorFactory(goal=goal, name="Annual assessments", frequency=Frequency.ANNUAL)

    page = parse(client_for(leader).get(actuals_url(goal)).content)

    assert page.find_all("tr", data_actual_row=str(annual.pk)) == []
    assert "Annual assessments" in page.find("p", data_not_due=True).text
    with pytest.raises(ValidationError, match="entered with the Q4 update"):
        record_actual(
            indicator=annual, user=leader, period=FY19, actual=1, note="", expected_version=None
        )


def test_only_the_reporting_quarter_is_open_to_non_admins(goal, leader, indicator, admin_user):
    with pytest.raises(ValidationError, match="reporting quarter, Q4 FY19"):
        record_actual(
            indicator=indicator,
            user=leader,
            period=Q3_FY19,
            actual=Decimal(1),
            note="",
            expected_version=None,
        )
    # An admin may correct an earlier quarter that is not published.
    record_actual(
        indicator=indicator,
        user=admin_user,
        period=Q3_FY19,
        actual=Decimal(1),
        note="",
        expected_version=None,
        any_period=True,
    )
    assert indicator.values.get(period=Q3_FY19).actual == Decimal(1)
    # A leader's ?period= is ignored: the page is the reporting quarter's.
    page = parse(client_for(leader).get(actuals_url(goal) + "?period=Q3+FY19").content)
    assert page.find("h1").text == "Indicator actuals for Q4 FY19"


def test_a_closed_goal_refuses_actuals(goal, leader, indicator):
    goal.closed_at = timezone.now()
    goal.save()
    response = client_for(leader).post(
        actuals_url(goal), page_post(row_post(indicator, actual="9", version=1))
    )
    assert response.status_code == 403
    with pytest.raises(ValidationError, match="is closed"):
        record_actual(
            indicator=indicator,
            user=leader,
            period=Q4_FY19,
            actual=Decimal(9),
            note="",
            expected_version=1,
        )
    assert indicator.values.get(period=Q4_FY19).actual is None


def test_bad_input_is_refused_with_a_message_and_kept(goal, leader, indicator):
    response = client_for(leader).post(
        actuals_url(goal), page_post(row_post(indicator, actual="lots", note="Kept", version=1))
    )
    assert response.status_code == 400
    page = parse(response.content)
    assert "Enter a number." in page.find("tr", data_actual_row=str(indicator.pk)).text
    assert page.find("textarea").text.strip() == "Kept"
    assert indicator.values.get(period=Q4_FY19).actual is None


def test_record_actuals_names_every_stale_row_and_writes_nothing(goal, leader):
    first, second = IndicatorFactory(goal=goal), IndicatorFactory(goal=goal)
    for item in (first, second):
        record_actual(
            indicator=item, user=leader, period=Q4_FY19, actual=1, note="", expected_version=None
        )
    third = IndicatorFactory(goal=goal)

    with pytest.raises(StaleActualsError) as stale:
        record_actuals(
            user=leader,
            period_of=lambda indicator: Q4_FY19,
            entries=[
                ActualEntry(first, Decimal(2), "", None),
                ActualEntry(third, Decimal(2), "", None),
                ActualEntry(second, Decimal(2), "", None),
            ],
        )

    assert set(stale.value.stale) == {first.pk, second.pk}
    assert not third.values.exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_entries_exactly_one_wins():
    goal = GoalFactory()
    indicator = IndicatorFactory(goal=goal)
    users = [UserFactory(username="alpha"), UserFactory(username="beta")]
    barrier = threading.Barrier(2)
    outcomes = {}

    def attempt(user, actual):
        try:
            barrier.wait()
            record_actual(
                indicator=indicator,
                user=user,
                period=Q4_FY19,
                actual=Decimal(actual),
                note=f"{user.username} says so",
                expected_version=None,
            )
            outcomes[user.username] = "saved"
        except StaleActualError:
            outcomes[user.username] = "conflict"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=(users[0], 5)),
        threading.Thread(target=attempt, args=(users[1], 6)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    value = IndicatorValue.objects.get(indicator=indicator, period=Q4_FY19)
    assert (value.note, value.version) == (f"{winner} says so", 1)
    assert [h.history_username for h in value.history.all()] == [winner]
