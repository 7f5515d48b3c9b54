"""The review chain in a browser, as the people in it use it: the SDIF leader writes and
submits the Q4 FY19 update, Treasury's performance office returns it with a comment, the
leader reads the comment, fixes the update and submits it again, the office approves it,
the examiner clears it, and the leader publishes it through the confirmation page. At
each step: the state badge, the comment, the Clearance page's rows, and axe on every
page and state reached. Then axe on the other pages this issue adds."""

import re

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from strategies.models import AgencyRole, AgencyRoleKind, Role
from tests.e2e.helpers import assert_accessible, log_in
from tests.factories import MembershipFactory, UserFactory

QUARTER = "Q4 FY19"  # the SDIF plan's reporting quarter: Q3 FY19 is published
ROW = f"sdif:{QUARTER}"
COMMENT = "Name the source of the enforcement figures in the summary."


@pytest.fixture
def reviewers(sdif_goal):
    """Treasury's performance office and the examiner assigned to Treasury."""
    found = {}
    for username, role in (
        ("office", AgencyRoleKind.PERFORMANCE_OFFICE),
        ("examiner", AgencyRoleKind.EXAMINER),
    ):
        user = UserFactory(username=username, first_name=username.title())
        AgencyRole.objects.create(user=user, agency=sdif_goal.agency, role=role)
        found[username] = user
    return found


def clearance_rows(page, group):
    """The Clearance page's rows in ``group``, as "goal:quarter"."""
    return page.locator(f'[data-clearance-group="{group}"] tr[data-clearance-row]')


