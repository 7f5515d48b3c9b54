"""Real user paths through the app in Chromium, against the live server."""

import io
import re
import unicodedata

from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from milestones import services
from milestones.models import Milestone, Status
from strategies.models import Sensitivity
from strategies.periods import FiscalPeriod
from tests.e2e.helpers import log_in, wait_for_htmx_to_settle
from tests.factories import GoalFactory, UserFactory


def _milestones(goal):
    return list(Milestone.objects.filter(goal=goal).order_by("position", "pk"))


def _update_url(milestone):
    return reverse("milestone_update", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk})


def test_a_leader_updates_a_milestone_in_the_panel_without_a_reload(
    new_page, sdif_goal, sdif_leader
):
    milestone = _milestones(sdif_goal)[0]
    assert milestone.status == Status.ON_TRACK
    page = new_page()
    log_in(page, "leader")
    page.get_by_role("link", name=sdif_goal.title, exact=True).click()
    page.wait_for_url("**/goals/sdif/")
    page.get_by_role("link", name="By due quarter").click()
    page.wait_for_url("**/goals/sdif/?group=quarter")
    expect(page.locator("section.milestone-group h3").first).to_contain_text("Due")
    # The Ongoing group says so, not "Due Ongoing".
    expect(page.locator("section[data-group=Ongoing] h3")).to_have_text("Ongoing")

    page.evaluate("window.__notReloaded = true")
    row = page.locator(f"#milestone-{milestone.pk}")
    page.locator(f"#update-button-{milestone.pk}").click()
    form = page.locator("#edit-panel form")
    expect(form).to_be_visible()
    expect(row.locator("form")).to_have_count(0)  # never inside the table row
    form.get_by_label("New status").select_option(Status.AT_RISK.value)
    form.get_by_label("Comment").fill("Mexico asked for a second workshop.")
    form.get_by_role("button", name="Save update").click()

    expect(page.locator("#edit-panel")).to_be_hidden()
    expect(row.locator(f'[data-status="{Status.AT_RISK.value}"]')).to_have_text(
        re.compile("At risk")
    )
    expect(row).to_contain_text("Mexico asked for a second workshop.")
    expect(row.locator("[data-row-saved]")).to_contain_text("Saved:")
    expect(page.locator("#live-status")).to_contain_text("Saved:")
    assert page.evaluate("window.__notReloaded") is True
    assert page.url.endswith("/goals/sdif/?group=quarter")

    page.reload()
    assert page.evaluate("window.__notReloaded") is None
    expect(row.locator(f'[data-status="{Status.AT_RISK.value}"]')).to_be_visible()
    expect(row).to_contain_text("Mexico asked for a second workshop.")
    milestone.refresh_from_db()
    assert milestone.status == Status.AT_RISK


def test_a_leader_updates_a_milestone_without_javascript(new_page, sdif_goal, sdif_leader):
    milestone = _milestones(sdif_goal)[1]
    page = new_page(java_script_enabled=False)
    log_in(page, "leader")
    page.goto("/goals/sdif/?group=quarter")
    # Without htmx the Update link is a plain link to the milestone page's form.
    page.locator(f"#update-button-{milestone.pk}").click()
    page.wait_for_url(f"**{milestone.get_absolute_url()}#update")
    form = page.locator("#update form")
    form.get_by_label("New status").select_option(Status.COMPLETED.value)
    form.get_by_label("Comment").fill("Signed in June.")
    form.get_by_role("button", name="Save update").click()

    page.wait_for_url(f"**{milestone.get_absolute_url()}")
    expect(page.locator("#messages")).to_contain_text("Saved:")
    expect(page.locator('[data-field="comment"]')).to_have_text("Signed in June.")
    page.goto("/goals/sdif/")
    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row.locator(f'[data-status="{Status.COMPLETED.value}"]')).to_be_visible()
    expect(row).to_contain_text("Signed in June.")


