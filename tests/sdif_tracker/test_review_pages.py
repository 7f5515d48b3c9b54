"""The review chain on the pages: the update's review page and the update form's review
panel (state, who and when, a return's comment, the trail, the buttons each role may use),
the quarter locked while in review (409 with the reason, what was typed kept), and the
transitions in the audit log."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from milestones.models import ProgressSummary, ReviewState, Risk, Status
from milestones.review import return_update
from sdif_tracker.access import permissions_for
from strategies.models import AgencyRole, AgencyRoleKind, Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.helpers import clear_for_publishing
from tests.html_dom import parse

Q4_FY19 = FiscalPeriod(2019, 4)


@pytest.fixture
def team(db):
    goal = GoalFactory(short_name="SDIF")
    people = {
        "leader": MembershipFactory(goal=goal, role=Role.LEADER, user__username="lead").user,
        "contributor": MembershipFactory(
            goal=goal, role=Role.CONTRIBUTOR, user__username="contrib"
        ).user,
        "office": UserFactory(username="pio", first_name="Pat", last_name="Office"),
        "examiner": UserFactory(username="omb"),
    }
    AgencyRole.objects.create(
        user=people["office"], agency=goal.agency, role=AgencyRoleKind.PERFORMANCE_OFFICE
    )
    AgencyRole.objects.create(
        user=people["examiner"], agency=goal.agency, role=AgencyRoleKind.EXAMINER
    )
    summary = ProgressSummaryFactory(
        goal=goal, period=Q4_FY19, risk=Risk.LOW, summary="- Met in October."
    )
    return goal, summary, people


def client_for(client, user):
    client.force_login(user)
    return client


def review_url(goal):
    return reverse("update_review", kwargs={"slug": goal.slug}) + "?period=Q4+FY19"


def post_action(client, goal, action, *, version=None, **extra):
    summary = ProgressSummary.objects.get(goal=goal, period=Q4_FY19)
    return client.post(
        reverse("update_review", kwargs={"slug": goal.slug}),
        {
            "period": "Q4 FY19",
            "action": action,
            "version": summary.version if version is None else version,
            **extra,
        },
    )


def buttons(document):
    return [
        form.attrs["data-review-action"] for form in document.find_all(data_review_action=True)
    ]


def test_a_leader_submits_from_the_update_page_and_sees_the_quality_check_first(
    client, team, django_capture_on_commit_callbacks
):
    goal, summary, people = team
    client_for(client, people["leader"])
    progress = reverse("progress_edit", kwargs={"slug": goal.slug}) + "?period=Q4+FY19"

    opened = parse(client.get(progress).content)

    panel = opened.find(data_review_panel=True)
    assert panel.attrs["data-review-panel"] == "draft"
    assert "Draft" in panel.find(data_review_state=True).text
    assert buttons(panel) == ["submit"]
    form = panel.find("form", data_review_action="submit")
    assert form.find("input", name="csrfmiddlewaretoken")
    assert form.find("input", name="version").attrs["value"] == str(summary.version)
    # The factory's goal has no named leader: the quality check says so, and does not block.
    findings = panel.find(data_quality_findings=True)
    assert "you can still submit" in findings.text

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, goal, "submit")

    assert response.status_code == 302 and response["Location"] == review_url(goal)
    assert [message.to for message in mail.outbox] == [["pio@example.gov"]]
    page = parse(client.get(review_url(goal)).content)
    panel = page.find(data_review_panel=True)
    assert panel.attrs["data-review-panel"] == "submitted"
    assert "by lead" in panel.find(data_review_standing=True).text
    assert "approval by the agency's performance office" in panel.text
    assert buttons(panel) == ["withdraw"]
    assert "Submitted the Q4 FY19 update for review" in panel.find(data_review_trail=True).text
    # The form is now read-only, and says why.
    locked = parse(client.get(progress).content)
    assert locked.find(data_summary_locked=True)
    assert "disabled" in locked.find("textarea", name="summary").attrs
    assert "Save summary" not in locked.text


def test_the_office_returns_with_a_comment_the_team_sees_on_the_update(client, team):
    goal, summary, people = team
    clear_for_publishing(summary, until=ReviewState.SUBMITTED)
    client_for(client, people["office"])
    page = parse(client.get(review_url(goal)).content)
    assert buttons(page) == ["approve", "return"]

    refused = post_action(client, goal, "return", comment="   ")

    assert refused.status_code == 400
    document = parse(refused.content)
    assert "a return needs a comment" in document.find(id="return-comment-error").text
    assert document.find(id="return-comment").attrs["aria-invalid"] == "true"
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.SUBMITTED

    hostile = post_action(client, goal, "return", comment="Bad\x00byte")
    assert hostile.status_code == 400
    assert "Null characters are not allowed" in hostile.content.decode()

    returned = post_action(client, goal, "return", comment="Name the meetings held.")
    assert returned.status_code == 302

    client_for(client, people["leader"])
    progress = reverse("progress_edit", kwargs={"slug": goal.slug}) + "?period=Q4+FY19"
    panel = parse(client.get(progress).content).find(data_review_panel=True)
    comment = panel.find(data_returned_comment=True)
    assert "Returned by Pat Office on" in comment.text
    assert "Name the meetings held." in comment.text
    assert buttons(panel) == ["submit"]


def test_the_examiner_clears_and_the_leader_may_publish(client, team):
    goal, summary, people = team
    clear_for_publishing(summary, until=ReviewState.APPROVED)
    client_for(client, people["examiner"])
    assert buttons(parse(client.get(review_url(goal)).content)) == ["clear", "return"]

    assert post_action(client, goal, "clear").status_code == 302

    client_for(client, people["leader"])
    page = parse(client.get(review_url(goal)).content)
    assert "publication by a goal leader or deputy" in page.find(data_review_waiting=True).text
    publish = reverse("publish_quarter", kwargs={"slug": goal.slug})
    assert any(a.attrs["href"].startswith(publish) for a in page.find_all("a", href=True))
    trail = [li.attrs["data-trail-action"] for li in page.find_all(data_trail_action=True)]
    assert trail == ["submit", "approve", "clear"]


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        ("contributor", "submit", 403),
        ("leader", "approve", 403),
        ("examiner", "approve", 403),
        ("office", "clear", 403),
        ("office", "approve", 400),  # a draft: not yet submitted
        ("leader", "dance", 400),
    ],
)
def test_a_wrong_role_or_state_is_refused_with_the_reason(client, team, who, action, status):
    goal, summary, people = team
    before = summary.history.count()
    client_for(client, people[who])

    response = post_action(client, goal, action)

    assert response.status_code == status
    assert summary.history.count() == before
    if status == 400 and action == "approve":
        assert "waits for submission by a goal leader or deputy" in response.content.decode()


def test_a_page_opened_before_the_update_moved_on_answers_409(client, team):
    goal, summary, people = team
    opened_version = summary.version
    clear_for_publishing(summary, until=ReviewState.SUBMITTED)
    client_for(client, people["leader"])

    response = post_action(client, goal, "withdraw", version=opened_version)

    assert response.status_code == 409
    assert parse(response.content).find(data_conflict=True)
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.SUBMITTED


def test_in_review_the_pages_refuse_edits_with_409_and_keep_what_was_typed(client, team):
    goal, summary, people = team
    milestone = MilestoneFactory(goal=goal)
    clear_for_publishing(summary, until=ReviewState.SUBMITTED)
    summary.refresh_from_db()
    client_for(client, people["leader"])

    saved = client.post(
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        {"period": "Q4 FY19", "version": summary.version, "summary": "- Typed.", "risk": "low"},
    )
    assert saved.status_code == 409
    document = parse(saved.content)
    assert "locked while it is in review" in document.text
    assert document.find("textarea", name="summary").text == "- Typed."

    updated = client.post(
        reverse("milestone_update", kwargs={"slug": goal.slug, "pk": milestone.pk}),
        {
            f"m{milestone.pk}-status": Status.AT_RISK,
            f"m{milestone.pk}-comment": "Typed cause.",
            f"m{milestone.pk}-period": "Q4 FY19",
            f"m{milestone.pk}-version": milestone.version,
        },
    )
    assert updated.status_code == 409
    assert "locked while it is in review" in updated.content.decode()
    assert "Typed cause." in updated.content.decode()
    assert milestone.status_updates.count() == 0
    assert ProgressSummary.objects.get(pk=summary.pk).summary == "- Met in October."


def test_every_transition_is_in_the_audit_log_with_who_and_why(client, team):
    goal, summary, people = team
    clear_for_publishing(summary)
    admin = UserFactory(username="auditor", is_staff=True)
    client_for(client, admin)

    text = parse(client.get(reverse("audit_log")).content).text

    assert "Submitted the Q4 FY19 update for review" in text
    assert "Approved the Q4 FY19 update for the agency" in text
    assert "Cleared the Q4 FY19 update" in text


def test_the_review_page_runs_the_same_queries_for_a_short_and_a_long_trail(client, team):
    goal, summary, people = team
    client_for(client, people["leader"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(review_url(goal)).status_code == 200
        return len(queries)

    clear_for_publishing(summary, until=ReviewState.SUBMITTED)
    short = count()
    for _ in range(3):
        current = clear_for_publishing(summary, until=ReviewState.APPROVED)
        office = people["office"]
        return_update(
            summary=current,
            user=office,
            permissions=permissions_for(office, goal),
            comment="Again.",
            expected_version=current.version,
        )
        clear_for_publishing(summary, until=ReviewState.SUBMITTED)
    assert count() == short
