"""The review chain of a quarterly update (milestones.review): draft → submitted → approved
by the agency → cleared by the examiner → published, each step the agency switched off
skipped; returns with a comment; the quarter locked while in review; one email per person
to whoever acts next."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from milestones.models import ProgressSummary, ReviewState, Risk, Status
from milestones.plan_yaml import export_plan, import_plan
from milestones.plan_yaml.data import PlanError
from milestones.review import (
    ReviewNotAllowed,
    StaleReviewError,
    UpdateInReviewError,
    approve_update,
    clear_update,
    next_step,
    ready_to_publish_state,
    return_update,
    submit_update,
    withdraw_update,
)
from milestones.services import publish_quarter, record_status_update, save_progress_summary
from sdif_tracker.access import permissions_for
from strategies.models import AgencyRole, AgencyRoleKind, Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    UserFactory,
)

Q4_FY19 = FiscalPeriod(2019, 4)


def agency_user(agency, role, username):
    user = UserFactory(username=username)
    AgencyRole.objects.create(user=user, agency=agency, role=role)
    return user


@pytest.fixture
def team(db):
    """A goal reporting on Q4 FY19 with a written draft, and a person of each role."""
    goal = GoalFactory()
    people = {
        "leader": MembershipFactory(goal=goal, role=Role.LEADER, user__username="lead").user,
        "deputy": MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="dep").user,
        "contributor": MembershipFactory(
            goal=goal, role=Role.CONTRIBUTOR, user__username="contrib"
        ).user,
        "office": agency_user(goal.agency, AgencyRoleKind.PERFORMANCE_OFFICE, "pio"),
        "examiner": agency_user(goal.agency, AgencyRoleKind.EXAMINER, "omb"),
        "admin": UserFactory(username="site-admin", is_staff=True),
    }
    other = AgencyFactory(name="Department of State", abbreviation="DOS")
    people["other_examiner"] = agency_user(other, AgencyRoleKind.EXAMINER, "omb-state")
    summary = ProgressSummaryFactory(goal=goal, period=Q4_FY19, risk=Risk.LOW)
    return goal, summary, people


def act(service, summary, user, **extra):
    """Take a step as ``user``, with their permissions and the update's current version,
    the emails of the transition sent (the test transaction never commits)."""
    current = ProgressSummary.objects.get(pk=summary.pk)
    current.goal = summary.goal
    return service(
        summary=current,
        user=user,
        permissions=permissions_for(user, summary.goal),
        expected_version=current.version,
        **extra,
    )


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def trail(summary):
    """(user, reason) of each history row of the update after its creation."""
    rows = summary.history.order_by("history_date", "history_id")[1:]
    return [
        (row.history_user.username, row.review_state, row.history_change_reason) for row in rows
    ]


def test_the_whole_chain_runs_submitted_approved_cleared_published(
    team, django_capture_on_commit_callbacks
):
    goal, summary, people = team
    with django_capture_on_commit_callbacks(execute=True):
        submitted = act(submit_update, summary, people["leader"])
    assert submitted.review_state == ReviewState.SUBMITTED
    assert submitted.review_state_at is not None
    assert recipients() == ["pio@example.gov"]
    assert "[SDIF Tracker]" in mail.outbox[0].subject
    assert "/review/?period=Q4+FY19" in mail.outbox[0].body
    assert "approval by the agency's performance office" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act(approve_update, summary, people["office"])
    assert recipients() == ["omb@example.gov"]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cleared = act(clear_update, summary, people["examiner"])
    assert cleared.review_state == ReviewState.CLEARED
    # The team publishes: the leader and the deputy hear of it.
    assert recipients() == ["dep@example.gov", "lead@example.gov"]

    published = publish_quarter(goal=goal, user=people["deputy"], period=Q4_FY19)
    assert published.review_state == ReviewState.PUBLISHED
    assert [(who, state) for who, state, _ in trail(summary)] == [
        ("lead", "submitted"),
        ("pio", "approved"),
        ("omb", "cleared"),
        ("dep", "published"),
    ]
    reasons = [reason for _, _, reason in trail(summary)]
    assert reasons[0].startswith("@r1:update_submitted:")
    assert reasons[2].startswith("@r1:update_cleared:")


@pytest.mark.parametrize(
    ("approval", "clearance", "path", "first_recipients"),
    [
        (True, True, ["submit", "approve", "clear"], ["pio@example.gov"]),
        (False, True, ["submit", "clear"], ["omb@example.gov"]),
        (True, False, ["submit", "approve"], ["pio@example.gov"]),
        (False, False, ["submit"], ["dep@example.gov"]),
    ],
)
def test_an_agency_skips_the_steps_it_switched_off_but_records_every_transition(
    team, approval, clearance, path, first_recipients, django_capture_on_commit_callbacks
):
    goal, summary, people = team
    goal.agency.agency_approval = approval
    goal.agency.examiner_clearance = clearance
    goal.agency.save()
    by = {"submit": "leader", "approve": "office", "clear": "examiner"}
    services = {"submit": submit_update, "approve": approve_update, "clear": clear_update}
    taken = []
    while (step := next_step(ProgressSummary.objects.get(pk=summary.pk), goal.agency)).action != (
        "publish"
    ):
        # Not publishable before the last step the agency uses.
        with pytest.raises(ValidationError):
            publish_quarter(goal=goal, user=people["leader"], period=Q4_FY19)
        with django_capture_on_commit_callbacks(execute=True):
            act(services[step.action], summary, people[by[step.action]])
        taken.append(str(step.action))
        if len(taken) == 1:
            assert recipients() == first_recipients
    assert taken == path
    summary.refresh_from_db()
    assert summary.review_state == ready_to_publish_state(goal.agency)
    assert publish_quarter(goal=goal, user=people["leader"], period=Q4_FY19).is_published
    assert len(trail(summary)) == len(path) + 1


def test_an_update_waits_for_the_examiner_and_publishing_names_the_missing_step(team):
    goal, summary, people = team
    act(submit_update, summary, people["deputy"])
    act(approve_update, summary, people["office"])

    with pytest.raises(ValidationError) as refused:
        publish_quarter(goal=goal, user=people["leader"], period=Q4_FY19)

    assert refused.value.messages == [
        "The Q4 FY19 update must be cleared by the examiner before it is published."
    ]
    assert not ProgressSummary.objects.get(pk=summary.pk).is_published


@pytest.mark.parametrize(
    ("steps", "returner"),
    [
        (["submit"], "office"),
        (["submit", "approve"], "office"),  # taking back its approval
        (["submit", "approve"], "examiner"),
        (["submit", "approve", "clear"], "examiner"),
    ],
)
def test_a_reviewer_returns_the_update_to_draft_with_a_comment_the_team_hears_of(
    team, steps, returner, django_capture_on_commit_callbacks
):
    goal, summary, people = team
    services = {"submit": submit_update, "approve": approve_update, "clear": clear_update}
    by = {"submit": "deputy", "approve": "office", "clear": "examiner"}
    for step in steps:
        act(services[step], summary, people[by[step]])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        returned = act(
            return_update, summary, people[returner], comment="  Name the meetings held.  "
        )

    assert returned.review_state == ReviewState.DRAFT
    assert returned.returned_comment == "Name the meetings held."
    # Leaders and deputies (the deputy submitted it), each once.
    assert recipients() == ["dep@example.gov", "lead@example.gov"]
    assert "Name the meetings held." in mail.outbox[0].body
    who, state, reason = trail(summary)[-1]
    assert (who, state) == (people[returner].username, "draft")
    assert "Name the meetings held." in reason
    # Fixed and submitted again: the comment is answered.
    save_progress_summary(
        goal=goal, user=people["leader"], period=Q4_FY19, summary="- Met twice in Q4."
    )
    assert act(submit_update, summary, people["leader"]).returned_comment == ""


def test_a_return_needs_a_comment_and_writes_nothing_without(team):
    goal, summary, people = team
    act(submit_update, summary, people["leader"])
    before = summary.history.count()

    with pytest.raises(ValidationError) as refused:
        act(return_update, summary, people["office"], comment="   ")

    assert "comment" in refused.value.message_dict
    assert summary.history.count() == before
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.SUBMITTED


def test_the_team_withdraws_a_submitted_update_until_a_reviewer_acts(team):
    goal, summary, people = team
    act(submit_update, summary, people["leader"])
    assert act(withdraw_update, summary, people["deputy"]).review_state == ReviewState.DRAFT
    act(submit_update, summary, people["leader"])
    act(approve_update, summary, people["office"])

    with pytest.raises(ValidationError, match="withdrawn only while it is submitted"):
        act(withdraw_update, summary, people["leader"])


@pytest.mark.parametrize(
    ("before", "service", "who", "refusal"),
    [
        # Wrong state.
        ([], approve_update, "office", ValidationError),
        ([], clear_update, "examiner", ValidationError),
        ([], return_update, "office", ValidationError),
        (["submit"], submit_update, "leader", ValidationError),  # a double submit
        (["submit"], clear_update, "examiner", ValidationError),  # approval comes first
        (["submit", "approve", "clear"], return_update, "office", ValidationError),
        # Wrong role.
        ([], submit_update, "contributor", ReviewNotAllowed),
        ([], submit_update, "office", ReviewNotAllowed),
        (["submit"], approve_update, "leader", ReviewNotAllowed),
        (["submit"], approve_update, "admin", ReviewNotAllowed),
        (["submit"], approve_update, "examiner", ReviewNotAllowed),
        (["submit", "approve"], clear_update, "office", ReviewNotAllowed),
        (["submit", "approve"], clear_update, "other_examiner", ReviewNotAllowed),
        (["submit"], return_update, "leader", ReviewNotAllowed),
    ],
)
def test_a_wrong_state_or_role_is_refused_and_nothing_written(
    team, before, service, who, refusal, django_capture_on_commit_callbacks
):
    goal, summary, people = team
    services = {"submit": submit_update, "approve": approve_update, "clear": clear_update}
    by = {"submit": "leader", "approve": "office", "clear": "examiner"}
    for step in before:
        act(services[step], summary, people[by[step]])
    history = summary.history.count()
    state = ProgressSummary.objects.get(pk=summary.pk).review_state
    extra = {"comment": "No."} if service is return_update else {}

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(refusal):
        act(service, summary, people[who], **extra)

    assert summary.history.count() == history
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == state
    assert callbacks == []


def test_a_stale_page_is_refused_with_nothing_written(team):
    goal, summary, people = team
    opened = ProgressSummary.objects.get(pk=summary.pk)
    save_progress_summary(goal=goal, user=people["deputy"], period=Q4_FY19, summary="- New.")

    with pytest.raises(StaleReviewError) as stale:
        submit_update(
            summary=opened,
            user=people["leader"],
            permissions=permissions_for(people["leader"], goal),
            expected_version=opened.version,
        )

    assert stale.value.summary.summary == "- New."
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.DRAFT


def test_a_closed_goal_takes_no_step(team):
    goal, summary, people = team
    permissions = permissions_for(people["leader"], goal)  # read while it was open
    goal.closed_at = timezone.now()
    goal.save()

    with pytest.raises(ValidationError, match="is closed"):
        submit_update(
            summary=summary,
            user=people["leader"],
            permissions=permissions,
            expected_version=summary.version,
        )
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.DRAFT


def test_a_submission_needs_what_publishing_needs(team):
    goal, summary, people = team
    ProgressSummary.objects.filter(pk=summary.pk).update(risk="")

    with pytest.raises(ValidationError, match="Choose the risk category"):
        act(submit_update, summary, people["leader"])


def test_in_review_the_quarters_status_updates_and_summary_are_locked_until_returned(team):
    goal, summary, people = team
    milestone = MilestoneFactory(goal=goal)
    act(submit_update, summary, people["leader"])

    with pytest.raises(UpdateInReviewError, match="Q4 FY19 update is submitted"):
        record_status_update(
            milestone=milestone,
            user=people["leader"],
            status=Status.AT_RISK,
            comment="Late.",
            period=Q4_FY19,
            expected_version=milestone.version,
        )
    with pytest.raises(UpdateInReviewError):
        save_progress_summary(goal=goal, user=people["leader"], period=Q4_FY19, summary="- X")
    milestone.refresh_from_db()
    assert milestone.status != Status.AT_RISK and milestone.status_updates.count() == 0

    act(return_update, summary, people["office"], comment="Say why it is late.")
    record_status_update(
        milestone=milestone,
        user=people["leader"],
        status=Status.AT_RISK,
        comment="Late.",
        period=Q4_FY19,
        expected_version=milestone.version,
    )
    assert save_progress_summary(
        goal=goal, user=people["leader"], period=Q4_FY19, summary="- Late, and why."
    ).summary == ("- Late, and why.")


def test_emails_go_once_per_address_never_to_the_actor_nor_without_an_address(
    team, django_capture_on_commit_callbacks
):
    goal, summary, people = team
    # A second deputy sharing the leader's address, one without an address.
    MembershipFactory(
        goal=goal, role=Role.DEPUTY, user__username="twin", user__email="LEAD@example.gov"
    )
    MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="mute", user__email="")
    agency_user(goal.agency, AgencyRoleKind.PERFORMANCE_OFFICE, "pio2")
    with django_capture_on_commit_callbacks(execute=True):
        act(submit_update, summary, people["leader"])
    assert recipients() == ["pio2@example.gov", "pio@example.gov"]
    assert all(len(message.to) == 1 for message in mail.outbox)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act(return_update, summary, people["office"], comment="Fix it.")
    # Leader, deputies (one address once), and the submitter (the leader): no one twice.
    assert recipients() == ["dep@example.gov", "lead@example.gov"]


def test_no_email_when_the_transaction_rolls_back(team, django_capture_on_commit_callbacks):
    goal, summary, people = team
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        act(submit_update, summary, people["leader"])
        raise RuntimeError("the request failed after the submission")

    assert callbacks == [] and mail.outbox == []
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.DRAFT


def test_replacing_the_plan_is_refused_while_an_update_is_in_review(sdif_goal, admin_user):
    summary = ProgressSummaryFactory(goal=sdif_goal, period=Q4_FY19, risk=Risk.LOW)
    act(submit_update, summary, admin_user)
    text = export_plan(sdif_goal)

    with pytest.raises(PlanError, match="in review"):
        import_plan(text, replace=True)


def test_whoever_submitted_an_update_does_not_approve_or_clear_it(team):
    goal, summary, people = team
    # An agency administrator submits; a site administrator also made them the agency's
    # performance office and an examiner: they still may not approve their own submission.
    both = agency_user(goal.agency, AgencyRoleKind.ADMIN, "agency-admin")
    AgencyRole.objects.create(
        user=both, agency=goal.agency, role=AgencyRoleKind.PERFORMANCE_OFFICE
    )
    AgencyRole.objects.create(user=both, agency=goal.agency, role=AgencyRoleKind.EXAMINER)
    act(submit_update, summary, both)

    with pytest.raises(ReviewNotAllowed, match="someone else must approve or clear it"):
        act(approve_update, summary, both)
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.SUBMITTED

    act(approve_update, summary, people["office"])
    with pytest.raises(ReviewNotAllowed, match="someone else must approve or clear it"):
        act(clear_update, summary, both)
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.APPROVED
    act(clear_update, summary, people["examiner"])
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.CLEARED


def test_a_return_comment_longer_than_2000_characters_is_refused(team):
    goal, summary, people = team
    act(submit_update, summary, people["leader"])

    with pytest.raises(ValidationError) as refused:
        act(return_update, summary, people["office"], comment="x" * 2001)

    assert "Keep the comment to 2000 characters (it has 2001)" in refused.value.messages[0]
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.SUBMITTED
    act(return_update, summary, people["office"], comment="x" * 2000)
    assert ProgressSummary.objects.get(pk=summary.pk).review_state == ReviewState.DRAFT