def test_the_second_of_two_editors_gets_a_conflict_and_keeps_the_typed_comment(
    new_page, sdif_goal, sdif_leader, sdif_deputy
):
    milestone = _milestones(sdif_goal)[2]
    leader, deputy = new_page(), new_page()
    log_in(leader, "leader", next_url=milestone.get_absolute_url())
    log_in(deputy, "deputy", next_url=milestone.get_absolute_url())

    leader_form = leader.locator("#update form")
    leader_form.get_by_label("New status").select_option(Status.AT_RISK.value)
    leader_form.get_by_label("Comment").fill("Leader: funding slipped.")
    leader_form.get_by_role("button", name="Save update").click()
    expect(leader.locator("#messages")).to_contain_text("Saved:")

    typed = "Deputy: the workshop is done.\nReport to follow."
    deputy_form = deputy.locator("#update form")
    deputy_form.get_by_label("New status").select_option(Status.COMPLETED.value)
    deputy_form.get_by_label("Comment").fill(typed)
    with deputy.expect_response(lambda r: r.request.method == "POST") as response:
        deputy_form.get_by_role("button", name="Save update").click()
    assert response.value.status == 409
    conflict = deputy.locator("[data-conflict]")
    expect(conflict).to_contain_text("Someone else updated this milestone")
    expect(conflict).to_contain_text("leader")
    expect(deputy.locator("#update form").get_by_label("Comment")).to_have_value(typed)
    expect(deputy.locator("#update form").get_by_label("New status")).to_have_value(
        Status.COMPLETED.value
    )
    milestone.refresh_from_db()
    assert (milestone.status, milestone.comment) == (Status.AT_RISK, "Leader: funding slipped.")


# The text of a word-diff cell after the change: without its removed words and its
# screen-reader preamble, whitespace collapsed.
AFTER_THE_DIFF = """cell => {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll("del, .visually-hidden").forEach((node) => node.remove());
    return copy.textContent.replace(/\\s+/g, " ").trim();
}"""