def open_clearance(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clearance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clearance")


def expect_state(page, label):
    expect(page.locator("[data-review-standing] .review-badge")).to_contain_text(label)


def test_an_update_goes_through_review_to_publication(new_page, sdif_goal, sdif_leader, reviewers):
    leader = new_page()
    log_in(leader, "leader")

    # The leader writes the quarter's update: the dashboard says it is a draft to submit.
    leader.goto(f"/goals/sdif/progress/?period={QUARTER}")
    leader.get_by_label("Summary of progress").fill("- Meetings held with Mexican partners.")
    leader.get_by_label("Risk of not meeting the goal").select_option(label="Low")
    leader.get_by_role("button", name="Save").first.click()
    expect(leader.locator("#messages")).to_contain_text(f"summary of progress for {QUARTER}")
    leader.goto("/goals/sdif/")
    line = leader.locator("[data-update-standing]")
    expect(line).to_contain_text(f"{QUARTER} update:")
    expect(line.locator(".review-badge")).to_have_text("Review: Draft")
    expect(line).to_contain_text("waiting for the goal leader or deputy to submit it")
    assert_accessible(leader, "dashboard with the update's review line")
    leader.goto("/my/")
    expect(leader.locator("[data-update-action]")).to_contain_text("Submit")
    assert_accessible(leader, "my goals with a review step to take")

    # Submitted: the leader's own Clearance page has nothing for them now.
    leader.goto("/goals/sdif/")
    leader.locator("[data-update-link]").click()
    expect_state(leader, "Draft")
    assert_accessible(leader, "review page, draft")
    leader.get_by_role("button", name="Submit for review").click()
    expect(leader.locator("#messages")).to_contain_text(f"Submitted the {QUARTER} update")
    expect_state(leader, "Submitted")
    assert_accessible(leader, "review page, submitted (leader)")
    open_clearance(leader)
    expect(leader.locator("[data-clearance-empty]")).to_have_text("Nothing waits for you.")
    assert_accessible(leader, "clearance page, empty")

    # The agency's performance office finds it waiting and returns it with a comment.
    office = new_page()
    log_in(office, "office")
    open_clearance(office)
    rows = clearance_rows(office, "performance_office")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-clearance-row", ROW)
    expect(rows.first.locator(".review-badge")).to_contain_text("Submitted")
    expect(office.locator('[data-clearance-group="performance_office"] h2')).to_contain_text(
        "1 update"
    )
    assert_accessible(office, "clearance page, performance office")
    rows.first.get_by_role("link", name=re.compile("Approve or return")).click()
    expect_state(office, "Submitted")
    assert_accessible(office, "review page, submitted (performance office)")
    office.get_by_label("Comment for the goal team").fill(COMMENT)
    office.get_by_role("button", name="Return to draft").click()
    expect(office.locator("#messages")).to_contain_text("Returned the")
    expect_state(office, "Returned to draft")
    open_clearance(office)
    expect(office.locator("[data-clearance-empty]")).to_have_text("Nothing waits for you.")

    # The leader sees the comment on the dashboard, My goals, Clearance and the update.
    leader.goto("/goals/sdif/")
    line = leader.locator("[data-update-standing]")
    expect(line.locator(".review-badge")).to_have_text("Review: Returned to draft")
    expect(line.locator("[data-returned-comment]")).to_have_text(COMMENT)
    leader.goto("/my/")
    expect(leader.locator("[data-update-action]")).to_contain_text("Returned: fix and resubmit")
    expect(leader.locator("li[data-goal=sdif] [data-returned-comment]")).to_have_text(COMMENT)
    assert_accessible(leader, "my goals with a returned update")
    open_clearance(leader)
    rows = clearance_rows(leader, "goal_team")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-returned-comment]")).to_have_text(COMMENT)
    assert_accessible(leader, "clearance page, returned update")
    rows.first.get_by_role("link", name=re.compile("Returned: fix and resubmit")).click()
    expect(leader.locator("[data-review-panel] [data-returned-comment]")).to_contain_text(COMMENT)
    assert_accessible(leader, "review page, returned")

    # The leader fixes the update and submits it again.
    leader.get_by_role("link", name=f"Edit the {QUARTER} update").click()
    leader.get_by_label("Summary of progress").fill(
        "- Meetings held with Mexican partners (source: TFI meeting records)."
    )
    leader.get_by_role("button", name="Save").first.click()
    expect(leader.locator("#messages")).to_contain_text("Saved the summary of progress")
    leader.goto(f"/goals/sdif/review/?period={QUARTER}")
    leader.get_by_role("button", name="Submit for review").click()
    expect_state(leader, "Submitted")

    # The office approves it: now it waits for the examiner.
    open_clearance(office)
    rows = clearance_rows(office, "performance_office")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=re.compile("Approve or return")).click()
    office.get_by_role("button", name="Approve for the agency").click()
    expect(office.locator("#messages")).to_contain_text(f"Approved the {QUARTER} update")
    expect_state(office, "Approved by the agency")
    assert_accessible(office, "review page, approved (performance office)")

    # The examiner clears it.
    examiner = new_page()
    log_in(examiner, "examiner")
    open_clearance(examiner)
    rows = clearance_rows(examiner, "examiner")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".review-badge")).to_contain_text("Approved by the agency")
    assert_accessible(examiner, "clearance page, examiner")
    rows.first.get_by_role("link", name=re.compile("Clear or return")).click()
    assert_accessible(examiner, "review page, approved (examiner)")
    examiner.get_by_role("button", name="Clear the update").click()
    expect(examiner.locator("#messages")).to_contain_text(f"Cleared the {QUARTER} update")
    expect_state(examiner, "Cleared by the examiner")
    assert_accessible(examiner, "review page, cleared")

    # The leader publishes it through the confirmation page.
    open_clearance(leader)
    rows = clearance_rows(leader, "goal_team")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".review-badge")).to_contain_text("Cleared by the examiner")
    rows.first.get_by_role("link", name=re.compile("Publish")).click()
    expect_state(leader, "Cleared by the examiner")
    leader.get_by_role("link", name=f"Publish the {QUARTER} update").click()
    expect(leader.get_by_role("heading", level=1)).to_contain_text(f"Publish the {QUARTER} update")
    assert_accessible(leader, "publish confirmation")
    leader.get_by_role("button", name=f"Publish {QUARTER} for good").click()
    leader.goto(f"/goals/sdif/review/?period={QUARTER}")
    expect_state(leader, "Published")
    assert_accessible(leader, "review page, published")
    open_clearance(leader)
    expect(leader.locator("[data-clearance-empty]")).to_have_text("Nothing waits for you.")


def _url(name, **kwargs):
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def test_the_pages_this_issue_adds_pass_axe(new_page, sdif_goal, sdif_admin):
    """The members, agency, quality report and actuals pages, as a site administrator
    (who may open all of them), and the Clearance page with every group filled."""
    MembershipFactory(goal=sdif_goal, role=Role.CONTRIBUTOR, user__username="contributor")
    pages = {
        "goal members": _url("goal_members", slug=sdif_goal.slug),
        "agency": _url("agency_detail", pk=sdif_goal.agency_id),
        "quality report": _url("quality_report"),
        "indicator actuals": _url("indicator_actuals", slug=sdif_goal.slug),
        "clearance": _url("clearance"),
    }
    missing = [name for name, url in pages.items() if url is None]
    assert not missing, f"no URL for {missing}"
    page = new_page()
    log_in(page, "admin")
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, (name, url, response.status)
        assert_accessible(page, name)
