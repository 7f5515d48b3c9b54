"""Who may see and change what: the access helpers and every read-only page."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from sdif_tracker import access
from sdif_tracker.pages.audit import audit_query_for
from strategies import services
from strategies.models import AgencyRoleKind, Role, Sensitivity
from tests.factories import (
    AgencyFactory,
    AgencyRoleFactory,
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    StrategyFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def page_urls(goal, milestone):
    return {
        "dashboard": reverse("goal_dashboard", kwargs={"slug": goal.slug}),
        "milestone": reverse("milestone_detail", kwargs={"slug": goal.slug, "pk": milestone.pk}),
        "plan": reverse("goal_plan", kwargs={"slug": goal.slug}),
    }


@pytest.fixture
def restricted():
    goal = GoalFactory(sensitivity=Sensitivity.RESTRICTED, title="Restricted goal")
    return goal, MilestoneFactory(goal=goal)


def listed_goals(client):
    response = client.get(reverse("portfolio"))
    assert response.status_code == 200
    return {
        row.attrs["data-goal"] for row in parse(response.content).find_all("tr", data_goal=True)
    }


# -- anonymous ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["dashboard", "milestone"])
def test_anonymous_users_are_sent_to_log_in(client, goal, page):
    url = page_urls(goal, MilestoneFactory(goal=goal))[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_users_are_sent_to_log_in_from_the_portfolio(client, db):
    response = client.get(reverse("portfolio"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_public_goals_plan_is_readable_without_logging_in(client):
    goal = GoalFactory(sensitivity=Sensitivity.PUBLIC, title="An open goal")
    response = client.get(reverse("goal_plan", kwargs={"slug": goal.slug}))
    assert response.status_code == 200
    assert "An open goal" in parse(response.content).find("h1").text


def test_a_public_goals_dashboard_and_milestones_still_need_a_login(client):
    goal = GoalFactory(sensitivity=Sensitivity.PUBLIC)
    urls = page_urls(goal, MilestoneFactory(goal=goal))
    for page in ("dashboard", "milestone"):
        response = client.get(urls[page])
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("sensitivity", [Sensitivity.INTERNAL, Sensitivity.RESTRICTED])
def test_a_non_public_plan_sends_anonymous_users_to_log_in(client, sensitivity):
    goal = GoalFactory(sensitivity=sensitivity)
    url = reverse("goal_plan", kwargs={"slug": goal.slug})
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_an_unknown_plan_looks_the_same_as_a_hidden_one_to_anonymous_users(client, db):
    response = client.get(reverse("goal_plan", kwargs={"slug": "no-such-goal"}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_after_logging_in_an_outsider_gets_404_on_a_restricted_plan(client, restricted):
    goal, _ = restricted
    UserFactory(username="visitor")
    url = reverse("goal_plan", kwargs={"slug": goal.slug})
    response = client.post(
        reverse("login"),
        {"username": "visitor", "password": "correct horse battery staple", "next": url},
    )
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.get(url).status_code == 404


# -- restricted goals: member, member of another goal, outsider ------------------------


@pytest.mark.parametrize("page", ["dashboard", "milestone", "plan"])
def test_an_outsider_gets_404_on_a_restricted_goal(client, outsider, restricted, page):
    client.force_login(outsider)
    assert client.get(page_urls(*restricted)[page]).status_code == 404


@pytest.mark.parametrize("page", ["dashboard", "milestone", "plan"])
def test_a_member_of_another_goal_gets_404_on_a_restricted_goal(client, restricted, page):
    other = GoalFactory(sensitivity=Sensitivity.RESTRICTED)
    client.force_login(MembershipFactory(goal=other, role=Role.LEADER).user)
    assert client.get(page_urls(*restricted)[page]).status_code == 404


@pytest.mark.parametrize("role", [Role.LEADER, Role.CONTRIBUTOR, Role.REVIEWER])
@pytest.mark.parametrize("page", ["dashboard", "milestone", "plan"])
def test_a_member_of_a_restricted_goal_sees_it(client, restricted, role, page):
    goal, _ = restricted
    client.force_login(MembershipFactory(goal=goal, role=role).user)
    response = client.get(page_urls(*restricted)[page])
    assert response.status_code == 200
    assert "Restricted goal" in response.content.decode()


def test_the_portfolio_lists_a_restricted_goal_only_to_its_members(client, outsider, restricted):
    goal, _ = restricted
    visible = GoalFactory(sensitivity=Sensitivity.INTERNAL)
    client.force_login(outsider)
    assert listed_goals(client) == {visible.slug}

    client.force_login(MembershipFactory(goal=goal, role=Role.REVIEWER).user)
    assert listed_goals(client) == {visible.slug, goal.slug}


@pytest.mark.parametrize("page", ["dashboard", "milestone", "plan"])
def test_an_internal_goal_is_visible_to_any_logged_in_user(client, outsider, goal, page):
    assert goal.sensitivity == Sensitivity.INTERNAL
    client.force_login(outsider)
    assert client.get(page_urls(goal, MilestoneFactory(goal=goal))[page]).status_code == 200


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_staff_and_admins_see_every_goal(client, restricted, flag):
    goal, _ = restricted
    client.force_login(UserFactory(**{flag: True}))
    for page, url in page_urls(*restricted).items():
        assert client.get(url).status_code == 200, page
    assert goal.slug in listed_goals(client)


def test_a_milestone_of_another_goal_is_404_under_this_goals_slug(client, admin_user, goal):
    elsewhere = MilestoneFactory()
    client.force_login(admin_user)
    url = reverse("milestone_detail", kwargs={"slug": goal.slug, "pk": elsewhere.pk})
    assert client.get(url).status_code == 404
    assert client.get(elsewhere.get_absolute_url()).status_code == 200


def test_the_pages_refuse_posts(client, admin_user, goal):
    client.force_login(admin_user)
    for url in page_urls(goal, MilestoneFactory(goal=goal)).values():
        assert client.post(url).status_code == 405


# -- the helpers ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.LEADER, Role.DEPUTY, Role.CONTRIBUTOR])
def test_leaders_deputies_and_contributors_may_change_their_goal(goal, role):
    user = MembershipFactory(goal=goal, role=role).user
    assert access.can_edit_goal(user, goal)
    assert access.get_goal_for_user(user, goal.slug, need=access.Need.UPDATE_MILESTONES) == goal


def test_a_reviewer_may_read_but_not_change_their_goal(goal, reviewer):
    assert not access.can_edit_goal(reviewer, goal)
    assert access.get_goal_for_user(reviewer, goal.slug) == goal
    with pytest.raises(PermissionDenied):
        access.get_goal_for_user(reviewer, goal.slug, need=access.Need.UPDATE_MILESTONES)


def test_a_leader_may_not_change_another_goal(goal, leader):
    other = GoalFactory()
    assert not access.can_edit_goal(leader, other)
    with pytest.raises(PermissionDenied):
        access.get_goal_for_user(leader, other.slug, need=access.Need.UPDATE_MILESTONES)


def test_staff_may_change_any_goal(goal):
    assert access.can_edit_goal(UserFactory(is_staff=True), goal)


def test_anonymous_users_may_change_nothing(goal):
    assert not access.can_edit_goal(AnonymousUser(), goal)


def test_a_write_to_a_goal_one_may_not_see_is_404_not_403(outsider, restricted):
    goal, milestone = restricted
    with pytest.raises(Http404):
        access.get_goal_for_user(outsider, goal.slug, need=access.Need.UPDATE_MILESTONES)
    with pytest.raises(Http404):
        access.get_milestone_for_user(
            outsider, goal.slug, milestone.pk, need=access.Need.UPDATE_MILESTONES
        )


def test_get_milestone_for_user_checks_the_milestone_belongs_to_the_goal(goal, leader):
    mine = MilestoneFactory(goal=goal)
    other = MilestoneFactory()
    assert (
        access.get_milestone_for_user(
            leader, goal.slug, mine.pk, need=access.Need.UPDATE_MILESTONES
        )
        == mine
    )
    with pytest.raises(Http404):
        access.get_milestone_for_user(leader, goal.slug, other.pk)


def test_get_milestone_for_user_refuses_a_reviewers_write(goal, reviewer):
    milestone = MilestoneFactory(goal=goal)
    assert access.get_milestone_for_user(reviewer, goal.slug, milestone.pk) == milestone
    with pytest.raises(PermissionDenied):
        access.get_milestone_for_user(
            reviewer, goal.slug, milestone.pk, need=access.Need.UPDATE_MILESTONES
        )


def test_get_goal_for_plan_lets_anyone_read_a_public_goal(db):
    public = GoalFactory(sensitivity=Sensitivity.PUBLIC)
    assert access.get_goal_for_plan(AnonymousUser(), public.slug) == public


def test_get_goal_for_plan_asks_anonymous_users_to_log_in_for_other_goals(goal):
    with pytest.raises(access.LoginRequired):
        access.get_goal_for_plan(AnonymousUser(), goal.slug)


# -- who sees which goal ------------------------------------------------------------------


@pytest.fixture
def goals(db):
    return {
        sensitivity: GoalFactory(sensitivity=sensitivity, slug=f"{sensitivity}-goal")
        for sensitivity in Sensitivity
    }


def visible(user):
    return {goal.sensitivity for goal in access.visible_goals(user)}


def test_anonymous_users_see_no_goal_in_the_app(goals):
    assert visible(AnonymousUser()) == set()
    assert visible(None) == set()


def test_a_signed_in_outsider_sees_public_and_internal_goals(goals, outsider):
    assert visible(outsider) == {Sensitivity.PUBLIC, Sensitivity.INTERNAL}


def test_a_member_of_a_restricted_goal_has_it_among_visible_goals(goals):
    member = MembershipFactory(goal=goals[Sensitivity.RESTRICTED], role=Role.REVIEWER).user

    assert visible(member) == set(Sensitivity)


def test_a_member_of_another_restricted_goal_does_not_see_this_one(goals):
    other = GoalFactory(sensitivity=Sensitivity.RESTRICTED)
    member = MembershipFactory(goal=other, role=Role.LEADER).user

    assert set(access.visible_goals(member)) == {
        goals[Sensitivity.PUBLIC],
        goals[Sensitivity.INTERNAL],
        other,
    }


def test_staff_see_every_goal(goals):
    assert visible(UserFactory(is_staff=True)) == set(Sensitivity)


def test_an_inactive_member_sees_nothing(goals):
    member = MembershipFactory(goal=goals[Sensitivity.RESTRICTED]).user
    member.is_active = False

    assert visible(member) == set()


def test_visible_goals_are_listed_once_however_many_members(goals):
    restricted = goals[Sensitivity.RESTRICTED]
    member = MembershipFactory(goal=restricted).user
    MembershipFactory.create_batch(3, goal=restricted)

    assert list(access.visible_goals(member)).count(restricted) == 1


# -- agency-wide roles ------------------------------------------------------------------


@pytest.fixture
def two_agencies():
    """Treasury and State, each with a restricted and an internal goal."""
    treasury = AgencyFactory()
    state = AgencyFactory(name="Department of State", abbreviation="State")
    goals = {}
    for agency in (treasury, state):
        for sensitivity in (Sensitivity.RESTRICTED, Sensitivity.INTERNAL):
            goals[agency.abbreviation, sensitivity] = GoalFactory(
                agency=agency,
                sensitivity=sensitivity,
                title=f"{agency.abbreviation} {sensitivity}",
            )
    return treasury, state, goals


def agency_role(agency, kind, username=None):
    extra = {"user__username": username} if username else {}
    return AgencyRoleFactory(agency=agency, role=kind, **extra).user


def test_an_examiner_assigned_to_two_agencies_reads_both_and_no_other(two_agencies):
    treasury, state, goals = two_agencies
    examiner = agency_role(treasury, AgencyRoleKind.EXAMINER, "omb")
    agency_role(state, AgencyRoleKind.EXAMINER, "omb")
    third = GoalFactory(
        agency=AgencyFactory(name="Department of Labor"), sensitivity=Sensitivity.RESTRICTED
    )

    seen = set(access.visible_goals(examiner))
    for agency in ("Treasury", "State"):
        goal = goals[agency, Sensitivity.RESTRICTED]
        assert goal in seen
        assert access.permissions_for(examiner, goal).clear_update
        assert not access.permissions_for(examiner, goal).edit_plan
    assert third not in seen
    with pytest.raises(Http404):
        access.get_goal_for_user(examiner, third.slug)


def test_an_agency_admin_edits_their_agencys_goals_and_no_other(two_agencies):
    treasury, _state, goals = two_agencies
    admin = agency_role(treasury, AgencyRoleKind.ADMIN)

    own = goals["Treasury", Sensitivity.RESTRICTED]
    perms = access.permissions_for(admin, own)
    assert perms.edit_plan and perms.manage_members and perms.manage_lifecycle
    assert access.get_goal_for_user(admin, own.slug, need=access.Need.EDIT_PLAN) == own
    assert own in access.editable_goals(admin)
    with pytest.raises(Http404):
        access.get_goal_for_user(admin, goals["State", Sensitivity.RESTRICTED].slug)
    internal = goals["State", Sensitivity.INTERNAL]
    with pytest.raises(PermissionDenied):
        access.get_goal_for_user(admin, internal.slug, need=access.Need.EDIT_PLAN)
    with pytest.raises(PermissionDenied):
        access.get_goal_for_user(admin, internal.slug, need=access.Need.MANAGE_MEMBERS)
    assert internal not in access.editable_goals(admin)
    # An agency administrator is not a site administrator: no Django admin.
    assert not access.is_admin(admin)


def test_the_performance_office_reads_history_and_audit_log_of_its_restricted_goals(
    client, two_agencies
):
    treasury, _state, goals = two_agencies
    pio = agency_role(treasury, AgencyRoleKind.PERFORMANCE_OFFICE)
    goal = goals["Treasury", Sensitivity.RESTRICTED]
    client.force_login(pio)

    assert client.get(reverse("goal_history", kwargs={"slug": goal.slug})).status_code == 200
    response = client.get(reverse("audit_log"), {"goal": goal.slug})
    assert response.status_code == 200
    assert access.permissions_for(pio, goal).review_history
    assert access.permissions_for(pio, goal).approve_update
    rows = parse(response.content).find_all("li", data_audit_row=f"goal:{goal.changes.get().pk}")
    assert rows, "the goal's creation is in its audit log"


def test_the_audit_log_shows_an_agency_role_only_its_own_agencys_goals(client, two_agencies):
    treasury, _state, goals = two_agencies
    pio = agency_role(treasury, AgencyRoleKind.PERFORMANCE_OFFICE)

    query, _goals = audit_query_for(pio, {})
    shown = {row.goal_id for row in query.all()}

    assert goals["Treasury", Sensitivity.RESTRICTED].pk in shown
    assert goals["Treasury", Sensitivity.INTERNAL].pk in shown
    # Another agency's goals, even the internal ones any signed-in user reads: their
    # changes (and where they came from) are that agency's reviewers' to read.
    assert goals["State", Sensitivity.INTERNAL].pk not in shown
    assert goals["State", Sensitivity.RESTRICTED].pk not in shown
    assert None not in shown  # agencies and their roles belong to no goal: site admins'
    assert not access.sees_every_change(pio)


def test_who_may_give_which_agency_wide_role(two_agencies):
    treasury, state, _goals = two_agencies
    admin = agency_role(treasury, AgencyRoleKind.ADMIN)
    pio = agency_role(treasury, AgencyRoleKind.PERFORMANCE_OFFICE)
    site_admin = UserFactory(is_staff=True)

    def may(user, agency):
        return {
            kind for kind in AgencyRoleKind if access.can_assign_agency_role(user, agency.pk, kind)
        }

    assert may(site_admin, treasury) == set(AgencyRoleKind)
    # Examiners are OMB staff: site administrators alone assign them.
    assert may(admin, treasury) == {AgencyRoleKind.ADMIN, AgencyRoleKind.PERFORMANCE_OFFICE}
    assert may(admin, state) == set()
    assert may(pio, treasury) == set()
    assert access.agency_permissions(pio, treasury.pk).edit_steps is False
    assert access.agency_permissions(admin, state.pk) is None
    assert access.agency_permissions(UserFactory(), treasury.pk) is None


def test_an_agency_admin_is_offered_reverts_a_performance_office_is_not(client, two_agencies):
    treasury, _state, goals = two_agencies
    goal = goals["Treasury", Sensitivity.RESTRICTED]
    strategy = StrategyFactory(goal=goal, number=1, title="Old title")
    services.update_strategy(
        strategy=strategy, user=UserFactory(is_staff=True), number=1, title="New title"
    )
    url = reverse("strategy_history", kwargs={"slug": goal.slug, "pk": strategy.pk})
    offered = {}
    for kind in (AgencyRoleKind.ADMIN, AgencyRoleKind.PERFORMANCE_OFFICE):
        client.force_login(agency_role(treasury, kind))
        page = parse(client.get(url).content)
        offered[kind] = [a for a in page.find_all("a") if "/revert/" in a.attrs.get("href", "")]

    assert offered[AgencyRoleKind.ADMIN]
    assert not offered[AgencyRoleKind.PERFORMANCE_OFFICE]


def test_where_a_change_came_from_is_shown_to_the_goals_own_reviewers(two_agencies):
    treasury, _state, goals = two_agencies
    examiner = agency_role(treasury, AgencyRoleKind.EXAMINER)
    own, other = goals["Treasury", Sensitivity.INTERNAL], goals["State", Sensitivity.INTERNAL]

    # The examiner reads both goals (internal: any signed-in user), but the client address
    # and request id of a change only on the timelines of their own agency's goals.
    assert access.can_see_change_origin(examiner, own)
    assert not access.can_see_change_origin(examiner, other)
    assert access.can_see_change_origin(UserFactory(is_staff=True), other)
    assert not access.can_see_change_origin(UserFactory(), own)
