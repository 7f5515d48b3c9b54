"""A goal's lifecycle on its pages: admins close it (once its last quarter is published),
reopen it and hold it on a reporting quarter, each with a reason kept in its history; the
goal header says which quarter the goal reports on, whether it is closed, and which
goals continue it or it continues; a closed goal offers no change to anyone."""

import datetime

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.history import history_of
from audit.reasons import describe
from milestones.models import Risk
from sdif_tracker import access
from strategies.forms import GoalForm
from strategies.models import Goal, Role, Sensitivity
from strategies.periods import FiscalPeriod
from strategies.services import update_goal
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

Q2_FY19, Q3_FY19, Q4_FY19 = FiscalPeriod(2019, 2), FiscalPeriod(2019, 3), FiscalPeriod(2019, 4)


def at(monkeypatch, *args):
    moment = datetime.datetime(*args, 12, 0, tzinfo=timezone.get_default_timezone())
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def published(goal, period):
    return ProgressSummaryFactory(
        goal=goal, period=period, risk=Risk.LOW, published_at=timezone.now()
    )


def fresh(goal) -> Goal:
    """The goal as the database has it now (no reporting quarter kept from before)."""
    return Goal.objects.get(pk=goal.pk)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(admin_user):
    return signed_in(admin_user)


@pytest.fixture
def finished_goal(db):
    """A goal of FY18–FY19 with every quarter up to Q4 FY19 published: it may be closed."""
    goal = GoalFactory(reporting_quarter_set=None, short_name="SDIF")
    published(goal, Q3_FY19)
    published(goal, Q4_FY19)
    return goal


def url(name, goal):
    return reverse(name, kwargs={"slug": goal.slug})


def reasons(goal) -> list[str]:
    """The goal's change reasons as a reader sees them (in English), oldest first."""
    return [
        describe(reason)
        for reason in history_of(Goal)
        .filter(id=goal.pk)
        .order_by("history_date")
        .values_list("history_change_reason", flat=True)
    ]


# -- closing --------------------------------------------------------------------------------


def test_an_admin_closes_a_finished_goal_with_a_reason(admin, finished_goal):
    page = admin.get(url("goal_dashboard", finished_goal))
    assert parse(page.content).find_all(data_lifecycle_link="close")

    response = admin.post(
        url("goal_close", finished_goal),
        {"version": finished_goal.version, "reason": "Cycle over; continued in FY20–21."},
    )

    assert response.status_code == 302
    goal = fresh(finished_goal)
    assert goal.is_closed
    assert reasons(goal)[-1] == "Closed the goal: Cycle over; continued in FY20–21."
    header = admin.get(url("goal_dashboard", goal)).content.decode()
    assert "data-closed" in header and "Closed on" in header
    assert 'data-lifecycle-link="reopen"' in header


def test_closing_needs_a_reason(admin, finished_goal):
    response = admin.post(
        url("goal_close", finished_goal), {"version": finished_goal.version, "reason": "  "}
    )

    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    assert not fresh(finished_goal).is_closed


def test_closing_is_not_offered_before_the_last_quarter_is_published(admin):
    goal = GoalFactory(reporting_quarter_set=None)
    published(goal, Q3_FY19)

    page = admin.get(url("goal_dashboard", goal))
    form = admin.get(url("goal_close", goal))
    post = admin.post(url("goal_close", goal), {"version": goal.version, "reason": "Early"})

    assert not parse(page.content).find_all(data_lifecycle_link="close")
    assert "once its last quarter, Q4 FY19, is published" in form.content.decode()
    assert post.status_code == 400
    assert not fresh(goal).is_closed


def test_a_stale_close_form_shows_who_changed_the_goal_and_closes_nothing(
    admin, admin_user, finished_goal
):
    opened = finished_goal.version
    update_goal(goal=finished_goal, user=admin_user, title="Renamed meanwhile")

    response = admin.post(url("goal_close", finished_goal), {"version": opened, "reason": "Done"})

    assert response.status_code == 409
    conflict = parse(response.content).find_all(data_conflict=True)
    assert conflict and "Nothing was saved" in conflict[0].text
    assert not fresh(finished_goal).is_closed
    # The form now carries the current version: sending it again closes the goal.
    again = admin.post(
        url("goal_close", finished_goal),
        {"version": fresh(finished_goal).version, "reason": "Done"},
    )
    assert again.status_code == 302 and fresh(finished_goal).is_closed


