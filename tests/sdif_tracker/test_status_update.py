"""Goal leaders keep milestones current: the status update form, on the milestone page
and inline on the dashboard (htmx), refusing stale forms without losing what was typed."""

import pytest
from django.test import Client
from django.urls import reverse

from milestones.models import Status, StatusUpdate
from milestones.quarters import reporting_quarter
from milestones.services import record_status_update
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import GoalFactory, MembershipFactory, MilestoneFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def update_url(milestone):
    return reverse("milestone_update", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk})


def post_data(milestone, **overrides):
    values = {
        "status": Status.AT_RISK,
        "comment": "Mexican counterparts were replaced.",
        "period": "Q3 FY 2019",
        "revised_due": "",
        "version": milestone.version,
    }
    values.update(overrides)
    return {f"m{milestone.pk}-{key}": value for key, value in values.items()}


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def snapshot(milestone):
    milestone.refresh_from_db()
    return (
        milestone.status,
        milestone.comment,
        milestone.version,
        milestone.history.count(),
        StatusUpdate.objects.count(),
    )


class TestWithoutJavaScript:
    def test_a_leader_saves_an_update_and_is_sent_back_with_a_message(self, leader, milestone):
        response = client_for(leader).post(
            update_url(milestone), post_data(milestone), follow=True
        )

        assert response.redirect_chain[-1][0] == milestone.get_absolute_url()
        assert "is At risk" in response.content.decode()
        milestone.refresh_from_db()
        assert milestone.status == Status.AT_RISK
        assert milestone.comment == "Mexican counterparts were replaced."
        update = StatusUpdate.objects.get()
        assert (update.author, update.period) == (leader, FiscalPeriod(2019, 3))
        latest = milestone.history.latest()
        assert (latest.history_user, latest.history_source) == (leader, "web")

    def test_the_milestone_page_shows_the_form_to_editors_only(self, leader, reviewer, milestone):
        url = milestone.get_absolute_url()

        editor_page = client_for(leader).get(url).content.decode()
        reviewer_page = client_for(reviewer).get(url).content.decode()

        assert 'id="update"' in editor_page and update_url(milestone) in editor_page
        assert 'id="update"' not in reviewer_page and update_url(milestone) not in reviewer_page

    def test_the_reporting_period_defaults_to_the_goals_reporting_quarter(self, leader, sdif_goal):
        # After the shipped plan's import the goal reports on Q4 FY19 (Q3 FY19 is
        # published), whatever today's date.
        milestone = sdif_goal.milestones.order_by("position").first()
        MembershipFactory(user=leader, goal=sdif_goal, role=Role.LEADER)

        page = client_for(leader).get(milestone.get_absolute_url()).content.decode()

        assert 'value="Q4 FY19"' in page

    @pytest.mark.parametrize(
        ("period", "message"),
        [
            ("Q3 FY19", "Q3 FY19 is published and does not change: report on Q4 FY19."),
            ("Q1 FY20", "Q1 FY20 is outside the goal&#x27;s period, FY18–FY19"),
        ],
    )
    def test_a_published_quarter_or_one_outside_the_goal_is_refused(
        self, leader, sdif_goal, period, message
    ):
        milestone = sdif_goal.milestones.order_by("position").first()
        MembershipFactory(user=leader, goal=sdif_goal, role=Role.LEADER)
        before = StatusUpdate.objects.count()

        response = client_for(leader).post(
            update_url(milestone), post_data(milestone, period=period, comment="Checked.")
        )

        assert response.status_code == 400
        assert message in response.content.decode()
        assert StatusUpdate.objects.count() == before

    def test_a_quarter_after_the_reporting_quarter_is_refused(self, leader, milestone):
        goal = milestone.goal
        goal.reporting_quarter_set = FiscalPeriod(2019, 2)
        goal.save()

        response = client_for(leader).post(
            update_url(milestone), post_data(milestone, period="Q3 FY19")
        )

        assert response.status_code == 400
        assert "Q3 FY19 is after the quarter being reported on, Q2 FY19" in (
            response.content.decode()
        )
        assert not StatusUpdate.objects.exists()

    def test_a_get_of_the_update_url_goes_to_the_form_on_the_milestone_page(
        self, leader, milestone
    ):
        response = client_for(leader).get(update_url(milestone))

        assert response.status_code == 302
        assert response["Location"] == f"{milestone.get_absolute_url()}#update"

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"comment": ""}, "comment", "a comment is required"),
            ({"period": "Q5 FY19"}, "period", "a quarter is Q1 to Q4"),
            ({"period": "FY19"}, "period", "Report on a quarter, e.g. Q4 FY19."),
            ({"period": "Q1 FY2999"}, "period", "is outside the goal's period, FY18–FY19"),
            ({"period": "Q4 FY17"}, "period", "is outside the goal's period, FY18–FY19"),
            ({"status": "sideways"}, "status", "Select a valid choice"),
            ({"status": Status.DELAYED}, "revised_due", "needs a revised due period"),
            ({"revised_due": "banana"}, "revised_due", "is not a fiscal period"),
            ({"comment": "x" * 4001}, "comment", "at most 4000 characters"),
            ({"version": "abc"}, "version", "Enter a whole number"),
        ],
    )
    def test_bad_input_is_refused_with_a_message_on_the_field_and_changes_nothing(
        self, leader, milestone, overrides, field, message
    ):
        before = snapshot(milestone)

        response = client_for(leader).post(
            update_url(milestone), post_data(milestone, **overrides)
        )

        assert response.status_code == 400
        form = response.context["form"]
        assert any(message in error for error in form.errors[field]), form.errors
        if field != "version":
            widget = f'id="id_m{milestone.pk}-{field}"'
            page = response.content.decode()
            assert widget in page
            assert f'id="error_1_id_m{milestone.pk}-{field}"' in page
        assert snapshot(milestone) == before


