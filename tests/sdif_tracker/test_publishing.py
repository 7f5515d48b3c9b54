"""The quarterly update and its publication: the published plan of a quarter is the plan
exactly as it stood when it was published; the SDIF plan page and its PDF carry every
section and milestone of the seed in its order; the portfolio's risk heat map."""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.history import recorded_change
from milestones.models import Milestone, ProgressSummary, Risk, Status
from milestones.quarters import forget_reporting_quarter
from milestones.review import return_update
from milestones.services import (
    PublishedSummaryError,
    publish_quarter,
    record_status_update,
    save_progress_summary,
)
from sdif_tracker import exports
from sdif_tracker.access import permissions_for
from strategies.models import Goal, Role, Sensitivity
from strategies.periods import FiscalPeriod
from strategies.services import update_strategy
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.helpers import (
    chain_user,
    clear_for_publishing,
    clear_quarter_for_publishing,
    shown_now,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

Q4_FY19, Q1_FY20 = FiscalPeriod(2019, 4), FiscalPeriod(2020, 1)

# The seed's sections, in its order (ids of the plan page's sections).
SECTION_ORDER = [
    "overview",
    "strategies",
    "external-factors",
    "history",
    "progress",
    "milestones",
    "indicators",
    "data-accuracy",
    "additional-information",
]
# The seed's Key Milestones, in its order (the start of each title).
SEED_TITLES = [
    "Assist with U.S./Mexico domestic sanctions reforms",
    "Provide additional information about illicit financial activities",
    "Participate in annual SDIF senior level meetings.",
    "Participate in annual SDIF working level meetings.",
    "Develop requirements for data matching and regulatory harmonization project.",
    "Confirm mutual understanding of FY 2018 illicit finance trends",
    "Establish timeline for the data matching and regulatory harmonization project.",
    "Confirm mutual understanding of FY 2019 illicit finance trends",
]
UPDATE = {
    "summary": "- Senior level meetings scheduled for July 2019.",
    "next_steps": "- Hold the July meetings.",
    "risk": Risk.MEDIUM,
    "likelihood": "uncertain",
    "improvement_actions": "",
    "verification_validation": "Reviewed by TFFC staff.",
    "data_sources": "Meeting records.",
    "data_accuracy": "Exact counts.",
    "data_limitations": "Sensitive data are withheld.",
    "limitations_compensation": "Quarterly discussions with OMB.",
}


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def sdif(request, clock):
    """The SDIF plan imported at the start of FY19 (its Q3 FY19 update published), its
    period run on into FY20 so that a quarter follows Q4 FY19, and its leader; the clock
    stays in Q1 FY20, while the goal reports on Q4 FY19."""
    clock.set(2018, 10, 5, 10, 0)
    goal = request.getfixturevalue("sdif_goal")
    with recorded_change(reason="A second year"):
        goal.last_fiscal_year = 2020
        goal.save()
    leader = MembershipFactory(goal=goal, role=Role.LEADER, user__username="leader").user
    clock.set(2019, 10, 20, 9, 0)
    forget_reporting_quarter(goal)  # worked out again for the day
    return goal, leader


def write_update(goal, user, period=Q4_FY19, **changes):
    goal = Goal.objects.get(pk=goal.pk)  # as a request would: today's reporting quarter
    data = {**UPDATE, **changes}
    summary = data.pop("summary")
    return save_progress_summary(
        goal=goal, user=user, period=period, summary=summary, details=data
    )


def plan_url(goal, **params):
    url = reverse("goal_plan", kwargs={"slug": goal.slug})
    return url


def article_text(client, goal, quarter):
    return page(client, plan_url(goal), quarter=quarter).find("article").text


# -- the SDIF plan page and its PDF -----------------------------------------------------


def test_the_sdif_plan_has_every_section_and_milestone_in_the_seed_order(client, sdif_goal):
    client.force_login(UserFactory())
    plan = page(client, plan_url(sdif_goal))
    article = plan.find("article")

    ids = [node.attrs["id"] for node in article.iter() if node.attrs.get("id") in SECTION_ORDER]
    assert ids == SECTION_ORDER
    leaders = article.find("dl", class_="plan-leaders").text
    assert "Goal Leader: Marshall Billingslea" in leaders
    assert "Deputy Goal Leader: Daniel Moger" in leaders
    rows = article.find("table", class_="plan-milestones").find("tbody").find_all("tr")
    assert len(rows) == len(SEED_TITLES)
    for tr, title in zip(rows, SEED_TITLES, strict=True):
        assert tr.find("th").text.startswith(title)
    assert (
        "Due to the sensitive nature of this goal" in article.find("section", id="indicators").text
    )


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def test_the_sdif_pdf_has_the_same_text_as_the_page(client, sdif_goal):
    client.force_login(UserFactory())
    response = client.get(reverse("goal_plan_pdf", kwargs={"slug": sdif_goal.slug}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="sdif-plan.pdf"'
    text = pdf_text(response.content)
    for milestone in Milestone.objects.filter(goal=sdif_goal):
        assert re.sub(r"\s+", " ", milestone.title) in text, milestone.title
    headings = [
        "Agency Priority Goal Action Plan",
        "Goal Leader: Marshall Billingslea",
        "Overview",
        "Goal Structure & Strategies",
        "Key External Factors",
        "History",
        "Summary of Progress – Q3 FY19",  # the plan ships as its Q3 FY19 update
        "Key Milestones",
        "Key Indicators",
        "Data Accuracy and Reliability",
        "Additional Information Contributing Programs",
    ]
    # Headings may be printed in capitals (CSS text-transform): compare without case.
    positions = [text.lower().index(heading.lower()) for heading in headings]
    assert positions == sorted(positions)
    assert "Due to the sensitive nature of this goal" in text
    # What only the screen has (navigation, the PDF link itself) is not printed.
    assert "Download PDF" not in text
    assert "Portfolio" not in text


def test_without_weasyprint_the_plan_says_so_and_the_pdf_url_answers_503(
    client, sdif_goal, monkeypatch
):
    monkeypatch.setattr(exports, "pdf_support", lambda: exports.PdfSupport(False, "no pango"))
    client.force_login(UserFactory())

    plan = page(client, plan_url(sdif_goal))
    response = client.get(reverse("goal_plan_pdf", kwargs={"slug": sdif_goal.slug}))

    notice = plan.find(data_pdf_unavailable=True).text
    assert "PDF download is not available on this server" in notice
    assert "Use Print instead" in notice
    assert not plan.find_all(data_pdf_link=True)
    assert [b.text for b in plan.find_all("button") if b.text == "Print"] == ["Print"]
    assert response.status_code == 503
    assert "PDF download is not available on this server" in response.content.decode()
    assert "no pango" in response.content.decode()


# -- the quarterly update ---------------------------------------------------------------


def test_a_leader_writes_the_whole_quarterly_update_through_the_form(sdif):
    goal, leader = sdif
    response = client_for(leader).post(
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        {"period": "Q4 FY19", "version": "", **UPDATE},
    )

    assert response.status_code == 302
    saved = ProgressSummary.objects.get(goal=goal, period=Q4_FY19)
    assert (saved.risk, saved.likelihood, saved.next_steps) == (
        "medium",
        "uncertain",
        "- Hold the July meetings.",
    )
    assert saved.data_limitations == "Sensitive data are withheld."
    assert saved.history.latest().history_user == leader
    plan = page(client_for(leader), plan_url(goal))
    section = plan.find("section", data_progress_period="Q4 FY19")
    assert "Hold the July meetings." in section.text
    assert section.find(data_risk="medium").text == "Medium"
    statement = plan.find("section", id="data-accuracy").text
    assert "Limitations of the data Sensitive data are withheld." in statement


def test_a_high_risk_needs_improvement_actions_and_nothing_is_saved_without(sdif):
    goal, leader = sdif
    response = client_for(leader).post(
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        {"period": "Q4 FY19", "version": "", **UPDATE, "risk": "high"},
    )

    assert response.status_code == 400
    assert "improvement actions are required when the risk is high" in response.content.decode()
    assert not ProgressSummary.objects.filter(goal=goal, period=Q4_FY19).exists()
    with pytest.raises(ValidationError) as error:
        ProgressSummary(goal=goal, period=Q4_FY19, summary="x", risk=Risk.HIGH).full_clean()
    assert "improvement_actions" in error.value.message_dict


def test_an_unknown_risk_is_refused_by_the_form_and_the_database(sdif):
    goal, leader = sdif
    response = client_for(leader).post(
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        {"period": "Q4 FY19", "version": "", **UPDATE, "risk": "catastrophic"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressSummaryFactory(goal=goal, period=Q4_FY19, risk="severe")


def test_the_database_refuses_a_published_update_without_a_risk(sdif):
    goal, leader = sdif
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressSummaryFactory(goal=goal, period=Q4_FY19, published_at="2019-10-20T10:00Z")


# -- publishing ---------------------------------------------------------------------------


def publish_url(goal):
    return reverse("publish_quarter", kwargs={"slug": goal.slug})


def confirmation_form(response) -> dict:
    """The fields the confirmation page's Publish button posts."""
    form = parse(response.content).find("form", data_publish_confirm=True)
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input")}
    assert form.attrs["action"] == response.request["PATH_INFO"]
    return fields


def publish(user, goal, period):
    """As a leader does once the update went through its review chain (submitted,
    approved, cleared): the plan's Publish link opens the confirmation, whose button
    posts."""
    summary = ProgressSummary.objects.filter(goal=goal, period=FiscalPeriod.parse(period)).first()
    if summary is not None and not summary.is_published:
        clear_for_publishing(summary)
    client = client_for(user)
    opened = client.get(publish_url(goal), {"period": period})
    assert opened.status_code == 200, opened.status_code
    return client.post(publish_url(goal), confirmation_form(opened), follow=True)


def published_state():
    """What publishing changes: the updates' publication and every history row."""
    return (
        list(ProgressSummary.objects.values_list("period", "published_at", "version")),
        ProgressSummary.history.count(),
        Milestone.history.count(),
    )


def test_publishing_a_quarter_freezes_its_plan_against_later_edits(sdif, clock):
    goal, leader = sdif
    write_update(goal, leader)
    response = publish(leader, goal, "Q4 FY19")
    assert "Published the Q4 FY19 update." in " ".join(messages_of(response))
    summary = ProgressSummary.objects.get(goal=goal, period=Q4_FY19)
    assert summary.is_published and summary.published_by == leader
    reader = UserFactory()
    frozen = article_text(client_for(reader), goal, "Q4 FY19")
    assert "On track" in frozen and "Treasury has scheduled a meeting for July 2019" in frozen

    # Later the same day and the next quarter: a milestone, a strategy and the goal change.
    clock.set(2019, 10, 20, 9, 5)
    senior = Milestone.objects.get(goal=goal, position=3)
    record_status_update(
        milestone=senior,
        user=leader,
        status=Status.DELAYED,
        comment="Postponed by Mexico.",
        period=Q1_FY20,  # Q4 FY19 is published: the update is the next quarter's
        revised_due=FiscalPeriod(2020),
        expected_version=senior.version,
    )
    clock.set(2019, 11, 10, 9, 0)
    update_strategy(
        strategy=goal.strategies.get(number=4), user=leader, number=4, title="Renamed strategy"
    )
    write_update(goal, leader, period=Q1_FY20, summary="- A new quarter.")

    # A fresh sign-in: the clock moved past the session's idle timeout.
    assert article_text(client_for(reader), goal, "Q4 FY19") == frozen
    current = page(client_for(reader), plan_url(goal)).find("article").text
    assert "Postponed by Mexico." in current and "Renamed strategy" in current
    assert "Postponed by Mexico." not in frozen and "Renamed strategy" not in frozen


def test_the_published_quarter_shows_only_its_update_and_who_published_it(sdif):
    goal, leader = sdif
    write_update(goal, leader)
    publish(leader, goal, "Q4 FY19")
    write_update(goal, leader, period=Q1_FY20, summary="- Next quarter's draft.")

    plan = page(client_for(leader), plan_url(goal), quarter="Q4 FY19")

    periods = [s.attrs["data-progress-period"] for s in plan.find_all(data_progress_period=True)]
    assert periods == ["Q4 FY19"]
    banner = plan.find(data_published_quarter="Q4 FY19").text
    assert "Q4 FY19 was published on 20 October 2019" in banner and "by leader" in banner
    # Read-only: no edit links, no publish buttons on a published quarter.
    assert not plan.find("article").find_all("a", href=True)
    assert not plan.find_all(data_publish_link=True)


def test_the_published_plan_is_citable_by_its_quarter_for_anyone_who_may_read_it(sdif):
    goal, leader = sdif
    goal.sensitivity = Sensitivity.PUBLIC
    goal.save()
    write_update(goal, leader)
    publish(leader, goal, "Q4 FY19")

    anonymous = page(Client(), plan_url(goal), quarter="Q4+FY19".replace("+", " "))

    assert anonymous.find(data_published_quarter="Q4 FY19")
    assert ProgressSummary.objects.get(period=Q4_FY19).get_absolute_url() == (
        f"/goals/{goal.slug}/plan/?quarter=Q4+FY19"
    )


REFUSALS = [
    ("FY19", None, "Only a quarter's update is published"),
    ("Q5 FY19", None, "a quarter is Q1 to Q4"),
    ("", None, "Only a quarter's update is published"),
    ("Q1 FY20", None, "Q1 FY20 is after the quarter being reported on, Q4 FY19"),
    ("Q4 FY19", None, "There is no update for Q4 FY19 to publish"),
    ("Q4 FY19", {"risk": ""}, "Choose the risk category"),
    ("Q4 FY19", {"risk": "high", "improvement_actions": ""}, "add the improvement actions"),
    ("Q4 FY19", "published", "Already published: Q4 FY19 was published on"),
    # Published only once cleared: the page names the step the update still waits for.
    ("Q4 FY19", "draft", "The Q4 FY19 update must be submitted for review before it is"),
    (
        "Q4 FY19",
        "submitted",
        "The Q4 FY19 update must be approved by the agency's performance office before",
    ),
    (
        "Q4 FY19",
        "approved",
        "The Q4 FY19 update must be cleared by the examiner before it is published.",
    ),
]


def refusal_setup(goal, leader, setup):
    if setup == "published":
        write_update(goal, leader)
        clear_quarter_for_publishing(goal, Q4_FY19)
        publish_quarter(goal=goal, user=leader, period=Q4_FY19)
    elif setup in ("draft", "submitted", "approved"):
        summary = write_update(goal, leader)
        if setup != "draft":
            clear_for_publishing(summary, until=setup)
    elif setup is not None:
        # Written around the form and the service, as an import or the admin might.
        ProgressSummaryFactory(goal=goal, period=Q4_FY19, **setup)


@pytest.mark.parametrize(("period", "setup", "message"), REFUSALS)
def test_publishing_refuses_with_a_clear_message_and_changes_nothing(sdif, period, setup, message):
    """Even a POST made as the confirmation page makes it (its version and moment)."""
    goal, leader = sdif
    refusal_setup(goal, leader, setup)
    summary = ProgressSummary.objects.filter(goal=goal, period=Q4_FY19).first()
    before = published_state()

    response = client_for(leader).post(
        publish_url(goal),
        {
            "period": period,
            "version": summary.version if summary else 1,
            "seen": shown_now(),
        },
    )

    assert response.status_code == 400
    document = parse(response.content)
    text = " ".join(messages_of(response)) + document.find("main").text
    assert "Nothing was published" in text and message in text
    assert not document.find_all("form", data_publish_confirm=True)
    assert published_state() == before


@pytest.mark.parametrize(("period", "setup", "message"), [r for r in REFUSALS if r[0]])
def test_the_confirmation_page_says_why_nothing_can_be_published_and_offers_no_button(
    sdif, period, setup, message
):
    goal, leader = sdif
    refusal_setup(goal, leader, setup)
    before = published_state()

    response = client_for(leader).get(publish_url(goal), {"period": period})

    assert response.status_code == (400 if period == "Q5 FY19" else 200)
    document = parse(response.content)
    assert message in document.find(data_publish_problem=True).text
    assert not document.find_all("form", data_publish_confirm=True)
    assert plan_url(goal) + "#publishing" in [a.attrs["href"] for a in document.find_all("a")]
    assert published_state() == before


def test_the_confirmation_shows_what_will_be_frozen_and_changes_nothing(sdif):
    goal, leader = sdif
    write_update(
        goal,
        leader,
        summary="- Senior meetings **held**.",
        risk=Risk.HIGH,
        improvement_actions="- Escalate to the Deputy Secretary.",
    )
    senior = Milestone.objects.get(goal=goal, position=3)
    record_status_update(
        milestone=senior,
        user=leader,
        status=Status.AT_RISK,
        comment="Mexico may postpone.",
        period=Q4_FY19,
        expected_version=senior.version,
    )
    clear_quarter_for_publishing(goal, Q4_FY19)
    before = published_state()

    response = client_for(leader).get(publish_url(goal), {"period": "Q4 FY19"})

    assert response.status_code == 200
    assert published_state() == before
    document = parse(response.content)
    assert document.find("h1").text == "Publish the Q4 FY19 update of SDIF?"
    assert "cannot be undone" in document.find(data_freeze_warning=True).text
    update = document.find(data_preview_update=True)
    assert "Senior meetings held." in update.text
    assert update.find(data_risk="high").text == "High"
    assert "Escalate to the Deputy Secretary." in update.text
    shown = {
        tr.attrs["data-preview-milestone"]: tr.find(data_status=True).attrs["data-status"]
        for tr in document.find_all("tr", data_preview_milestone=True)
    }
    assert len(shown) == len(SEED_TITLES)
    assert shown[str(senior.pk)] == "at_risk"
    counts = document.find(data_status_counts=True).text
    assert counts.startswith("8 key milestones will be published")
    cancel = document.find("form", data_publish_confirm=True).find("a")
    assert cancel.text == "Cancel" and cancel.attrs["href"] == plan_url(goal) + "#publishing"

    # Published from the page, the frozen plan carries exactly the statuses it showed.
    publish(leader, goal, "Q4 FY19")
    frozen = page(client_for(leader), plan_url(goal), quarter="Q4 FY19")
    published = {
        tr.find("th").text: tr.find(data_status=True).attrs["data-status"]
        for tr in frozen.find("table", class_="plan-milestones").find("tbody").find_all("tr")
    }
    assert sorted(published.values()) == sorted(shown.values())
    assert published[senior.title] == "at_risk"


def test_a_post_that_did_not_come_from_the_confirmation_publishes_nothing(sdif):
    goal, leader = sdif
    write_update(goal, leader)
    clear_quarter_for_publishing(goal, Q4_FY19)
    before = published_state()

    response = client_for(leader).post(publish_url(goal), {"period": "Q4 FY19"})

    assert response.status_code == 400
    assert "Open the confirmation page from the plan" in " ".join(messages_of(response))
    # The page it answers with is the confirmation, ready to publish from.
    assert parse(response.content).find("form", data_publish_confirm=True)
    assert published_state() == before


def examiner_returns(goal, comment="Say more."):
    """The examiner sends the cleared Q4 FY19 update back to the team."""
    summary = ProgressSummary.objects.get(goal=goal, period=Q4_FY19)
    summary.goal = goal
    examiner = chain_user(goal, "examiner")
    return_update(
        summary=summary,
        user=examiner,
        permissions=permissions_for(examiner, goal),
        comment=comment,
        expected_version=summary.version,
    )


def test_an_update_saved_after_the_confirmation_opened_is_not_published(sdif, clock):
    goal, leader = sdif
    write_update(goal, leader)
    clear_quarter_for_publishing(goal, Q4_FY19)
    client = client_for(leader)
    opened = client.get(publish_url(goal), {"period": "Q4 FY19"})
    clock.set(2019, 10, 20, 9, 5)
    # Returned, rewritten and cleared again while the confirmation page stood open.
    examiner_returns(goal)
    write_update(goal, leader, summary="- Rewritten by the deputy.")
    clear_quarter_for_publishing(goal, Q4_FY19)
    before = published_state()

    response = client.post(publish_url(goal), confirmation_form(opened))

    assert response.status_code == 409
    assert "the Q4 FY19 update was saved again while you were reviewing it" in " ".join(
        messages_of(response)
    )
    assert published_state() == before
    # The page shows the update as it is now, to publish from again.
    document = parse(response.content)
    assert "Rewritten by the deputy." in document.find(data_preview_update=True).text
    assert client.post(publish_url(goal), confirmation_form(response)).status_code == 302
    assert ProgressSummary.objects.get(goal=goal, period=Q4_FY19).is_published


def test_a_milestone_changed_after_the_confirmation_opened_stops_the_publication(sdif, clock):
    goal, leader = sdif
    write_update(goal, leader)
    clear_quarter_for_publishing(goal, Q4_FY19)
    client = client_for(leader)
    opened = client.get(publish_url(goal), {"period": "Q4 FY19"})
    clock.set(2019, 10, 20, 9, 5)
    # Returned so that the milestone can change, then cleared again.
    examiner_returns(goal)
    senior = Milestone.objects.get(goal=goal, position=3)
    record_status_update(
        milestone=senior,
        user=leader,
        status=Status.DELAYED,
        comment="Postponed.",
        period=Q4_FY19,
        revised_due=FiscalPeriod(2020),
        expected_version=senior.version,
    )
    clear_quarter_for_publishing(goal, Q4_FY19)
    before = published_state()

    response = client.post(publish_url(goal), confirmation_form(opened))

    assert response.status_code == 409
    assert "key milestones changed for Q4 FY19 while you were reviewing them" in " ".join(
        messages_of(response)
    )
    assert published_state() == before
    row = parse(response.content).find("tr", data_preview_milestone=str(senior.pk))
    assert row.find(data_status=True).attrs["data-status"] == "delayed"


def test_editing_a_published_update_opens_the_next_quarters_draft(sdif):
    goal, leader = sdif
    write_update(goal, leader)
    publish(leader, goal, "Q4 FY19")
    url = reverse("progress_edit", kwargs={"slug": goal.slug})
    client = client_for(leader)

    opened = client.get(url, {"period": "Q4 FY19"}, follow=True)

    assert opened.redirect_chain == [(f"{url}?period=Q1+FY20", 302)]
    assert "Here is the draft for Q1 FY20" in " ".join(messages_of(opened))
    assert opened.context["form"].initial["period"] == Q1_FY20


def test_saving_over_a_published_update_is_refused_and_the_text_kept_for_the_next_quarter(
    sdif,
):
    goal, leader = sdif
    published = write_update(goal, leader)
    clear_quarter_for_publishing(goal, Q4_FY19)
    publish_quarter(goal=goal, user=leader, period=Q4_FY19)
    published.refresh_from_db()

    response = client_for(leader).post(
        reverse("progress_edit", kwargs={"slug": goal.slug}),
        {
            "period": "Q4 FY19",
            "version": published.version,
            **UPDATE,
            "summary": "- Rewritten.",
        },
    )

    assert response.status_code == 409
    assert "does not change; nothing was saved" in response.content.decode()
    form = parse(response.content).find("form", action=reverse("progress_edit", args=[goal.slug]))
    assert form.find("input", name="period").attrs["value"] == "Q1 FY20"
    assert form.find("textarea", name="summary").text == "- Rewritten."
    published.refresh_from_db()
    assert published.summary == UPDATE["summary"]
    assert not ProgressSummary.objects.filter(goal=goal, period=Q1_FY20).exists()
    with pytest.raises(PublishedSummaryError):
        save_progress_summary(goal=goal, user=leader, period=Q4_FY19, summary="- Again.")


def test_a_quarter_not_understood_shows_the_current_plan_and_says_so(sdif):
    goal, leader = sdif
    client = client_for(leader)
    for quarter, message in [
        ("Q9 FY19", "a quarter is Q1 to Q4"),
        ("FY19", "“FY19” is not a quarter"),
    ]:
        response = client.get(plan_url(goal), {"quarter": quarter})
        assert response.status_code == 200
        assert message in " ".join(messages_of(response)), quarter
        assert not parse(response.content).find_all(data_published_quarter=True)
        assert not parse(response.content).find_all("div", class_="asof-banner")


def test_a_quarter_not_published_is_shown_as_reported_for_to_signed_in_users(sdif):
    goal, leader = sdif
    goal.sensitivity = Sensitivity.PUBLIC
    goal.save()

    plan = page(client_for(leader), plan_url(goal), quarter="Q2 FY19")
    anonymous = Client().get(plan_url(goal), {"quarter": "Q2 FY19"})

    # The plan arrived as its Q3 FY19 update: only the goal's own change belongs to Q2.
    banner = plan.find("div", class_="asof-banner").visible_text
    assert banner.startswith("You are looking at the plan as reported for Q2 FY19.")
    assert "Q2 FY19 is not published yet" in banner
    assert not plan.find_all("tr", data_milestone_position=True)
    assert not plan.find_all(data_published_quarter=True)
    # Work in progress is for signed-in readers: a visitor sees the current plan.
    assert "No update has been published for Q2 FY19" in " ".join(messages_of(anonymous))
    assert not parse(anonymous.content).find_all("div", class_="asof-banner")


def test_leaders_see_publish_buttons_for_cleared_updates_and_reviewers_do_not(sdif):
    goal, leader = sdif
    write_update(goal, leader)
    reviewer = MembershipFactory(goal=goal, role=Role.REVIEWER).user
    action = reverse("publish_quarter", kwargs={"slug": goal.slug})

    # A draft is not offered for publishing: the plan shows its state and links to its
    # review page, where it is submitted.
    draft = page(client_for(leader), plan_url(goal))
    assert not draft.find_all("a", data_publish_link=True)
    assert draft.find("span", data_review_state="draft").visible_text.endswith("Draft")
    (review_link,) = [a for a in draft.find_all("a") if a.text == "Review the Q4 FY19 update"]
    assert review_link.attrs["href"] == (
        reverse("update_review", kwargs={"slug": goal.slug}) + "?period=Q4%20FY19"
    )

    clear_quarter_for_publishing(goal, Q4_FY19)
    for_leader = page(client_for(leader), plan_url(goal))
    for_reviewer = page(client_for(reviewer), plan_url(goal))

    # Publishing cannot be undone: the plan offers a link to the confirmation page only.
    link = for_leader.find("a", data_publish_link="Q4 FY19")
    assert link.attrs["href"] == f"{action}?period=Q4%20FY19"
    assert link.text == "Publish Q4 FY19…"
    assert not for_leader.find_all("form", action=action)
    assert not for_reviewer.find_all("a", data_publish_link=True)


# -- the portfolio's risk heat map --------------------------------------------------------


def test_the_heat_map_shows_each_published_risk_linking_to_its_quarter(sdif):
    goal, leader = sdif
    write_update(goal, leader, risk=Risk.LOW)
    clear_quarter_for_publishing(goal, Q4_FY19)
    publish_quarter(goal=goal, user=leader, period=Q4_FY19)
    write_update(goal, leader, period=Q1_FY20, risk=Risk.HIGH, improvement_actions="- Escalate.")
    clear_quarter_for_publishing(goal, Q1_FY20)
    publish_quarter(goal=goal, user=leader, period=Q1_FY20)

    heatmap = page(client_for(leader), reverse("portfolio")).find("table", class_="risk-heatmap")

    header = [th.text for th in heatmap.find("thead").find_all("th")]
    # The goal's quarters up to the one it reports on now (Q2 FY20 has not begun).
    assert header[0] == "Goal" and header[1] == "Q1 FY18" and header[-1] == "Q1 FY20"
    cells = {td.attrs["data-quarter"]: td for td in heatmap.find("tbody").find_all("td")}
    assert cells["Q4 FY19"].visible_text == "Low"
    assert cells["Q1 FY20"].visible_text == "High"
    assert "risk-high" in cells["Q1 FY20"].attrs["class"]
    assert cells["Q1 FY20"].find("a").attrs["href"] == f"/goals/{goal.slug}/plan/?quarter=Q1+FY20"
    assert cells["Q1 FY19"].visible_text == "—"


def test_the_heat_map_runs_the_same_queries_for_2_and_8_goals(clock, admin_user):
    clock.set(2019, 10, 20, 9, 0)
    client = client_for(admin_user)

    def add_goals(count):
        for _ in range(count):
            goal = GoalFactory()
            MilestoneFactory(goal=goal)
            ProgressSummaryFactory(goal=goal, period=Q4_FY19, risk=Risk.LOW)
            clear_quarter_for_publishing(goal, Q4_FY19)
            publish_quarter(goal=goal, user=admin_user, period=Q4_FY19)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("portfolio")).status_code == 200
        return len(queries)

    add_goals(2)
    small = count()
    add_goals(6)
    assert count() == small


@pytest.mark.parametrize("seen", ["2999-01-01T00:00:00+00:00", "now-unsigned", ""])
def test_a_post_that_claims_its_own_preview_moment_publishes_nothing(sdif, seen):
    """The preview's moment comes signed from the page: a later one typed by hand would
    skip the check that the plan did not change since."""
    goal, leader = sdif
    summary = ProgressSummaryFactory(goal=goal, period=Q4_FY19, risk=Risk.LOW)
    before = published_state()
    if seen == "now-unsigned":
        seen = timezone.now().isoformat()

    response = client_for(leader).post(
        publish_url(goal), {"period": "Q4 FY19", "version": summary.version, "seen": seen}
    )

    assert response.status_code == 400
    text = " ".join(messages_of(response)) + parse(response.content).find("main").text
    assert "Open the confirmation page from the plan and publish from there." in text
    assert published_state() == before