def test_only_admins_may_close_reopen_or_set_the_quarter(finished_goal, outsider):
    leader = MembershipFactory(goal=finished_goal, role=Role.LEADER).user
    restricted = GoalFactory(sensitivity=Sensitivity.RESTRICTED)
    data = {"version": finished_goal.version, "reason": "Mine to decide"}

    for name in ("goal_close", "goal_reopen", "goal_reporting_quarter"):
        assert signed_in(leader).get(url(name, finished_goal)).status_code == 403
        assert signed_in(leader).post(url(name, finished_goal), data).status_code == 403
        assert signed_in(outsider).post(url(name, restricted), data).status_code == 404
    assert not fresh(finished_goal).is_closed
    assert fresh(finished_goal).reporting_quarter_set is None


# -- reopening ------------------------------------------------------------------------------


def test_an_admin_reopens_a_closed_goal_with_a_reason(admin, finished_goal):
    admin.post(
        url("goal_close", finished_goal), {"version": finished_goal.version, "reason": "Done"}
    )
    goal = fresh(finished_goal)
    assert goal.is_closed

    refused = admin.post(url("goal_reopen", goal), {"version": goal.version, "reason": ""})
    response = admin.post(
        url("goal_reopen", goal), {"version": goal.version, "reason": "Closed by mistake"}
    )

    assert refused.status_code == 400
    assert response.status_code == 302
    assert not fresh(goal).is_closed
    assert reasons(goal)[-1] == "Reopened the goal: Closed by mistake"


# -- the reporting quarter ------------------------------------------------------------------


def test_the_header_says_which_quarter_the_goal_reports_on_whatever_the_year(
    monkeypatch, admin_user
):
    """A goal of FY18–FY19 with Q3 FY19 published reports on Q4 FY19, in 2019 and 2026."""
    goal = GoalFactory(reporting_quarter_set=None)
    published(goal, Q3_FY19)

    for day in ((2019, 7, 21), (2026, 11, 29)):
        at(monkeypatch, *day)
        # Signed in at that date: a session from another year would have expired.
        header = parse(signed_in(admin_user).get(url("goal_dashboard", goal)).content)

        (mark,) = header.find_all(data_reporting_quarter=True)
        assert mark.text.strip() == "Reporting on Q4 FY19"


def test_an_admin_holds_the_goal_on_a_quarter_and_lets_it_follow_publication_again(admin):
    goal = GoalFactory(reporting_quarter_set=None)
    published(goal, Q2_FY19)
    form = parse(admin.get(url("goal_reporting_quarter", goal)).content)
    options = [o.text for o in form.find("select", name="quarter").find_all("option")]
    # Only quarters after the last published one: a published quarter does not change.
    assert options == ["Follow publication", "Q3 FY19", "Q4 FY19"]

    held = admin.post(
        url("goal_reporting_quarter", goal),
        {"version": goal.version, "quarter": str(Q4_FY19.key), "reason": "Data call for Q4"},
    )

    assert held.status_code == 302
    assert fresh(goal).reporting_quarter_set == Q4_FY19
    page = admin.get(url("goal_dashboard", goal)).content.decode()
    assert "Reporting on Q4 FY19" in page
    assert reasons(goal)[-1] == "Reporting quarter set to Q4 FY19: Data call for Q4"

    back = admin.post(
        url("goal_reporting_quarter", goal),
        {"version": fresh(goal).version, "quarter": "", "reason": "Back to the rule"},
    )
    assert back.status_code == 302
    assert fresh(goal).reporting_quarter_set is None
    assert "Reporting on Q3 FY19" in admin.get(url("goal_dashboard", goal)).content.decode()
    assert reasons(goal)[-1] == "Reporting quarter follows publication again: Back to the rule"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"quarter": str(FiscalPeriod(2020, 1).key), "reason": "Next cycle"}, "not one of"),
        ({"quarter": str(Q2_FY19.key), "reason": ""}, "Say why"),
    ],
)
def test_a_quarter_outside_the_goal_or_no_reason_is_refused(admin, data, message):
    goal = GoalFactory(reporting_quarter_set=None)

    response = admin.post(url("goal_reporting_quarter", goal), {"version": goal.version, **data})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert fresh(goal).reporting_quarter_set is None


def test_a_stale_quarter_form_is_refused_with_the_conflict(admin, admin_user):
    goal = GoalFactory(reporting_quarter_set=None)
    opened = goal.version
    update_goal(goal=goal, user=admin_user, title="Renamed meanwhile")

    response = admin.post(
        url("goal_reporting_quarter", goal),
        {"version": opened, "quarter": str(Q2_FY19.key), "reason": "Hold"},
    )

    assert response.status_code == 409
    assert parse(response.content).find_all(data_conflict=True)
    assert fresh(goal).reporting_quarter_set is None


# -- a closed goal: read-only, no buttons -----------------------------------------------------


