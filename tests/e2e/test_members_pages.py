"""The members page and the agency page in Chromium, as an agency administrator: axe finds
no violation in any state (the list, an add refused, the removal confirmation), and the
add → remove journey works by keyboard-reachable controls."""

from playwright.sync_api import expect

from strategies.models import AgencyRoleKind
from tests.e2e.helpers import assert_accessible, log_in
from tests.factories import AgencyRoleFactory, UserFactory


def test_an_agency_admin_manages_members_and_roles(new_page, sdif_goal, sdif_leader):
    AgencyRoleFactory(
        agency=sdif_goal.agency, role=AgencyRoleKind.ADMIN, user__username="treasury-admin"
    )
    AgencyRoleFactory(agency=sdif_goal.agency, role=AgencyRoleKind.EXAMINER)
    UserFactory(username="newcomer")
    page = new_page()
    log_in(page, "treasury-admin")

    page.goto(f"/goals/{sdif_goal.slug}/")
    page.locator("[data-plan-link=goal_members]").click()
    assert_accessible(page, "members")

    page.locator("#id_username").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("[data-form-errors]")).to_be_visible()
    assert_accessible(page, "members, an unknown username")

    page.locator("#id_username").fill("newcomer")
    page.locator("#id_role").select_option("contributor")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("tr[data-member=newcomer]")).to_be_visible()

    page.locator("tr[data-member=newcomer] [data-remove-link]").click()
    assert_accessible(page, "members, removal confirmation")
    page.get_by_role("button", name="Remove newcomer").click()
    expect(page.locator("tr[data-member=newcomer]")).to_have_count(0)

    page.goto(f"/goals/{sdif_goal.slug}/")
    page.locator("[data-plan-link=agency_detail]").click()
    assert_accessible(page, "agency")
    page.locator("#id_username").fill("ghost")
    page.get_by_role("button", name="Give role").click()
    assert_accessible(page, "agency, an unknown username")
