"""WCAG 2.1 A/AA in Chromium: axe-core on every page and state the journeys reach, plus
what axe cannot see — errors tied to their fields, the skip link, visible focus, reflow
at 200% zoom."""

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from milestones import services
from milestones.models import Milestone, Status
from strategies.periods import FiscalPeriod
from tests.e2e.helpers import assert_accessible, log_in, wait_for_htmx_to_settle


def assert_errors_tied_to_fields(page, *, at_least=1):
    """Every invalid field names its error through aria-describedby, and that element
    exists and holds the message."""
    fields = page.locator(".is-invalid, [aria-invalid=true]")
    assert fields.count() >= at_least, f"expected invalid fields on {page.url}"
    for index in range(fields.count()):
        field = fields.nth(index)
        name = field.get_attribute("name")
        described = (field.get_attribute("aria-describedby") or "").split()
        assert described, f"{name}: no aria-describedby"
        texts = []
        for target_id in described:
            target = page.locator(f"[id='{target_id}']")
            assert target.count() == 1, f"{name}: aria-describedby target #{target_id} missing"
            texts.append(target.inner_text())
        feedback = field.locator(
            "xpath=ancestor::*[contains(@class,'mb-3') or contains(@class,'col')][1]"
        ).locator(".invalid-feedback")
        messages = [m.strip() for m in feedback.all_inner_texts() if m.strip()]
        assert messages, f"{name}: no visible error message"
        for message in messages:
            assert any(message in text for text in texts), (
                f"{name}: error {message!r} not in its aria-describedby targets {described}"
            )


def _milestones(goal):
    return list(Milestone.objects.filter(goal=goal).order_by("position", "pk"))


def test_the_login_page_with_an_error_and_the_lockout_page(new_page, db):
    page = new_page()
    page.goto("/accounts/login/")
    assert_accessible(page, "login")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main .alert-danger, main .invalid-feedback").first).to_be_visible()
    assert_accessible(page, "login with an error")

    # Lockout: the username's failure limit (5) is reached; the next attempt is refused.
    for _ in range(5):
        page.get_by_label("Username").fill("nobody")
        page.get_by_label("Password").fill("wrong password")
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        if "Too many failed logins" in page.title():
            break
    expect(page.locator("h1")).to_have_text("Too many failed logins")
    assert_accessible(page, "lockout")


def test_the_leaders_pages(new_page, sdif_goal, sdif_leader):
    milestone = _milestones(sdif_goal)[0]
    page = new_page()
    log_in(page, "leader")
    assert_accessible(page, "portfolio")
    page.goto("/my/")
    assert_accessible(page, "my goals")
    page.goto("/goals/sdif/")
    assert_accessible(page, "dashboard by strategy")
    page.goto("/goals/sdif/?group=quarter")
    assert_accessible(page, "dashboard by quarter")
    page.goto("/goals/sdif/?status=on_track&status=delayed&strategy=3&fy=2019&overdue=on")
    expect(page.get_by_role("heading", name="(filtered)")).to_be_visible()
    assert_accessible(page, "dashboard with filters")
    page.goto("/goals/sdif/?status=finished&fy=1850&strategy=x")
    expect(page.locator("[data-filter-problems]")).to_be_visible()
    assert_accessible(page, "dashboard with a filter error")

    # The form in the edit panel (htmx), with errors, and the row after saving.
    page.goto("/goals/sdif/")
    page.locator(f"#update-button-{milestone.pk}").click()
    row = page.locator(f"#milestone-{milestone.pk}")
    panel = page.locator("#edit-panel")
    expect(panel.locator("form")).to_be_visible()
    wait_for_htmx_to_settle(page)
    assert_accessible(page, "status form in the edit panel")
    panel.get_by_label("New status").select_option(Status.AT_RISK.value)
    panel.get_by_role("button", name="Save update").click()
    expect(panel.locator(".invalid-feedback").first).to_be_visible()
    wait_for_htmx_to_settle(page)
    assert_errors_tied_to_fields(page)
    assert_accessible(page, "status form in the edit panel with errors")
    panel.get_by_label("Comment").fill("Partner asked for more time.")
    panel.get_by_role("button", name="Save update").click()
    expect(row.locator(f'[data-status="{Status.AT_RISK.value}"]')).to_be_visible()
    expect(page.locator("#live-status[role=status]")).to_contain_text("Saved:")
    expect(panel).to_be_hidden()
    wait_for_htmx_to_settle(page)
    assert_accessible(page, "dashboard row after a save in the panel")

    # The milestone page, its form with errors.
    page.goto(milestone.get_absolute_url())
    assert_accessible(page, "milestone page")
    form = page.locator("#update form")
    form.get_by_label("New status").select_option(Status.DELAYED.value)
    form.get_by_label("Comment").fill("")  # Delayed needs a comment and a revised due
    form.get_by_role("button", name="Save update").click()
    expect(page.locator("#update .invalid-feedback").first).to_be_visible()
    assert_errors_tied_to_fields(page, at_least=2)
    assert_accessible(page, "milestone form with errors")

    page.goto(sdif_goal.get_plan_url())
    assert_accessible(page, "published plan")
    page.goto("/goals/sdif/progress/")
    assert_accessible(page, "progress summary form")
    page.get_by_label("Summary of progress").fill("")
    page.get_by_label("Reporting period").fill("Ongoing")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    assert_errors_tied_to_fields(page, at_least=2)
    assert_accessible(page, "progress summary form with errors")

    page.goto("/accounts/password_change/")
    assert_accessible(page, "password change")
    page.get_by_label("Old password").fill("not it")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    assert_errors_tied_to_fields(page)
    assert_accessible(page, "password change with errors")


