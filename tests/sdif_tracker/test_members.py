"""The members page of a goal and the agency page: who may use them, adding, changing and
removing members and agency-wide roles, the agency's review steps; every change
recorded, bad input changing nothing, a stale page refused."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.history import history_of
from audit.reasons import decode
from strategies.models import Agency, AgencyRole, AgencyRoleKind, Membership, Role, Sensitivity
from tests.factories import (
    AgencyFactory,
    AgencyRoleFactory,
    GoalFactory,
    MembershipFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def treasury():
    return AgencyFactory()


@pytest.fixture
def state_agency():
    return AgencyFactory(name="Department of State", abbreviation="State")


@pytest.fixture
def goal(treasury):
    return GoalFactory(agency=treasury, sensitivity=Sensitivity.RESTRICTED, slug="sdif")


@pytest.fixture
def agency_admin(treasury):
    return AgencyRoleFactory(
        agency=treasury, role=AgencyRoleKind.ADMIN, user__username="treasury-admin"
    ).user


@pytest.fixture
def pio(treasury):
    return AgencyRoleFactory(
        agency=treasury, role=AgencyRoleKind.PERFORMANCE_OFFICE, user__username="pio"
    ).user


def members_url(goal, name="goal_members"):
    return reverse(name, kwargs={"slug": goal.slug})


def agency_url(agency, name="agency_detail"):
    return reverse(name, kwargs={"pk": agency.pk})


def record_of(obj) -> int:
    return history_of(type(obj)).filter(id=obj.pk).order_by("-history_id").first().history_id


def last_reason(model, pk):
    row = history_of(model).filter(id=pk).order_by("-history_id").first()
    return decode(row.history_change_reason), row.history_user


def members(goal):
    return dict(goal.memberships.values_list("user__username", "role"))


# -- the members page: who may use it ----------------------------------------------------


def test_an_agency_admin_sees_the_goals_members(client, goal, agency_admin):
    MembershipFactory(goal=goal, role=Role.LEADER, user__username="leader")
    client.force_login(agency_admin)

    response = client.get(members_url(goal))

    assert response.status_code == 200
    rows = parse(response.content).find_all("tr", data_member=True)
    assert [(r.attrs["data-member"], r.attrs["data-role"]) for r in rows] == [("leader", "leader")]


def test_the_dashboard_links_the_members_and_agency_pages_for_those_who_may_use_them(
    client, goal, agency_admin, pio
):
    leader = MembershipFactory(goal=goal, role=Role.LEADER).user
    links = {}
    for user in (agency_admin, pio, leader):
        client.force_login(user)
        page = parse(client.get(goal.get_absolute_url()).content)
        links[user.username] = {
            a.attrs["data-plan-link"] for a in page.find_all("a", data_plan_link=True)
        }

    assert {"goal_members", "agency_detail"} <= links["treasury-admin"]
    assert "agency_detail" in links["pio"] and "goal_members" not in links["pio"]
    assert not {"goal_members", "agency_detail"} & links[leader.username]


@pytest.mark.parametrize("role", [Role.LEADER, Role.REVIEWER])
def test_members_of_the_goal_may_not_manage_its_members(client, goal, role):
    client.force_login(MembershipFactory(goal=goal, role=role).user)
    assert client.get(members_url(goal)).status_code == 403


def test_the_performance_office_may_not_manage_members(client, goal, pio):
    client.force_login(pio)
    assert client.get(members_url(goal)).status_code == 403


def test_another_agencys_admin_gets_404_on_a_restricted_goal_and_403_on_an_internal_one(
    client, goal, state_agency
):
    client.force_login(AgencyRoleFactory(agency=state_agency, role=AgencyRoleKind.ADMIN).user)
    internal = GoalFactory(agency=goal.agency, sensitivity=Sensitivity.INTERNAL)

    assert client.get(members_url(goal)).status_code == 404
    assert client.get(members_url(internal)).status_code == 403
    response = client.post(members_url(internal), {"username": "x", "role": Role.LEADER})
    assert response.status_code == 403


# -- adding, changing, removing ---------------------------------------------------------


def test_an_agency_admin_adds_a_member_and_the_history_says_so(client, goal, agency_admin):
    UserFactory(username="newcomer")
    client.force_login(agency_admin)

    response = client.post(
        members_url(goal),
        {"username": "newcomer", "role": Role.CONTRIBUTOR, "reports_indicators": "on"},
    )

    assert response.status_code == 302
    membership = goal.memberships.get(user__username="newcomer")
    assert (membership.role, membership.reports_indicators) == (Role.CONTRIBUTOR, True)
    reason, by = last_reason(Membership, membership.pk)
    assert reason == ("member_added", {"user": "newcomer", "role": "contributor"})
    assert by == agency_admin
    page = parse(client.get(response["Location"]).content)
    assert page.find("tr", data_member="newcomer").attrs["data-reports"] == "1"


def test_an_unknown_username_is_refused_and_nothing_is_added(client, goal, agency_admin):
    client.force_login(agency_admin)

    response = client.post(members_url(goal), {"username": "nobody", "role": Role.LEADER})

    assert response.status_code == 400
    assert "No user is called “nobody”" in response.content.decode()
    assert members(goal) == {}


def test_someone_already_a_member_is_refused_and_keeps_their_role(client, goal, agency_admin):
    MembershipFactory(goal=goal, role=Role.REVIEWER, user__username="rita")
    client.force_login(agency_admin)

    response = client.post(members_url(goal), {"username": "rita", "role": Role.LEADER})

    assert response.status_code == 400
    assert "rita is already a member of this goal, as Reviewer" in response.content.decode()
    assert members(goal) == {"rita": Role.REVIEWER}


def test_a_role_outside_the_list_is_refused(client, goal, agency_admin):
    UserFactory(username="newcomer")
    client.force_login(agency_admin)

    response = client.post(members_url(goal), {"username": "newcomer", "role": "owner"})

    assert response.status_code == 400
    assert members(goal) == {}


def test_changing_a_members_role_is_recorded(client, goal, agency_admin):
    membership = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR, user__username="carl")
    client.force_login(agency_admin)

    response = client.post(
        members_url(goal, "member_change"),
        {"member": membership.pk, "role": Role.DEPUTY, "record": record_of(membership)},
    )

    assert response.status_code == 302
    assert members(goal) == {"carl": Role.DEPUTY}
    reason, _by = last_reason(Membership, membership.pk)
    assert reason == ("member_changed", {"user": "carl", "fields": ["role"]})


def test_the_indicator_capability_is_kept_for_contributors_only(client, goal, agency_admin):
    membership = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR)
    client.force_login(agency_admin)
    post = {"member": membership.pk, "record": record_of(membership)}

    client.post(
        members_url(goal, "member_change"),
        {**post, "reports_indicators": "on", "role": Role.CONTRIBUTOR},
    )
    membership.refresh_from_db()
    assert membership.reports_indicators is True

    post["record"] = record_of(membership)
    client.post(
        members_url(goal, "member_change"),
        {**post, "reports_indicators": "on", "role": Role.REVIEWER},
    )
    membership.refresh_from_db()
    assert (membership.role, membership.reports_indicators) == (Role.REVIEWER, False)


def test_a_change_from_a_stale_page_is_refused_with_what_changed(client, goal, agency_admin):
    membership = MembershipFactory(goal=goal, role=Role.CONTRIBUTOR, user__username="carl")
    opened = record_of(membership)
    other = UserFactory(username="other-admin", is_staff=True)
    client.force_login(other)
    client.post(
        members_url(goal, "member_change"),
        {"member": membership.pk, "role": Role.LEADER, "record": opened},
    )
    client.force_login(agency_admin)

    response = client.post(
        members_url(goal, "member_change"),
        {"member": membership.pk, "role": Role.REVIEWER, "record": opened},
    )

    assert response.status_code == 409
    conflict = parse(response.content).find(data_conflict=True)
    assert "other-admin" in conflict.text
    assert members(goal) == {"carl": Role.LEADER}


def test_removing_asks_first_then_removes_and_records_it(client, goal, agency_admin):
    membership = MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="dora")
    client.force_login(agency_admin)

    page = parse(client.get(f"{members_url(goal)}?remove={membership.pk}").content)
    confirm = page.find(data_remove_confirm=str(membership.pk))
    assert "Remove dora (Deputy goal leader) from this goal?" in confirm.find("h3").text
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in confirm.find_all("input")}
    assert members(goal) == {"dora": Role.DEPUTY}  # asking removed nothing

    response = client.post(members_url(goal, "member_remove"), fields)

    assert response.status_code == 302
    assert members(goal) == {}
    removal = history_of(Membership).filter(id=membership.pk, history_type="-").get()
    assert decode(removal.history_change_reason) == ("member_removed", {"user": "dora"})


def test_a_removal_not_from_the_confirmation_removes_nothing(client, goal, agency_admin):
    membership = MembershipFactory(goal=goal, role=Role.DEPUTY)
    client.force_login(agency_admin)

    response = client.post(members_url(goal, "member_remove"), {"member": membership.pk})

    assert response.status_code == 400
    assert goal.memberships.count() == 1


def test_a_reviewer_cannot_remove_a_member_by_posting(client, goal):
    membership = MembershipFactory(goal=goal, role=Role.DEPUTY)
    client.force_login(MembershipFactory(goal=goal, role=Role.REVIEWER).user)

    response = client.post(
        members_url(goal, "member_remove"),
        {"member": membership.pk, "record": record_of(membership)},
    )

    assert response.status_code == 403
    assert goal.memberships.filter(pk=membership.pk).exists()


def test_a_member_of_another_goal_cannot_be_changed_through_this_one(client, goal, agency_admin):
    elsewhere = MembershipFactory(role=Role.CONTRIBUTOR)
    client.force_login(agency_admin)

    response = client.post(
        members_url(goal, "member_change"),
        {"member": elsewhere.pk, "role": Role.LEADER, "record": record_of(elsewhere)},
    )

    assert response.status_code == 409
    elsewhere.refresh_from_db()
    assert elsewhere.role == Role.CONTRIBUTOR


# -- the agency page ---------------------------------------------------------------------


def test_the_agency_page_says_the_recording_never_stops(client, treasury, agency_admin):
    client.force_login(agency_admin)
    response = client.get(agency_url(treasury))
    assert response.status_code == 200
    assert "Switching a step off never switches off the recording" in response.content.decode()


def test_an_agency_admin_switches_a_review_step_off_and_it_is_recorded(
    client, treasury, agency_admin
):
    client.force_login(agency_admin)

    response = client.post(
        agency_url(treasury, "agency_steps"),
        {"examiner_clearance": "on", "record": record_of(treasury)},
    )

    assert response.status_code == 302
    treasury.refresh_from_db()
    assert (treasury.agency_approval, treasury.examiner_clearance) == (False, True)
    reason, by = last_reason(Agency, treasury.pk)
    assert reason == ("agency_steps_changed", {"fields": ["agency_approval"]})
    assert by == agency_admin


def test_only_a_site_admin_switches_the_examiners_clearance_off(client, treasury, agency_admin):
    # The examiner is OMB's check on the agency: its own administrator cannot skip it.
    client.force_login(agency_admin)

    response = client.post(
        agency_url(treasury, "agency_steps"),
        {"agency_approval": "on", "record": record_of(treasury)},
    )

    assert response.status_code == 403
    assert "only a site administrator switches it off" in parse(response.content).text
    treasury.refresh_from_db()
    assert (treasury.agency_approval, treasury.examiner_clearance) == (True, True)

    client.force_login(UserFactory(is_staff=True))
    response = client.post(
        agency_url(treasury, "agency_steps"),
        {"agency_approval": "on", "record": record_of(treasury)},
    )
    assert response.status_code == 302
    treasury.refresh_from_db()
    assert (treasury.agency_approval, treasury.examiner_clearance) == (True, False)


def test_an_agency_admin_cannot_make_themselves_the_performance_office(
    client, treasury, agency_admin
):
    client.force_login(agency_admin)

    response = client.post(
        agency_url(treasury, "agency_role_add"),
        {"username": agency_admin.get_username(), "role": "performance_office"},
    )

    assert response.status_code == 403
    assert "You cannot make yourself the agency's performance office" in (
        parse(response.content).text
    )
    assert not AgencyRole.objects.filter(
        user=agency_admin, agency=treasury, role="performance_office"
    ).exists()


def test_review_steps_from_a_stale_page_are_refused(client, treasury, agency_admin):
    opened = record_of(treasury)
    client.force_login(UserFactory(is_staff=True))
    client.post(agency_url(treasury, "agency_steps"), {"record": opened})
    client.force_login(agency_admin)

    response = client.post(
        agency_url(treasury, "agency_steps"),
        {"agency_approval": "on", "examiner_clearance": "on", "record": opened},
    )

    assert response.status_code == 409
    treasury.refresh_from_db()
    assert (treasury.agency_approval, treasury.examiner_clearance) == (False, False)


def test_the_performance_office_reads_the_agency_page_but_changes_nothing(client, treasury, pio):
    client.force_login(pio)

    page = parse(client.get(agency_url(treasury)).content)
    assert page.find_all(data_steps_form=True) == []
    assert page.find("tr", data_holder="pio").attrs["data-agency-role"] == "performance_office"

    response = client.post(agency_url(treasury, "agency_steps"), {"record": record_of(treasury)})
    assert response.status_code == 403
    treasury.refresh_from_db()
    assert treasury.agency_approval and treasury.examiner_clearance


def test_the_agency_page_is_404_for_people_without_a_role_there(client, treasury, state_agency):
    client.force_login(AgencyRoleFactory(agency=state_agency, role=AgencyRoleKind.ADMIN).user)
    assert client.get(agency_url(treasury)).status_code == 404
    client.force_login(MembershipFactory(goal__agency=treasury, role=Role.LEADER).user)
    assert client.get(agency_url(treasury)).status_code == 404
    assert client.get(reverse("agency_detail", kwargs={"pk": 999999})).status_code == 404


def test_an_agency_admin_gives_the_performance_office_role(client, treasury, agency_admin):
    UserFactory(username="paula")
    client.force_login(agency_admin)

    response = client.post(
        agency_url(treasury, "agency_role_add"),
        {"username": "paula", "role": AgencyRoleKind.PERFORMANCE_OFFICE},
    )

    assert response.status_code == 302
    given = AgencyRole.objects.get(user__username="paula")
    assert (given.agency, given.role) == (treasury, AgencyRoleKind.PERFORMANCE_OFFICE)
    reason, _by = last_reason(AgencyRole, given.pk)
    assert reason == ("agency_role_given", {"user": "paula", "role": "performance_office"})


def test_only_a_site_admin_assigns_an_examiner(client, treasury, agency_admin):
    UserFactory(username="omb")
    client.force_login(agency_admin)

    refused = client.post(
        agency_url(treasury, "agency_role_add"),
        {"username": "omb", "role": AgencyRoleKind.EXAMINER},
    )

    assert refused.status_code == 403
    assert "only a site administrator" in refused.content.decode()
    assert not AgencyRole.objects.filter(user__username="omb").exists()

    client.force_login(UserFactory(is_staff=True))
    given = client.post(
        agency_url(treasury, "agency_role_add"),
        {"username": "omb", "role": AgencyRoleKind.EXAMINER},
    )
    assert given.status_code == 302
    assert AgencyRole.objects.filter(user__username="omb", role=AgencyRoleKind.EXAMINER).exists()


def test_giving_a_role_to_an_unknown_user_or_twice_changes_nothing(
    client, treasury, agency_admin, pio
):
    client.force_login(agency_admin)
    add = agency_url(treasury, "agency_role_add")

    unknown = client.post(add, {"username": "ghost", "role": AgencyRoleKind.ADMIN})
    twice = client.post(add, {"username": "pio", "role": AgencyRoleKind.PERFORMANCE_OFFICE})

    assert unknown.status_code == twice.status_code == 400
    assert "pio already holds this role" in twice.content.decode()
    assert AgencyRole.objects.count() == 2


def test_taking_a_role_away_asks_first_and_is_recorded(client, treasury, agency_admin, pio):
    held = AgencyRole.objects.get(user=pio)
    client.force_login(agency_admin)

    page = parse(client.get(f"{agency_url(treasury)}?remove={held.pk}").content)
    confirm = page.find(data_remove_confirm=str(held.pk))
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in confirm.find_all("input")}
    assert AgencyRole.objects.filter(pk=held.pk).exists()

    response = client.post(agency_url(treasury, "agency_role_remove"), fields)

    assert response.status_code == 302
    assert not AgencyRole.objects.filter(pk=held.pk).exists()
    removal = history_of(AgencyRole).filter(id=held.pk, history_type="-").get()
    assert decode(removal.history_change_reason) == (
        "agency_role_taken",
        {"user": "pio", "role": "performance_office"},
    )


def test_an_agency_admin_cannot_take_an_examiner_away(client, treasury, agency_admin):
    examiner = AgencyRoleFactory(agency=treasury, role=AgencyRoleKind.EXAMINER)
    client.force_login(agency_admin)

    page = parse(client.get(agency_url(treasury)).content)
    assert page.find_all(data_remove_link=str(examiner.pk)) == []
    response = client.post(
        agency_url(treasury, "agency_role_remove"),
        {"agency_role": examiner.pk, "record": record_of(examiner)},
    )

    assert response.status_code == 403
    assert AgencyRole.objects.filter(pk=examiner.pk).exists()


def test_a_role_of_another_agency_cannot_be_taken_through_this_one(
    client, treasury, state_agency, agency_admin
):
    elsewhere = AgencyRoleFactory(agency=state_agency, role=AgencyRoleKind.ADMIN)
    client.force_login(agency_admin)

    response = client.post(
        agency_url(treasury, "agency_role_remove"),
        {"agency_role": elsewhere.pk, "record": record_of(elsewhere)},
    )

    assert response.status_code == 409
    assert AgencyRole.objects.filter(pk=elsewhere.pk).exists()


# -- fixed query counts ------------------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_members_and_agency_pages_run_the_same_queries_for_2_and_20_rows(
    client, goal, treasury, agency_admin
):
    client.force_login(agency_admin)
    for _ in range(2):
        MembershipFactory(goal=goal, role=Role.CONTRIBUTOR)
        AgencyRoleFactory(agency=treasury, role=AgencyRoleKind.PERFORMANCE_OFFICE)
    client.get(members_url(goal))  # warm the session
    small = (count_queries(client, members_url(goal)), count_queries(client, agency_url(treasury)))
    for _ in range(18):
        MembershipFactory(goal=goal, role=Role.CONTRIBUTOR)
        AgencyRoleFactory(agency=treasury, role=AgencyRoleKind.PERFORMANCE_OFFICE)
        GoalFactory(agency=treasury)

    assert (
        count_queries(client, members_url(goal)),
        count_queries(client, agency_url(treasury)),
    ) == small