class TestWithHtmx:
    headers = {"HTTP_HX_REQUEST": "true"}

    def test_the_update_button_loads_the_form_into_the_edit_panel(self, leader, milestone):
        response = client_for(leader).get(update_url(milestone), **self.headers)

        page = parse(response.content)
        assert response.status_code == 200
        assert page.find(id="edit-panel-title").visible_text.startswith("Update “")
        form = page.find("form", data_panel_form=True)
        # Saving posts back into the panel; the row is never replaced by a form.
        assert form.attrs["hx-post"] == update_url(milestone)
        assert form.attrs["hx-target"] == "#edit-panel-body"
        assert f'name="m{milestone.pk}-version" value="{milestone.version}"' in str(
            response.content.decode()
        )
        assert "autofocus" in page.find("select").attrs
        assert [b.visible_text for b in page.find_all("button", data_close_panel=True)] == [
            "Close",
            "Cancel",
        ]

    def test_saving_returns_the_row_the_counts_and_the_message_out_of_band(
        self, leader, milestone
    ):
        quarter = reporting_quarter(milestone.goal)
        response = client_for(leader).post(
            update_url(milestone), post_data(milestone, period=str(quarter)), **self.headers
        )

        html = response.content.decode()
        page = parse(response.content)
        assert response.status_code == 200
        # The panel's body empties (the script closes the panel) ...
        assert page.find(data_panel_saved=True) is not None
        # ... and out of band: the row, with the message in it ...
        row = page.find("tr", id=f"milestone-{milestone.pk}")
        assert row.attrs["hx-swap-oob"] == "true"
        assert row.find(data_status="at_risk") is not None
        assert "Mexican counterparts were replaced." in row.text
        assert row.find(data_row_saved=True).text.strip() == "✓ Saved: now At risk."
        assert f'id="update-button-{milestone.pk}"' in html
        # ... the line of counts, now with this milestone updated ...
        summary = page.find(id="work-summary")
        assert summary.attrs["hx-swap-oob"] == "true"
        assert f"1 of 1 updated for {quarter}" in summary.visible_text
        # ... and the words for the live region.
        live = page.find(id="live-status")
        assert live.attrs["hx-swap-oob"] == "innerHTML" and "is At risk" in live.text
        milestone.refresh_from_db()
        assert milestone.status == Status.AT_RISK

    def test_the_refreshed_counts_keep_the_pages_grouping_in_their_links(self, leader, milestone):
        dashboard = f"http://testserver{milestone.goal.get_absolute_url()}?group=quarter"
        response = client_for(leader).post(
            update_url(milestone),
            post_data(milestone, period=str(reporting_quarter(milestone.goal))),
            HTTP_HX_CURRENT_URL=dashboard,
            **self.headers,
        )

        summary = parse(response.content).find(id="work-summary")
        hrefs = [a.attrs["href"] for a in summary.find_all("a") if "href" in a.attrs]
        assert hrefs and all("group=quarter" in href for href in hrefs), hrefs

    def test_an_error_comes_back_in_the_panel_with_what_was_typed(self, leader, milestone):
        before = snapshot(milestone)

        response = client_for(leader).post(
            update_url(milestone),
            post_data(milestone, status=Status.DELAYED, comment="Slipping"),
            **self.headers,
        )

        page = response.content.decode()
        assert response.status_code == 200  # htmx swaps only 2xx responses
        assert "needs a revised due period" in page
        assert "Slipping" in page
        assert 'data-panel-form="' in page and "hx-swap-oob" not in page
        assert snapshot(milestone) == before

    def test_a_conflict_comes_back_in_the_panel_keeping_the_text(self, leader, goal, milestone):
        deputy = MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="dana").user
        opened = post_data(milestone, status=Status.COMPLETED, comment="My careful words")
        record_status_update(
            milestone=milestone,
            user=deputy,
            status=Status.AT_RISK,
            comment="Deputy got there first",
            period=FiscalPeriod(2019, 3),
            expected_version=milestone.version,
        )
        before = snapshot(milestone)

        response = client_for(leader).post(update_url(milestone), opened, **self.headers)

        page = response.content.decode()
        assert response.status_code == 200  # stays in the panel
        assert "Someone else updated this milestone" in page
        assert "My careful words" in page
        assert f'name="m{milestone.pk}-version" value="{before[2]}"' in page
        assert "hx-swap-oob" not in page
        assert snapshot(milestone) == before


