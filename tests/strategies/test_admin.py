"""The Django admin: every model reachable, bounded queries, read-only history and
status updates, milestone forms that keep a milestone inside its goal."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from audit.reasons import describe
from milestones import tasks as email_tasks
from milestones.models import Milestone, ProgressSummary, Status, StatusUpdate
from strategies.models import (
    Agency,
    AgencyRole,
    Goal,
    Indicator,
    IndicatorValue,
    Membership,
    Strategy,
)
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    AgencyRoleFactory,
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
    UserFactory,
)
from tests.helpers import form_data

PROJECT_MODELS = [
    Agency,
    AgencyRole,
    Goal,
    Strategy,
    Membership,
    Indicator,
    IndicatorValue,
    Milestone,
    StatusUpdate,
    ProgressSummary,
]


def queued_task(i):
    """A task the database backend stored (what `manage.py db_worker` would run)."""
    database = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with override_settings(TASKS=database):
        result = email_tasks.send_email.enqueue(
            subject=f"Reminder {i}", body="Due this quarter.", to=["lee@example.gov"]
        )
    return DBTaskResult.objects.get(id=result.id)


# Read-only in the admin: status updates are written through the app; task results by
# the worker.
READ_ONLY = {StatusUpdate, DBTaskResult}


def make_rows(model, count):
    """``count`` fresh rows of ``model``, each with its own related rows."""
    makers = {
        Agency: lambda i: AgencyFactory(name=f"Agency {i}", abbreviation=f"A{i}"),
        AgencyRole: lambda i: AgencyRoleFactory(),
        Goal: lambda i: GoalFactory(),
        Strategy: lambda i: StrategyFactory(),
        Membership: lambda i: MembershipFactory(),
        Indicator: lambda i: IndicatorFactory(),
        IndicatorValue: lambda i: IndicatorValueFactory(),
        Milestone: lambda i: MilestoneFactory(depends_on=MilestoneFactory()),
        StatusUpdate: lambda i: StatusUpdateFactory(),
        ProgressSummary: lambda i: ProgressSummaryFactory(),
        Group: lambda i: Group.objects.create(name=f"Group {i}"),
        UserFactory._meta.model: lambda i: UserFactory(),
        DBTaskResult: queued_task,
    }
    start = model._default_manager.count()
    return [makers[model](start + i) for i in range(count)]


def url(obj_or_model, view, *args):
    opts = obj_or_model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def registered_models():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def test_every_project_model_is_registered_with_history():
    for model in PROJECT_MODELS:
        assert model in admin.site._registry, model
        assert hasattr(admin.site._registry[model], "history_view"), model


def test_no_historical_model_is_registered_for_editing():
    registered = [model._meta.label for model in admin.site._registry]
    assert not [label for label in registered if ".Historical" in label]


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_render_for_a_superuser(admin_client, model):
    (obj,) = make_rows(model, 1)

    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    response = admin_client.get(url(model, "add"))
    if model in READ_ONLY:
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_runs_the_same_queries_for_3_and_30_rows(admin_client, model):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200
        return len(queries)

    make_rows(model, 3)
    admin_client.get(url(model, "changelist"))  # warm the session and content types
    small = count_queries()
    make_rows(model, 27)
    assert count_queries() == small


@pytest.mark.parametrize("factory", [GoalFactory, MilestoneFactory], ids=["goal", "milestone"])
def test_history_page_renders_every_version_with_its_user_and_reason(admin_client, factory):
    obj = factory()
    obj.title = "Renamed once"
    obj._change_reason = "Fixing a typo"
    obj.save()

    response = admin_client.get(url(obj, "history", obj.pk))

    assert response.status_code == 200
    versions = list(response.context["page_obj"])
    assert [(v.history_type, v.history_change_reason) for v in versions] == [
        ("~", "Fixing a typo"),
        ("+", None),
    ]
    # Plain code (the factory) falls back to the system user.
    assert {v.history_user.username for v in versions} == {"system"}
    body = response.content.decode()
    assert "Fixing a typo" in body
    assert "Renamed once" in body


def test_history_page_shows_choice_labels_and_periods_in_words(admin_client):
    milestone = MilestoneFactory(status=Status.AT_RISK)
    milestone.status, milestone.revised_due = Status.COMPLETED, FiscalPeriod(2019, 4)
    milestone.save()

    response = admin_client.get(url(milestone, "history", milestone.pk))

    body = response.content.decode()
    changes = " ".join(
        " ".join(item["old"] + " → " + item["new"] for item in version.history_delta_changes)
        for version in response.context["page_obj"]
        if hasattr(version, "history_delta_changes")
    )
    assert "At risk → Completed" in changes
    assert "Q4 FY19" in changes
    assert "at_risk" not in body
    assert "completed" not in changes


def test_the_milestone_page_lists_its_status_updates_newest_first(admin_client):
    milestone = MilestoneFactory()
    for status in (Status.ON_TRACK, Status.AT_RISK, Status.DELAYED):
        StatusUpdateFactory(milestone=milestone, status=status)

    response = admin_client.get(url(milestone, "change", milestone.pk))

    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.opts.model is StatusUpdate
    )
    assert [form.original.status for form in formset] == [
        Status.DELAYED,
        Status.AT_RISK,
        Status.ON_TRACK,
    ]


def test_the_milestone_form_keeps_its_long_selects_within_the_page(admin_client):
    milestone = MilestoneFactory()

    response = admin_client.get(url(milestone, "change", milestone.pk))

    # The admin stylesheet that caps a select's width at its column is linked.
    assert 'href="/static/css/admin-fit.css"' in response.content.decode()


@pytest.mark.parametrize(
    # A status update is never saved twice, so it has no second version to count.
    "model",
    [model for model in PROJECT_MODELS if model is not StatusUpdate],
    ids=lambda m: m._meta.label,
)
def test_history_page_runs_the_same_queries_for_3_and_12_versions(admin_client, model):
    (obj,) = make_rows(model, 1)
    history_url = url(obj, "history", obj.pk)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(history_url)
        assert response.status_code == 200
        return len(queries)

    for _ in range(2):
        obj.save()
    admin_client.get(history_url)
    small = count_queries()
    for _ in range(9):
        obj.save()
    assert count_queries() == small


def test_a_version_page_can_be_viewed_but_a_post_to_it_changes_nothing(admin_client):
    milestone = MilestoneFactory(title="Original title")
    version = milestone.history.earliest()
    milestone.title = "Current title"
    milestone.save()
    version_url = url(milestone, "simple_history", milestone.pk, version.history_id)

    page = admin_client.get(version_url)
    assert page.status_code == 200
    # Posting the old version's form back is what simple-history treats as a revert.
    response = admin_client.post(version_url, form_data(page))

    assert response.status_code == 405
    milestone.refresh_from_db()
    assert milestone.title == "Current title"
    assert milestone.history.count() == 2


def test_a_view_only_staff_user_cannot_revert_through_a_version_page(db, client):
    milestone = MilestoneFactory(title="Original title")
    version = milestone.history.earliest()
    milestone.title = "Current title"
    milestone.save()
    reviewer = UserFactory(is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="view_milestone"))
    client.force_login(reviewer)
    version_url = url(milestone, "simple_history", milestone.pk, version.history_id)

    page = client.get(version_url)
    response = client.post(version_url, form_data(page))

    assert page.status_code == 200
    assert response.status_code == 405
    milestone.refresh_from_db()
    assert milestone.title == "Current title"


def test_the_milestone_list_shows_periods_as_text(admin_client):
    MilestoneFactory(due=FiscalPeriod(2018, 3), revised_due=FiscalPeriod(2019))

    response = admin_client.get(url(Milestone, "changelist"))

    body = response.content.decode()
    assert '<td class="field-due">Q3 FY18</td>' in body
    assert '<td class="field-revised_due">FY19</td>' in body


def test_the_overdue_filter_lists_only_overdue_milestones(admin_client):
    late = MilestoneFactory(due=FiscalPeriod(2018, 1), status=Status.ON_TRACK)
    done = MilestoneFactory(due=FiscalPeriod(2018, 1), status=Status.COMPLETED)
    ongoing = MilestoneFactory(due=FiscalPeriod.ongoing(), status=Status.ON_TRACK)

    overdue = admin_client.get(url(Milestone, "changelist"), {"overdue": "yes"})
    not_overdue = admin_client.get(url(Milestone, "changelist"), {"overdue": "no"})

    assert list(overdue.context["cl"].result_list) == [late]
    assert set(not_overdue.context["cl"].result_list) == {done, ongoing}


def test_a_goal_version_page_renders_although_its_history_manager_is_called_changes(
    admin_client,
):
    goal = GoalFactory()
    version = goal.changes.get()

    response = admin_client.get(url(goal, "simple_history", goal.pk, version.history_id))

    assert response.status_code == 200
    assert response.context["original"].title == goal.title


def test_a_status_update_cannot_be_changed_or_deleted_through_the_admin(admin_client):
    update = StatusUpdateFactory(comment="As reviewed")

    change = admin_client.post(
        url(update, "change", update.pk),
        {"comment": "Rewritten", "status": Status.DELAYED, "period": "Q4 FY19"},
    )
    delete = admin_client.post(url(update, "delete", update.pk), {"post": "yes"})

    assert change.status_code == 403
    assert delete.status_code == 403
    update.refresh_from_db()
    assert (update.comment, update.status) == ("As reviewed", Status.ON_TRACK)


def test_a_milestone_page_lists_its_status_updates_read_only(admin_client):
    update = StatusUpdateFactory(comment="Reviewed with OFAC")

    response = admin_client.get(url(update.milestone, "change", update.milestone.pk))

    body = response.content.decode()
    assert "Reviewed with OFAC" in body
    assert 'name="status_updates-0-comment"' not in body
    (inline,) = response.context["inline_admin_formsets"]
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission


def test_saving_a_milestone_page_with_status_updates_keeps_them(admin_client):
    update = StatusUpdateFactory(comment="Reviewed")
    milestone = update.milestone
    page = admin_client.get(url(milestone, "change", milestone.pk))

    response = admin_client.post(
        url(milestone, "change", milestone.pk), form_data(page, title="New title")
    )

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.title == "New title"
    assert list(milestone.status_updates.values_list("comment", flat=True)) == ["Reviewed"]


def test_a_milestone_is_edited_with_fiscal_periods_as_text(admin_client):
    milestone = MilestoneFactory(due=FiscalPeriod(2019, 4), revised_due=None)
    page = admin_client.get(url(milestone, "change", milestone.pk))

    assert re.search(r'<input type="text" name="due" value="Q4 FY19"', page.content.decode())
    response = admin_client.post(
        url(milestone, "change", milestone.pk), form_data(page, revised_due="fy 2020")
    )

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.revised_due == FiscalPeriod(2020)


def test_an_invalid_period_in_the_admin_is_a_form_error(admin_client):
    milestone = MilestoneFactory()
    page = admin_client.get(url(milestone, "change", milestone.pk))

    response = admin_client.post(
        url(milestone, "change", milestone.pk), form_data(page, due="Q5 FY19")
    )

    assert response.status_code == 200
    assert "due" in response.context["adminform"].form.errors
    milestone.refresh_from_db()
    assert milestone.due == FiscalPeriod(2019, 4)


def test_a_milestone_change_page_offers_only_its_goals_strategies_and_milestones(admin_client):
    milestone = MilestoneFactory()
    sibling = MilestoneFactory(goal=milestone.goal)
    elsewhere = MilestoneFactory()

    response = admin_client.get(url(milestone, "change", milestone.pk))

    form = response.context["adminform"].form
    assert set(form.fields["strategy"].queryset) == {milestone.strategy, sibling.strategy}
    assert set(form.fields["depends_on"].queryset) == {sibling}
    assert elsewhere.strategy not in form.fields["strategy"].queryset


def test_adding_a_milestone_with_another_goals_strategy_is_a_form_error(admin_client):
    goal = GoalFactory()
    other_strategy = StrategyFactory()

    response = admin_client.post(
        url(Milestone, "add"),
        {
            "goal": goal.pk,
            "strategy": other_strategy.pk,
            "position": 1,
            "title": "Misaligned",
            "due": "Q4 FY19",
            "status": Status.TBD,
            "status_updates-TOTAL_FORMS": 0,
            "status_updates-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "belongs to another goal" in str(errors["strategy"])
    assert not Milestone.objects.filter(title="Misaligned").exists()


def test_a_milestone_saved_by_someone_else_meanwhile_is_not_overwritten(admin_client):
    milestone = MilestoneFactory(status=Status.ON_TRACK)
    page = admin_client.get(url(milestone, "change", milestone.pk))
    # Meanwhile a goal leader records a delay.
    milestone.status = Status.DELAYED
    milestone.save()

    response = admin_client.post(
        url(milestone, "change", milestone.pk), form_data(page, owner="OFAC")
    )

    assert response.status_code == 200
    assert "Someone else changed this milestone" in response.content.decode()
    milestone.refresh_from_db()
    assert (milestone.status, milestone.owner) == (Status.DELAYED, "")


def test_an_admin_edit_bumps_the_milestone_version(admin_client):
    milestone = MilestoneFactory()
    page = admin_client.get(url(milestone, "change", milestone.pk))

    admin_client.post(url(milestone, "change", milestone.pk), form_data(page, owner="FinCEN"))

    milestone.refresh_from_db()
    assert (milestone.owner, milestone.version) == ("FinCEN", 2)
    assert 'name="version"' not in page.content.decode()


def test_goal_page_has_strategies_members_milestones_and_progress_inline(admin_client):
    milestone = MilestoneFactory(title="Assist with sanctions reforms")
    ProgressSummaryFactory(goal=milestone.goal, summary="- Progress slowed")

    response = admin_client.get(url(milestone.goal, "change", milestone.goal.pk))

    prefixes = [inline.formset.prefix for inline in response.context["inline_admin_formsets"]]
    assert prefixes == ["strategies", "memberships", "milestones", "progress_summaries"]
    body = response.content.decode()
    assert "Assist with sanctions reforms" in body
    assert "- Progress slowed" in body


def test_goal_page_runs_the_same_queries_for_3_and_30_milestones(admin_client):
    goal = GoalFactory()
    strategy = StrategyFactory(goal=goal)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url(goal, "change", goal.pk))
        assert response.status_code == 200
        return len(queries)

    MilestoneFactory.create_batch(3, goal=goal, strategy=strategy)
    admin_client.get(url(goal, "change", goal.pk))
    small = count_queries()
    MilestoneFactory.create_batch(27, goal=goal, strategy=strategy)
    assert count_queries() == small


def test_goal_page_milestone_rows_offer_only_the_goals_strategies(admin_client):
    milestone = MilestoneFactory()
    elsewhere = StrategyFactory()

    response = admin_client.get(url(milestone.goal, "change", milestone.goal.pk))

    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "milestones"
    ]
    offered = [value for value, _label in formset.forms[0].fields["strategy"].choices]
    assert offered == ["", milestone.strategy.pk]
    assert elsewhere.pk not in offered


def test_goal_page_refuses_another_goals_strategy_for_a_milestone_row(admin_client):
    milestone = MilestoneFactory()
    elsewhere = StrategyFactory()
    page = admin_client.get(url(milestone.goal, "change", milestone.goal.pk))

    response = admin_client.post(
        url(milestone.goal, "change", milestone.goal.pk),
        form_data(page, **{"milestones-0-strategy": str(elsewhere.pk)}),
    )

    assert response.status_code == 200
    formset = next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "milestones"
    )
    assert "strategy" in formset.forms[0].errors
    milestone.refresh_from_db()
    assert milestone.strategy != elsewhere


def test_editing_a_milestone_row_on_the_goal_page_records_it(admin_client, admin_user):
    milestone = MilestoneFactory(owner="")
    page = admin_client.get(url(milestone.goal, "change", milestone.goal.pk))

    response = admin_client.post(
        url(milestone.goal, "change", milestone.goal.pk),
        form_data(page, **{"milestones-0-owner": "OFAC"}),
    )

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.owner, milestone.version) == ("OFAC", 2)
    latest = milestone.history.latest()
    assert (latest.history_user, describe(latest.history_change_reason)) == (
        admin_user,
        "Edited in the admin",
    )


def test_deleting_through_the_admin_records_the_reason(admin_client, admin_user):
    strategy = StrategyFactory()

    response = admin_client.post(url(strategy, "delete", strategy.pk), {"post": "yes"})

    assert response.status_code == 302
    deleted = Strategy.history.filter(id=strategy.pk).latest()
    assert deleted.history_type == "-"
    assert (deleted.history_user, describe(deleted.history_change_reason)) == (
        admin_user,
        "Deleted in the admin",
    )


def test_a_strategy_with_milestones_cannot_be_deleted_through_the_admin(admin_client):
    milestone = MilestoneFactory()

    response = admin_client.post(
        url(milestone.strategy, "delete", milestone.strategy.pk), {"post": "yes"}
    )

    assert response.status_code == 200  # the "cannot delete" page
    assert Strategy.objects.filter(pk=milestone.strategy.pk).exists()


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.label)
def test_non_staff_users_are_sent_to_the_admin_login(db, client, model):
    client.force_login(UserFactory(is_staff=False))

    response = client.get(url(model, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# -- the goal's cycle: continued by, closed, overdue by its reporting quarter -----------------


def test_the_overdue_filter_follows_each_goals_reporting_quarter(admin_client):
    """A goal reporting on Q2 FY19 (Q1 published) and one held on Q4 FY19: a milestone
    due Q2 FY19 is overdue only in the second."""
    behind = GoalFactory(reporting_quarter_set=None)
    ProgressSummaryFactory(
        goal=behind, period=FiscalPeriod(2019, 1), risk="low", published_at="2019-01-20T10:00Z"
    )
    ahead = GoalFactory(reporting_quarter_set=FiscalPeriod(2019, 4))
    behind_q1 = MilestoneFactory(goal=behind, due=FiscalPeriod(2018, 4), status=Status.ON_TRACK)
    behind_q2 = MilestoneFactory(goal=behind, due=FiscalPeriod(2019, 2), status=Status.ON_TRACK)
    ahead_q2 = MilestoneFactory(goal=ahead, due=FiscalPeriod(2019, 2), status=Status.ON_TRACK)

    overdue = admin_client.get(url(Milestone, "changelist"), {"overdue": "yes"})
    not_overdue = admin_client.get(url(Milestone, "changelist"), {"overdue": "no"})
    listing = admin_client.get(url(Milestone, "changelist")).content.decode()

    assert set(overdue.context["cl"].result_list) == {behind_q1, ahead_q2}
    assert set(not_overdue.context["cl"].result_list) == {behind_q2}
    assert listing.count('<td class="field-overdue"><img src="/static/admin/img/icon-yes') == 2


def test_the_goal_admin_offers_its_agencys_other_goals_as_continuation(admin_client):
    agency = AgencyFactory(name="Treasury")
    fy19 = GoalFactory(agency=agency, title="FY19 goal")
    fy21 = GoalFactory(
        agency=agency, title="FY21 goal", first_fiscal_year=2020, last_fiscal_year=2021
    )
    GoalFactory(agency=AgencyFactory(name="Other agency"), title="Elsewhere")

    page = admin_client.get(url(fy19, "change", fy19.pk))

    offered = set(page.context["adminform"].form.fields["continued_by"].queryset)
    assert offered == {fy21}
    response = admin_client.post(
        url(fy19, "change", fy19.pk), form_data(page, continued_by=str(fy21.pk))
    )
    assert response.status_code == 302
    fy19.refresh_from_db()
    assert fy19.continued_by == fy21


def test_the_goal_admin_refuses_a_continuation_loop(admin_client):
    agency = AgencyFactory(name="Treasury")
    fy19 = GoalFactory(agency=agency, title="FY19 goal")
    fy21 = GoalFactory(
        agency=agency, title="FY21 goal", first_fiscal_year=2020, last_fiscal_year=2021
    )
    fy19.continued_by = fy21
    fy19.save()
    page = admin_client.get(url(fy21, "change", fy21.pk))

    response = admin_client.post(
        url(fy21, "change", fy21.pk), form_data(page, continued_by=str(fy19.pk))
    )

    assert response.status_code == 200
    assert "leads back to this goal" in response.content.decode()
    fy21.refresh_from_db()
    assert fy21.continued_by is None


def test_closing_and_the_reporting_quarter_are_shown_not_edited_in_the_admin(admin_client):
    goal = GoalFactory()

    form = admin_client.get(url(goal, "change", goal.pk)).context["adminform"].form

    assert "continued_by" in form.fields
    assert "closed_at" not in form.fields and "reporting_quarter_set" not in form.fields


def test_a_closed_goal_is_read_only_in_the_admin_except_its_continuation(admin_client):
    agency = AgencyFactory(name="Treasury")
    goal = GoalFactory(agency=agency, title="FY19 goal", closed_at="2019-11-01T12:00Z")
    successor = GoalFactory(
        agency=agency, title="FY21 goal", first_fiscal_year=2020, last_fiscal_year=2021
    )
    milestone = MilestoneFactory(goal=goal, title="Kept as closed")

    milestone_page = admin_client.get(url(milestone, "change", milestone.pk))
    refused = admin_client.post(
        url(milestone, "change", milestone.pk), form_data(milestone_page, title="Changed")
    )
    goal_page = admin_client.get(url(goal, "change", goal.pk))
    form = goal_page.context["adminform"].form
    named = admin_client.post(
        url(goal, "change", goal.pk), form_data(goal_page, continued_by=str(successor.pk))
    )

    assert refused.status_code == 403
    milestone.refresh_from_db()
    assert milestone.title == "Kept as closed"
    assert list(form.fields) == ["continued_by"]
    assert goal_page.context["inline_admin_formsets"] == []
    assert named.status_code == 302
    goal.refresh_from_db()
    assert goal.continued_by == successor and goal.title == "FY19 goal"


def test_nothing_is_added_to_a_closed_goal_through_the_admin(admin_client):
    open_goal = GoalFactory(title="Open goal")
    GoalFactory(title="Closed goal", closed_at="2019-11-01T12:00Z")

    for model in (Milestone, Strategy, ProgressSummary):
        form = admin_client.get(url(model, "add")).context["adminform"].form
        assert list(form.fields["goal"].queryset) == [open_goal], model


def test_an_update_in_review_is_read_only_in_the_admin(admin_client):
    # Its quarter is locked while the update is in review: the admin, like the app,
    # shows it and changes nothing.
    from milestones.models import ReviewState

    summary = ProgressSummaryFactory(
        period=FiscalPeriod(2019, 4), risk="low", review_state=ReviewState.SUBMITTED
    )
    page = admin_client.get(url(summary, "change", summary.pk))
    assert page.status_code == 200
    assert b'name="summary"' not in page.content  # shown, not a field

    response = admin_client.post(
        url(summary, "change", summary.pk), {"summary": "Rewritten in the admin."}
    )

    assert response.status_code == 403
    summary.refresh_from_db()
    assert summary.summary == "- Progress was made."
