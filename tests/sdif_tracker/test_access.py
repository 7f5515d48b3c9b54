"""Who may see and change what: the access helpers and every read-only page."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from sdif_tracker import access
from strategies.models import Role, Sensitivity
from tests.factories import GoalFactory, MembershipFactory, MilestoneFactory, UserFactory
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