class TestNoLostEdits:
    def test_a_stale_form_is_refused_showing_the_other_change_and_keeping_the_text(
        self, leader, goal, milestone
    ):
        deputy = MembershipFactory(goal=goal, role=Role.DEPUTY, user__username="dana").user
        opened = post_data(milestone, status=Status.COMPLETED, comment="My careful words")
        record_status_update(
            milestone=milestone,
            user=deputy,
            status=Status.AT_RISK,
            comment="Deputy got there first",
            period=FiscalPeriod(2019, 3),
            expected_version=milestone.version,
        )
        before = snapshot(milestone)

        response = client_for(leader).post(update_url(milestone), opened)

        page = response.content.decode()
        assert response.status_code == 409
        assert "Someone else updated this milestone" in page
        assert "dana at" in page
        assert "Status: On track → At risk" in page
        assert "Comment: As published → Deputy got there first" in page
        assert "My careful words" in page  # kept to re-apply
        assert f'name="m{milestone.pk}-version" value="{before[2]}"' in page
        assert snapshot(milestone) == before

    def test_saving_again_after_a_conflict_applies_the_typed_update(self, leader, milestone):
        stale = post_data(milestone, comment="Second try")
        milestone.comment = "Edited meanwhile"
        milestone.save()

        first = client_for(leader).post(update_url(milestone), stale)
        assert first.status_code == 409
        fresh = post_data(milestone, comment="Second try", version=milestone.version)
        second = client_for(leader).post(update_url(milestone), fresh)

        assert second.status_code == 302
        milestone.refresh_from_db()
        assert milestone.comment == "Second try"


class TestWhoMayUpdate:
    @pytest.mark.parametrize("role", [Role.LEADER, Role.DEPUTY, Role.CONTRIBUTOR])
    def test_editors_of_the_goal_may_update(self, goal, milestone, role):
        user = MembershipFactory(goal=goal, role=role).user

        response = client_for(user).post(update_url(milestone), post_data(milestone))

        assert response.status_code == 302

    def test_a_reviewer_may_not(self, reviewer, milestone):
        before = snapshot(milestone)

        response = client_for(reviewer).post(update_url(milestone), post_data(milestone))

        assert response.status_code == 403
        assert snapshot(milestone) == before

    def test_the_leader_of_another_goal_may_not(self, milestone):
        other_leader = MembershipFactory(role=Role.LEADER).user
        before = snapshot(milestone)

        response = client_for(other_leader).post(update_url(milestone), post_data(milestone))

        assert response.status_code == 403  # internal goal: visible, not changeable
        assert snapshot(milestone) == before

    def test_an_outsider_gets_404_on_a_restricted_goal(self, outsider):
        milestone = MilestoneFactory(goal=GoalFactory(sensitivity=Sensitivity.RESTRICTED))
        before = snapshot(milestone)

        response = client_for(outsider).post(update_url(milestone), post_data(milestone))

        assert response.status_code == 404
        assert snapshot(milestone) == before

    def test_anonymous_is_sent_to_log_in(self, milestone):
        response = Client().post(update_url(milestone), post_data(milestone))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_a_milestone_of_another_goal_under_this_goals_slug_is_404(self, leader, goal):
        foreign = MilestoneFactory()
        before = snapshot(foreign)
        url = reverse("milestone_update", kwargs={"slug": goal.slug, "pk": foreign.pk})

        response = client_for(leader).post(url, post_data(foreign))

        assert response.status_code == 404
        assert snapshot(foreign) == before

    def test_a_post_without_csrf_token_is_refused(self, leader, milestone):
        client = Client(enforce_csrf_checks=True)
        client.force_login(leader)
        before = snapshot(milestone)

        response = client.post(update_url(milestone), post_data(milestone))

        assert response.status_code == 403
        assert snapshot(milestone) == before

    def test_the_dashboard_offers_update_buttons_to_editors_only(self, leader, reviewer, goal):
        milestone = MilestoneFactory(goal=goal)

        leader_page = client_for(leader).get(goal.get_absolute_url()).content.decode()
        reviewer_page = client_for(reviewer).get(goal.get_absolute_url()).content.decode()

        assert f'id="update-button-{milestone.pk}"' in leader_page
        assert f'id="update-button-{milestone.pk}"' not in reviewer_page


def test_a_comment_with_html_is_shown_as_text(leader, milestone):
    data = post_data(milestone, comment='<script>alert("x")</script><b>bold</b>')

    client_for(leader).post(update_url(milestone), data)
    page = client_for(leader).get(milestone.get_absolute_url()).content.decode()

    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert" in page