def test_a_reviewer_sees_the_leaders_change_and_no_way_to_edit(
    new_page, sdif_goal, sdif_leader, sdif_reviewer
):
    milestone = _milestones(sdif_goal)[0]
    services.record_status_update(
        milestone=milestone,
        user=sdif_leader,
        status=Status.AT_RISK,
        comment="Waiting on the partner agency.",
        period=FiscalPeriod(2019, 4),  # the SDIF goal reports on Q4 FY19
        revised_due=None,
        expected_version=milestone.version,
    )
    page = new_page()
    log_in(page, "reviewer")
    page.goto("/goals/sdif/")
    expect(page.locator("[id^=update-button-]")).to_have_count(0)
    page.locator(f"#milestone-{milestone.pk} th a").click()
    page.wait_for_url(f"**{milestone.get_absolute_url()}")

    change = page.locator(".history-entry", has_text="by leader").first
    expect(change).to_be_visible()
    status_row = change.locator('[data-changed-field="status"]')
    expect(status_row.locator("[data-old] .history-value")).to_have_text("On track")
    expect(status_row.locator("[data-new] .history-value")).to_have_text("At risk")
    # A comment change reads as a word diff side by side: After is the new comment, its
    # added words underlined; Before the old one, its removed words struck out.
    comment = change.locator('[data-changed-field="comment"] [data-new] .history-value')
    expect(comment.locator("ins").first).to_be_visible()
    assert comment.evaluate(AFTER_THE_DIFF) == "Waiting on the partner agency."

    # The full timeline and the audit log show the same change.
    page.locator("[data-history-link=milestone]").click()
    page.wait_for_url("**/history/")
    entry = page.locator(".history-entry", has_text="leader").first
    status_row = entry.locator('[data-changed-field="status"]')
    expect(status_row.locator("[data-old] .history-value")).to_have_text("On track")
    expect(status_row.locator("[data-new] .history-value")).to_have_text("At risk")
    page.goto(reverse("audit_log"))
    audit_row = page.locator("[data-audit-row^='milestone:']", has_text=milestone.title[:40]).first
    expect(audit_row).to_contain_text("leader")
    expect(audit_row.locator("[data-headline]")).to_contain_text("status On track → At risk")
    page.goto(milestone.get_absolute_url())

    expect(page.locator("#update")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    for url in (
        _update_url(milestone),
        f"/goals/{sdif_goal.slug}/strategies/",
        f"/goals/{sdif_goal.slug}/strategies/add/",
        f"/goals/{sdif_goal.slug}/edit/",
        f"/goals/{sdif_goal.slug}/progress/",
    ):
        assert page.goto(url).status == 403, url


def test_an_admin_adds_a_strategy_and_moves_a_milestone_to_it(new_page, sdif_goal, sdif_admin):
    milestone = _milestones(sdif_goal)[0]
    page = new_page()
    log_in(page, "admin")
    page.goto(f"/goals/{sdif_goal.slug}/strategies/")
    add = page.locator("#add form")
    add.get_by_label("Number").fill("9")
    add.get_by_label("Title").fill("Share beneficial ownership data")
    add.get_by_role("button", name="Add strategy").click()
    expect(page.locator("#messages")).to_contain_text("Added strategy 9.")

    move = page.locator(f"#milestone-{milestone.pk} form.move-form")
    move.get_by_role("combobox").select_option(label="Strategy 9: Share beneficial ownership data")
    move.get_by_role("button", name="Move").click()
    expect(page.locator(f'[data-strategy="9"] #milestone-{milestone.pk}')).to_be_visible()

    page.goto(f"/goals/{sdif_goal.slug}/")
    group = page.locator("section.milestone-group", has_text="Strategy 9: Share beneficial")
    expect(group.locator(f"#milestone-{milestone.pk}")).to_be_visible()


def test_an_outsider_gets_404_on_a_restricted_goal(new_page, db):
    goal = GoalFactory(slug="hidden", short_name="HIDDEN", sensitivity=Sensitivity.RESTRICTED)
    UserFactory(username="outsider")
    page = new_page()
    log_in(page, "outsider")
    expect(page.locator("main")).not_to_contain_text("HIDDEN")
    for url in (goal.get_absolute_url(), goal.get_plan_url()):
        assert page.goto(url).status == 404, url


def test_the_published_plan_prints_every_milestone(new_page, sdif_goal, sdif_leader):
    page = new_page()
    log_in(page, "leader", next_url=sdif_goal.get_plan_url())
    pdf = page.pdf(format="Letter", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    # NFKC undoes the ligatures the PDF's fonts use ("ﬁnance" → "finance").
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages))
    squeezed = re.sub(r"\s+", "", text)
    titles = [m.title for m in _milestones(sdif_goal)]
    assert len(titles) == 8
    missing = [t for t in titles if re.sub(r"\s+", "", t) not in squeezed]
    assert not missing, f"milestones missing from the printed plan: {missing}"
    assert "SDIF Tracker" not in text.split(sdif_goal.title)[0]  # no navigation printed


def test_a_keyboard_only_leader_completes_a_status_update(new_page, sdif_goal, sdif_leader):
    milestone = _milestones(sdif_goal)[3]
    page = new_page()
    log_in(page, "leader", next_url=sdif_goal.get_absolute_url())
    button_id = f"update-button-{milestone.pk}"

    def focused_id():
        return page.evaluate("document.activeElement && document.activeElement.id")

    for _ in range(300):
        page.keyboard.press("Tab")
        if focused_id() == button_id:
            break
    else:
        raise AssertionError(f"Tab never reached #{button_id}")
    page.keyboard.press("Enter")
    status = page.locator(f"#id_m{milestone.pk}-status")
    expect(status).to_be_focused()  # the swapped-in form takes focus
    wait_for_htmx_to_settle(page)
    # Type-ahead picks "At risk"; a space would open the select's popup instead.
    page.keyboard.type("At")
    expect(status).to_have_value(Status.AT_RISK.value)
    for _ in range(3):
        page.keyboard.press("Tab")  # reporting period (filled in), revised due, comment
    expect(page.locator(f"#id_m{milestone.pk}-comment")).to_be_focused()
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save update")).to_be_focused()
    page.keyboard.press("Enter")

    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row.locator(f'[data-status="{Status.AT_RISK.value}"]')).to_be_visible()
    expect(row).to_contain_text("Typed without a mouse.")
    milestone.refresh_from_db()
    assert (milestone.status, milestone.comment) == (Status.AT_RISK, "Typed without a mouse.")
