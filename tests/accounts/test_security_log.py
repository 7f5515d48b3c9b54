"""The security log: every sign-in, single sign-on, second-factor and token event, newest
first, filtered by user and kind, paged; for site administrators only."""

import pytest
from django.urls import reverse

from accounts import events
from accounts.models import SecurityEvent
from accounts.security_log_page import PAGE_SIZE
from tests.factories import AgencyRoleFactory, GoalFactory, MembershipFactory, UserFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind
URL = "/audit/security/"


@pytest.fixture
def site_admin(db):
    return UserFactory(username="siteadmin", is_staff=True, is_superuser=True)


def rows(response) -> list[tuple[str, str]]:
    """(username, event kind) of each row shown, top to bottom, but for the reading
    administrator's own sign-in (which ``force_login`` writes)."""
    table = parse(response.content).find("table", data_security_log=True)
    shown = [
        (row.find_all("td")[1].text.strip(), row.attrs["data-event"])
        for row in table.find_all("tr", data_event=True)
    ]
    return [row for row in shown if row != ("siteadmin", Kind.SIGNED_IN)]


def test_the_url_is_the_named_one():
    assert reverse("security_log") == URL


def test_site_administrators_see_every_kind_of_event_newest_first(client, site_admin):
    ada = UserFactory(username="ada")
    for kind in [Kind.SIGNED_IN_SSO, Kind.MFA_ADDED, Kind.TOKEN_CREATED, Kind.MFA_FAILED]:
        events.record(kind, user=ada)
    client.force_login(site_admin)

    response = client.get(URL)

    assert response.status_code == 200
    assert rows(response) == [
        ("ada", Kind.MFA_FAILED),
        ("ada", Kind.TOKEN_CREATED),
        ("ada", Kind.MFA_ADDED),
        ("ada", Kind.SIGNED_IN_SSO),
    ]
    assert "Signed in with single sign-on" in response.content.decode()


def test_filtered_by_user_and_kind(client, site_admin):
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    events.record(Kind.MFA_FAILED, user=ada)
    events.record(Kind.MFA_VERIFIED, user=ada)
    events.record(Kind.MFA_FAILED, user=bob)
    client.force_login(site_admin)

    assert rows(client.get(URL, {"user": "ADA"})) == [
        ("ada", Kind.MFA_VERIFIED),
        ("ada", Kind.MFA_FAILED),
    ]
    assert rows(client.get(URL, {"kind": Kind.MFA_FAILED})) == [
        ("bob", Kind.MFA_FAILED),
        ("ada", Kind.MFA_FAILED),
    ]
    assert rows(client.get(URL, {"user": "bob", "kind": Kind.MFA_VERIFIED})) == []


def test_a_filter_it_does_not_understand_is_said_and_ignored(client, site_admin):
    events.record(Kind.MFA_FAILED, user=UserFactory(username="ada"))
    client.force_login(site_admin)

    response = client.get(URL, {"kind": "no-such-kind", "page": "9"})

    assert response.status_code == 200
    problems = parse(response.content).find(data_filter_problems=True).text
    assert "Event" in problems and "There is no page 9" in problems
    assert rows(response) == [("ada", Kind.MFA_FAILED)]


def test_paged_by_fifty(client, site_admin):
    client.force_login(site_admin)  # the oldest event: its sign-in
    ada = UserFactory(username="ada")
    for _ in range(PAGE_SIZE):
        events.record(Kind.MFA_FAILED, user=ada)

    first, second = client.get(URL), client.get(URL, {"page": 2})

    assert rows(first) == [("ada", Kind.MFA_FAILED)] * PAGE_SIZE
    table = parse(second.content).find("table", data_security_log=True)
    assert [row.attrs["data-event"] for row in table.find_all("tr", data_event=True)] == [
        Kind.SIGNED_IN
    ]
    older = parse(first.content).find("a", rel="next")
    assert older.attrs["href"] == "?page=2"


@pytest.mark.parametrize("who", ["leader", "reviewer", "agency_admin", "outsider"])
def test_nobody_else_may_read_it(client, who):
    goal = GoalFactory()
    if who == "agency_admin":
        user = AgencyRoleFactory(agency=goal.agency, role="admin").user
    elif who == "outsider":
        user = UserFactory()
    else:
        user = MembershipFactory(goal=goal, role=who).user
    events.record(Kind.MFA_FAILED, user=UserFactory(username="ada"))
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code == 403
    assert "ada" not in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_audit_log_links_to_it_for_site_administrators_only(client, site_admin):
    reviewer = MembershipFactory(role="reviewer").user
    client.force_login(site_admin)
    link = parse(client.get(reverse("audit_log")).content).find("a", data_security_log_link=True)
    assert link.attrs["href"] == URL

    client.force_login(reviewer)
    page = parse(client.get(reverse("audit_log")).content)
    assert page.find_all("a", data_security_log_link=True) == []


def test_a_password_sign_in_is_in_the_log_with_its_address(client, site_admin):
    UserFactory(username="lee", password="a long pass phrase 42")  # noqa: S106 - a test's

    response = client.post(
        reverse("login"),
        {"username": "lee", "password": "a long pass phrase 42"},
        REMOTE_ADDR="192.0.2.7",
    )

    assert response.status_code == 302
    event = SecurityEvent.objects.get(username="lee")
    assert (event.kind, event.ip_address) == (Kind.SIGNED_IN, "192.0.2.7")
    client.force_login(site_admin)
    assert ("lee", Kind.SIGNED_IN) in rows(client.get(URL))
