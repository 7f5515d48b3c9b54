"""A reviewer's history and audit journeys, in English and Spanish, on a laptop and on a
phone: side-by-side word diffs on a milestone's history, and the audit log filtered by a
field's human label, a row expanded to old → new and where the change came from, and
the CSV link. axe finds nothing on any state; no page scrolls sideways at 390 px."""

import pytest
from playwright.sync_api import expect

from audit import history
from milestones.models import Milestone, Status
from milestones.services import record_status_update
from strategies.models import Role
from strategies.periods import FiscalPeriod
from tests.e2e.helpers import PASSWORD, assert_accessible

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
IP, REQUEST_ID = "203.0.113.7", "4f2a9c0d1e7b4a53b1c2d3e4f5a6b7c8"
NEW_COMMENT = (
    "OFAC has shared best practices information with Mexican authorities, but the "
    "counterparts were replaced in June.\nA second workshop is planned for September."
)
# Words the pages show in each language (strings this change adds are translated when
# the catalogues are next updated, so the Spanish checks use ones already there).
TEXT = {
    "en": {"heading": "History of “", "before": "Before", "after": "After"},
    "es": {"heading": "“", "before": "Antes", "after": "Después"},
}


@pytest.fixture
def updated(sdif_goal, member):
    """The SDIF plan with one status update made from the web: At risk, comment rewritten."""
    leader = member("leader", Role.LEADER)
    milestone = Milestone.objects.filter(goal=sdif_goal).order_by("position", "pk").first()
    token = history._context.set(
        history.ChangeContext(user=leader, source="web", ip=IP, request_id=REQUEST_ID)
    )
    try:
        record_status_update(
            milestone=milestone,
            user=leader,
            status=Status.AT_RISK,
            comment=NEW_COMMENT,
            period=FiscalPeriod(2019, 4),
            expected_version=milestone.version,
        )
    finally:
        history._context.reset(token)
    milestone.refresh_from_db()
    return milestone


def sign_in(page, username, next_url):
    page.goto(f"/accounts/login/?next={next_url}")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def assert_no_sideways_scroll(page, state):
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{state} scrolls sideways: {width} > {inner}"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_reviewer_reads_a_milestones_history_as_before_and_after(
    new_page, updated, member, lang
):
    member("reviewer", Role.REVIEWER)
    page = new_page(locale=lang, viewport=WIDE)
    sign_in(page, "reviewer", updated.get_absolute_url())

    # The milestone page: its status updates, newest first, then its change history.
    expect(page.locator("html")).to_have_attribute("lang", lang)
    first_update = page.locator("table.status-updates tbody tr").first
    expect(first_update).to_contain_text("Q4 FY19")
    assert_accessible(page, f"the milestone page ({lang})")

    page.locator("a[data-history-link=milestone]").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"{TEXT[lang]['heading']}{updated.title}")

    newest = page.locator("li.history-entry").first
    comment = newest.locator("[data-changed-field=comment]")
    before, after = comment.locator("[data-old]"), comment.locator("[data-new]")
    expect(before).to_contain_text(TEXT[lang]["before"], ignore_case=True)
    expect(after).to_contain_text(TEXT[lang]["after"], ignore_case=True)
    # The added line is only under After; removed words only under Before.
    expect(after.locator("ins").last).to_contain_text("A second workshop is planned")
    expect(before).not_to_contain_text("second workshop")
    expect(before.locator("ins")).to_have_count(0)
    expect(after.locator("del")).to_have_count(0)
    assert before.locator("del").count() >= 1
    # Side by side on a laptop: After starts to the right of Before, at the same height.
    before_box, after_box = before.bounding_box(), after.bounding_box()
    assert after_box["x"] > before_box["x"] + before_box["width"] - 1
    assert abs(after_box["y"] - before_box["y"]) < 2
    # Struck through and underlined, not only coloured.
    assert "line-through" in before.locator("del").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    assert "underline" in after.locator("ins").first.evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    expect(newest.locator("[data-where]")).to_contain_text(IP)
    assert_accessible(page, f"the milestone's history ({lang})")

    # On a phone: stacked, Before above After, nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    before_box, after_box = before.bounding_box(), after.bounding_box()
    assert after_box["y"] >= before_box["y"] + before_box["height"] - 1
    assert_no_sideways_scroll(page, f"the history at 390 px ({lang})")
    assert_accessible(page, f"the milestone's history on a phone ({lang})")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_reviewer_filters_the_audit_log_by_a_field_label_and_expands_a_row(
    new_page, updated, member, lang
):
    member("reviewer", Role.REVIEWER)
    page = new_page(locale=lang, viewport=WIDE)
    sign_in(page, "reviewer", "/audit/")
    assert_accessible(page, f"the audit log ({lang})")

    # The field filter offers human labels: pick Status by its label.
    field = page.locator("#audit-field")
    label = field.locator("option[value=status]").text_content().strip()
    assert label != "status" and "(" in label
    field.select_option(label=label)
    page.locator("form[data-audit-filters] button[type=submit]").click()
    page.wait_for_url("**field=status**")
    expect(field).to_have_value("status")

    row = page.locator("li.audit-entry").filter(has_text=updated.title[:30]).first
    details = row.locator("details")
    expect(details).not_to_have_attribute("open", "")
    row.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    status = details.locator("[data-changed-field=status]")
    expect(status.locator("[data-old]")).to_be_visible()
    expect(status.locator("[data-new]")).to_be_visible()
    expect(status.locator("[data-old] .history-value")).not_to_have_text("on_track")
    expect(status.locator("[data-new] .history-value")).not_to_have_text("at_risk")
    expect(details.locator("[data-client-address]")).to_have_text(IP)
    expect(details.locator("[data-request-id]")).to_have_text(REQUEST_ID)
    export = page.locator("a[data-export]")
    expect(export).to_be_visible()
    assert "field=status" in export.get_attribute("href")
    assert_accessible(page, f"the audit log, filtered and a row open ({lang})")

    page.set_viewport_size(PHONE)
    assert_no_sideways_scroll(page, f"the audit log at 390 px ({lang})")
    assert_accessible(page, f"the audit log on a phone ({lang})")

    # The CSV the link downloads has old and new values per field.
    response = page.request.get(export.get_attribute("href"))
    assert response.status == 200
    text = response.text()
    assert "field,old,new" in text.splitlines()[0]
    assert "On track,At risk" in text


def test_the_admins_milestone_form_fits_a_laptop_screen(new_page, updated, sdif_admin):
    page = new_page(viewport=WIDE)
    url = f"/admin/milestones/milestone/{updated.pk}/change/"
    sign_in(page, "admin", url)

    rights = page.evaluate(
        "() => [...document.querySelectorAll('select')]"
        ".map(s => [s.name, s.getBoundingClientRect().right])"
    )
    inner = page.evaluate("() => innerWidth")
    assert rights and all(right <= inner for _name, right in rights), (rights, inner)
    assert_no_sideways_scroll(page, "the admin's milestone form")