def test_the_conflict_state(new_page, sdif_goal, sdif_leader, sdif_deputy):
    milestone = _milestones(sdif_goal)[1]
    page = new_page()
    log_in(page, "deputy", next_url=milestone.get_absolute_url())
    services.record_status_update(
        milestone=milestone,
        user=sdif_leader,
        status=Status.AT_RISK,
        comment="Saved first.",
        period=FiscalPeriod(2019, 4),  # the SDIF goal reports on Q4 FY19
        revised_due=None,
        expected_version=milestone.version,
    )
    form = page.locator("#update form")
    form.get_by_label("Comment").fill("Typed second.")
    form.get_by_role("button", name="Save update").click()
    expect(page.locator("[data-conflict]")).to_be_visible()
    assert_accessible(page, "conflict on the milestone page")

    # The same in the dashboard's edit panel.
    page.goto("/goals/sdif/")
    page.locator(f"#update-button-{milestone.pk}").click()
    row = page.locator("#edit-panel")
    expect(row.locator("form")).to_be_visible()
    services.record_status_update(
        milestone=Milestone.objects.get(pk=milestone.pk),
        user=sdif_leader,
        status=Status.ON_TRACK,
        comment="Saved first again.",
        period=FiscalPeriod(2019, 4),  # the SDIF goal reports on Q4 FY19
        revised_due=None,
        expected_version=Milestone.objects.get(pk=milestone.pk).version,
    )
    row.get_by_label("Comment").fill("Typed second, in the panel.")
    row.get_by_role("button", name="Save update").click()
    expect(row.locator("[data-conflict]")).to_be_visible()
    expect(row.get_by_label("Comment")).to_have_value("Typed second, in the panel.")
    wait_for_htmx_to_settle(page)
    assert_accessible(page, "conflict in the dashboard's edit panel")


def test_the_admins_plan_pages(new_page, sdif_goal, sdif_admin):
    strategy = sdif_goal.strategies.order_by("number").first()
    page = new_page()
    log_in(page, "admin")
    page.goto("/goals/sdif/strategies/")
    assert_accessible(page, "strategies")
    page.goto("/goals/sdif/strategies/add/")
    assert_accessible(page, "add a strategy")
    page.get_by_label("Number").fill(str(strategy.number))
    page.get_by_label("Title").fill("")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    assert_errors_tied_to_fields(page, at_least=2)
    assert_accessible(page, "add a strategy with errors")
    page.goto(f"/goals/sdif/strategies/{strategy.pk}/edit/")
    assert_accessible(page, "edit a strategy")
    page.goto("/goals/sdif/edit/")
    assert_accessible(page, "goal edit")
    page.goto("/goals/sdif/")
    assert_accessible(page, "dashboard as admin")


