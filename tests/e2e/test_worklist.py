"""The goal dashboard as the quarter's work list (issue 13): the leader's update journey on
a laptop (1366×900) and on a phone (390×844), in English and in Spanish, with axe on
every state — the list, the open edit panel, an error in it, and after saving."""

import pytest
from playwright.sync_api import expect

from milestones.models import Milestone, Status
from tests.e2e.helpers import PASSWORD, assert_accessible, wait_for_htmx_to_settle

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGUAGES = {"en": "en-US", "es": "es-ES"}


def open_dashboard(new_page, viewport, language):
    """The leader signs in (with the browser's language: the form's words are Spanish
    in Spanish) and lands on the SDIF dashboard."""
    page = new_page(viewport=viewport, locale=LANGUAGES[language])
    page.goto("/accounts/login/?next=/goals/sdif/")
    page.locator("input[name=username]").fill("leader")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/goals/sdif/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    return page


def first_row(page):
    row = page.locator("tr.milestone-row").first
    pk = int(row.get_attribute("id").removeprefix("milestone-"))
    return row, Milestone.objects.get(pk=pk)


def updated_count(page) -> tuple[int, int]:
    link = page.locator("#work-summary [data-count=updated]")
    return int(link.get_attribute("data-value")), int(link.get_attribute("data-total"))


def no_sideways_scroll(page):
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width} > {inner}"


