"""The quality check in the browser: the dashboard's line opens the findings, the report
filters them; axe finds nothing on either."""

from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, log_in


def test_a_reviewer_reads_the_quality_check_and_the_report(new_page, sdif_goal, sdif_reviewer):
    page = new_page()
    log_in(page, "reviewer")
    page.goto("/goals/sdif/")
    check = page.locator("[data-quality-check]")
    # The SDIF plan: one statement finding, three worded as activities, eight without owner.
    expect(check.locator("summary")).to_have_text("Quality check: 12 findings")
    check.locator("summary").click()
    wording = "“Participate in annual SDIF senior level meetings.” names an activity"
    expect(check.get_by_role("link", name=wording)).to_be_visible()
    assert_accessible(page, "dashboard with the quality check open")

    page.get_by_role("link", name="Quality", exact=True).click()
    expect(page.get_by_role("heading", name="Quality report")).to_be_visible()
    assert_accessible(page, "quality report")
    page.get_by_label("Rule", exact=True).select_option("Q3")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("[data-quality-findings] tbody tr")).to_have_count(3)
    assert_accessible(page, "quality report filtered")