def test_the_reviewers_pages(new_page, sdif_goal, sdif_leader, sdif_reviewer):
    milestone = _milestones(sdif_goal)[0]
    services.record_status_update(
        milestone=milestone,
        user=sdif_leader,
        status=Status.AT_RISK,
        comment="Partner asked for more time.\nA second line.",
        period=FiscalPeriod(2019, 4),  # the SDIF goal reports on Q4 FY19
        revised_due=None,
        expected_version=milestone.version,
    )
    page = new_page()
    log_in(page, "reviewer")
    for url, state in (
        (milestone.get_absolute_url(), "milestone page as reviewer"),
        (reverse("milestone_history", kwargs={"slug": "sdif", "pk": milestone.pk}), "timeline"),
        (reverse("goal_history", kwargs={"slug": "sdif"}), "goal timeline"),
        (reverse("audit_log"), "audit log"),
        (reverse("audit_log") + "?user=leader", "audit log filtered"),
        (reverse("goal_compare", kwargs={"slug": "sdif"}), "compare quarters"),
    ):
        response = page.goto(url)
        assert response.status == 200, url
        assert_accessible(page, state)


def test_the_skip_link_moves_focus_to_main_and_focus_is_visible(new_page, sdif_goal, sdif_leader):
    page = new_page()
    log_in(page, "leader", next_url="/goals/sdif/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # The next Tab lands inside main; the focused control shows a focus indicator.
    page.keyboard.press("Tab")
    for _ in range(3):
        tag = page.evaluate("document.activeElement.tagName")
        inside_main = page.evaluate("!!document.activeElement.closest('main')")
        assert inside_main, "Tab after the skip link left main"
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; })()"
        )
        outline_style, outline_width, box_shadow = style
        has_outline = outline_style != "none" and outline_width != "0px"
        assert has_outline or box_shadow != "none", f"no visible focus on a {tag}: {style}"
        page.keyboard.press("Tab")


@pytest.mark.parametrize(
    "path", ["/", "/goals/sdif/", "/goals/sdif/?group=quarter", "milestone", "/goals/sdif/plan/"]
)
def test_pages_reflow_at_200_percent_zoom(new_page, sdif_goal, sdif_leader, path):
    """WCAG 1.4.10: a 1280 px wide window zoomed to 200% is a 640 CSS px viewport at a
    device pixel ratio of 2 — that is what this context emulates. The document must not
    scroll sideways; wide tables scroll inside their own .table-responsive box."""
    page = new_page(viewport={"width": 640, "height": 800}, device_scale_factor=2)
    if path == "milestone":
        path = _milestones(sdif_goal)[4].get_absolute_url()
    log_in(page, "leader", next_url=path)
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[1] == 640
    assert widths[0] <= widths[1], f"{path} scrolls sideways at 200% zoom: {widths}"


def test_the_plan_as_of_a_date_and_the_revert_confirmation(new_page, sdif_goal, sdif_admin):
    milestone = _milestones(sdif_goal)[0]
    first = milestone.history.earliest()
    milestone.comment = "Edited after import"
    milestone.save()
    today = timezone.localdate().isoformat()
    page = new_page()
    log_in(page, "admin")
    revert_url = reverse(
        "milestone_revert",
        kwargs={"slug": "sdif", "pk": milestone.pk, "history_id": first.history_id},
    )
    for url, state in (
        (f"/goals/sdif/?as_of={today}", "dashboard as of a date"),
        ("/goals/sdif/?as_of=Q5+FY19", "dashboard with a bad as-of date"),
        (f"/goals/sdif/plan/?as_of={today}", "plan as of a date"),
        (revert_url, "revert confirmation"),
    ):
        response = page.goto(url)
        assert response.status == 200, url
        if state.endswith("as of a date"):
            expect(page.locator(".asof-banner")).to_contain_text("as recorded on")
        assert_accessible(page, state)