def fill_and_save(panel, status, comment):
    panel.locator("select[name$=-status]").select_option(status)
    panel.locator("textarea[name$=-comment]").fill(comment)
    panel.locator("button[type=submit]").click()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_leaders_update_journey_on_a_laptop(new_page, sdif_goal, sdif_leader, language):
    page = open_dashboard(new_page, LAPTOP, language)
    row, milestone = first_row(page)
    update = page.locator(f"#update-button-{milestone.pk}")

    # The work line comes first, then the list: its first row is in the first screen.
    assert updated_count(page) == (0, 8)
    box = row.bounding_box()
    assert box["y"] + box["height"] <= LAPTOP["height"], box
    # At most five Tab presses from the list's heading to the first Update button.
    page.locator("#milestones-heading").focus()
    target = update.get_attribute("id")
    focused = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.tagName")
        )
        if focused[-1] == target:
            break
    assert focused[-1] == target, f"not within 5 Tab presses of the heading: {focused}"
    no_sideways_scroll(page)
    assert_accessible(page, f"the work list ({language})")

    # Update opens the side panel, not the row; Escape closes it, focus back on Update.
    page.evaluate("window.__notReloaded = true")
    page.keyboard.press("Enter")
    panel = page.locator("#edit-panel")
    expect(panel.locator("form")).to_be_visible()
    wait_for_htmx_to_settle(page)
    expect(row.locator("form")).to_have_count(0)
    side = panel.bounding_box()
    assert side["x"] > LAPTOP["width"] / 3 and side["height"] == LAPTOP["height"], side
    expect(panel.locator("select[name$=-status]")).to_be_focused()
    assert_accessible(page, f"the open edit panel ({language})")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(update).to_be_focused()

    # An error keeps the panel open with what was typed (a period that is none).
    update.click()
    expect(panel.locator("form")).to_be_visible()
    panel.locator("input[name$=-period]").fill("next spring")
    fill_and_save(panel, Status.AT_RISK.value, "Slipping into next year.")
    expect(panel.locator(".invalid-feedback").first).to_be_visible()
    wait_for_htmx_to_settle(page)
    expect(panel).to_be_visible()
    expect(panel.locator("textarea[name$=-comment]")).to_have_value("Slipping into next year.")
    assert_accessible(page, f"an error in the edit panel ({language})")

    # Saving: the row, the counts and a message change in place; the panel closes and
    # focus returns to the row's Update button.
    panel.locator("input[name$=-period]").fill("Q4 FY19")
    fill_and_save(panel, Status.AT_RISK.value, "Mexico asked for a second workshop.")
    expect(panel).to_be_hidden()
    expect(row.locator(f'[data-status="{Status.AT_RISK.value}"]')).to_be_visible()
    expect(row).to_contain_text("Mexico asked for a second workshop.")
    expect(row.locator("[data-row-saved]")).to_be_visible()
    expect(page.locator("#live-status")).not_to_be_empty()
    expect(page.locator(f"#update-button-{milestone.pk}")).to_be_focused()
    wait_for_htmx_to_settle(page)
    assert updated_count(page) == (1, 8)
    assert page.evaluate("window.__notReloaded") is True
    assert_accessible(page, f"the work list after a save ({language})")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.comment) == (
        Status.AT_RISK,
        "Mexico asked for a second workshop.",
    )

    # The count links filter the list: "to update" no longer lists the saved milestone.
    page.locator("#work-summary [data-count=updated]").click()
    page.wait_for_url("**/goals/sdif/?updated=no")
    expect(page.locator(f"#milestone-{milestone.pk}")).to_have_count(0)
    expect(page.locator("tr.milestone-row")).to_have_count(7)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_leaders_update_journey_on_a_phone(new_page, sdif_goal, sdif_leader, language):
    page = open_dashboard(new_page, PHONE, language)
    row, milestone = first_row(page)

    # Cards, not a sideways-scrolling table: no header row, each cell names its column.
    expect(page.locator(".milestone-table thead").first).to_be_hidden()
    assert row.evaluate("(tr) => getComputedStyle(tr).display") == "block"
    card = row.bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= PHONE["width"], card
    label = row.locator("td.cell-status").evaluate(
        "(td) => getComputedStyle(td, '::before').content"
    )
    assert label.strip('"') == row.locator("td.cell-status").get_attribute("data-label")
    no_sideways_scroll(page)
    assert_accessible(page, f"the cards ({language})")

    # Update opens a full-screen sheet.
    page.locator(f"#update-button-{milestone.pk}").click()
    panel = page.locator("#edit-panel")
    expect(panel.locator("form")).to_be_visible()
    wait_for_htmx_to_settle(page)
    sheet = panel.bounding_box()
    assert (sheet["x"], sheet["width"], sheet["height"]) == (0, PHONE["width"], PHONE["height"])
    save = panel.locator("button[type=submit]").bounding_box()
    assert save["x"] >= 0 and save["x"] + save["width"] <= PHONE["width"], save
    assert_accessible(page, f"the edit sheet ({language})")

    # Close (the visible button) closes it and gives focus back.
    panel.locator("[data-close-panel]").first.click()
    expect(panel).to_be_hidden()
    expect(page.locator(f"#update-button-{milestone.pk}")).to_be_focused()

    page.locator(f"#update-button-{milestone.pk}").click()
    expect(panel.locator("form")).to_be_visible()
    fill_and_save(panel, Status.ON_TRACK.value, "Back on track after the workshop.")
    expect(panel).to_be_hidden()
    expect(row.locator(f'[data-status="{Status.ON_TRACK.value}"]')).to_be_visible()
    expect(row.locator("[data-row-saved]")).to_be_visible()
    wait_for_htmx_to_settle(page)
    assert updated_count(page) == (1, 8)
    no_sideways_scroll(page)
    page.wait_for_timeout(200)  # the focused button's colour transition (0.15 s)
    assert_accessible(page, f"the cards after a save ({language})")


def test_a_refused_panel_request_is_never_a_silent_dead_end(new_page, sdif_goal, sdif_leader):
    from strategies.models import Membership

    page = open_dashboard(new_page, LAPTOP, "en")
    row, milestone = first_row(page)
    before = (milestone.status, milestone.comment, milestone.version)

    # The leader's role is withdrawn while the form is open: the save is refused,
    # the panel closes and the page says so, and nothing changed.
    page.locator(f"#update-button-{milestone.pk}").click()
    panel = page.locator("#edit-panel")
    expect(panel).to_be_visible()
    Membership.objects.filter(user=sdif_leader, goal=sdif_goal).delete()
    fill_and_save(panel, Status.AT_RISK, "Sent after my role was withdrawn.")
    expect(page.locator("#panel-failed")).to_be_visible()
    expect(panel).to_be_hidden()
    milestone.refresh_from_db()
    assert (milestone.status, milestone.comment, milestone.version) == before

    # Opening the panel again now falls back to the page itself, which says why.
    page.locator(f"#update-button-{milestone.pk}").click()
    page.wait_for_url(f"**/milestones/{milestone.pk}/update/")
    expect(page.locator("[data-error-page='403']")).to_be_visible()  # SDIF is internal