def test_a_closed_goal_offers_no_change_on_any_page(admin_user, finished_goal):
    milestone = MilestoneFactory(goal=finished_goal)
    leader = MembershipFactory(goal=finished_goal, role=Role.LEADER).user
    finished_goal.closed_at = timezone.now()
    finished_goal.save()
    write_urls = [
        url("goal_edit", finished_goal),
        url("strategy_list", finished_goal),
        url("progress_edit", finished_goal),
        url("publish_quarter", finished_goal),
        url("indicator_list", finished_goal),
        url("goal_close", finished_goal),
        url("goal_reporting_quarter", finished_goal),
        reverse("milestone_update", kwargs={"slug": finished_goal.slug, "pk": milestone.pk}),
    ]
    pages = [
        url("goal_dashboard", finished_goal),
        url("goal_plan", finished_goal),
        milestone.get_absolute_url(),
    ]

    for user in (admin_user, leader):
        for page in pages:
            response = signed_in(user).get(page)
            assert response.status_code == 200, page
            body = response.content.decode()
            for write in write_urls:
                assert write not in body, (user, page, write)


def test_a_write_to_a_closed_goal_shows_the_closed_page(admin, finished_goal):
    finished_goal.closed_at = timezone.now()
    finished_goal.save()

    response = admin.get(url("goal_edit", finished_goal))

    assert response.status_code == 403
    refusal = parse(response.content).find_all(data_refusal=True)
    assert "SDIF is closed" in refusal[0].text


# -- continuation -----------------------------------------------------------------------------


def render_continuation(goal, user) -> str:
    template = Template(
        "{% load goal_lifecycle %}{% goal_lifecycle goal as lifecycle %}"
        '{% include "strategies/_continuation.html" %}'
    )
    return template.render(Context({"goal": goal, "visible_goals": access.visible_goals(user)}))


@pytest.fixture
def cycles(db):
    agency = AgencyFactory()
    fy19 = GoalFactory(agency=agency, title="Illicit finance FY19")
    fy21 = GoalFactory(
        agency=agency, title="Illicit finance FY21", first_fiscal_year=2020, last_fiscal_year=2021
    )
    fy19.continued_by = fy21
    fy19.save()
    return fy19, fy21


def test_both_goals_link_to_each_other(cycles, admin_user):
    fy19, fy21 = cycles

    earlier = render_continuation(fy19, admin_user)
    later = render_continuation(fy21, admin_user)

    assert "Continued in FY 2020–21 as" in earlier and "Illicit finance FY21" in earlier
    assert fy21.get_plan_url() in earlier
    assert "Continues" in later and "Illicit finance FY19" in later and "(FY 2018–19)" in later


def test_a_goal_the_reader_may_not_see_is_not_linked(cycles):
    fy19, fy21 = cycles
    fy21.sensitivity = Sensitivity.RESTRICTED
    fy21.save()
    member = MembershipFactory(goal=fy19, role=Role.LEADER).user

    assert "Illicit finance FY21" not in render_continuation(fy19, member)
    assert "Illicit finance FY21" not in render_continuation(fy19, UserFactory())


def test_the_dashboard_shows_the_continuation(cycles, admin):
    fy19, fy21 = cycles

    page = parse(admin.get(url("goal_dashboard", fy19)).content)

    (link,) = page.find_all(data_continued_by=fy21.slug)
    assert "Continued in FY 2020–21 as Illicit finance FY21" in " ".join(link.text.split())


# -- who continues a goal: the goal form ------------------------------------------------------


def goal_form(goal, **changes):
    data = {name: getattr(goal, name) or "" for name in GoalForm.Meta.fields}
    data.update(version=goal.version, **changes)
    return GoalForm(data, instance=Goal.objects.get(pk=goal.pk))


def test_the_goal_form_offers_the_other_goals_of_the_same_agency(cycles):
    fy19, fy21 = cycles
    GoalFactory(title="Another agency's goal", agency=AgencyFactory(name="Other agency"))

    offered = set(goal_form(fy19).fields["continued_by"].queryset)

    assert offered == {fy21}


def test_a_goal_cannot_continue_itself_or_make_a_loop(cycles):
    fy19, fy21 = cycles

    loop = goal_form(fy21, continued_by=fy19.pk)
    itself = goal_form(fy21, continued_by=fy21.pk)
    fine = goal_form(fy19, continued_by=fy21.pk)

    assert not loop.is_valid()
    assert "leads back to this goal" in loop.errors["continued_by"][0]
    assert not itself.is_valid() and "continued_by" in itself.errors
    assert fine.is_valid(), fine.errors
