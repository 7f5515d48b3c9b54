"""Administrators edit a goal's strategies, the goal itself and which strategy each key
milestone is aligned to, in the app. Every other role is refused, and bad input changes
nothing and says what is wrong, next to the field."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.reasons import describe
from milestones.models import Milestone
from milestones.services import move_milestone
from sdif_tracker.views import plan as plan_views
from strategies.models import PROGRAM_FIELDS, SECTION_FIELDS, Goal, Role, Sensitivity, Strategy
from strategies.services import GOAL_EDITABLE_FIELDS, update_goal
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    StrategyFactory,
    UserFactory,
)
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def plan():
    """A restricted goal with strategies 1 (two milestones), 2 (one) and 3 (none), and
    another goal with a strategy and a milestone of its own."""
    goal = GoalFactory(sensitivity=Sensitivity.RESTRICTED, title="Restricted goal")
    s1 = StrategyFactory(goal=goal, number=1, title="First")
    s2 = StrategyFactory(goal=goal, number=2, title="Second")
    s3 = StrategyFactory(goal=goal, number=3, title="Third")
    m1 = MilestoneFactory(goal=goal, strategy=s1, position=1, title="Share data")
    MilestoneFactory(goal=goal, strategy=s1, position=2, title="Meet twice")
    MilestoneFactory(goal=goal, strategy=s2, position=3, title="Report")
    other = GoalFactory(title="Another goal")
    other_strategy = StrategyFactory(goal=other, number=1)
    other_milestone = MilestoneFactory(goal=other, strategy=other_strategy)
    return SimpleNamespace(
        goal=goal,
        s1=s1,
        s2=s2,
        s3=s3,
        m1=m1,
        other=other,
        other_strategy=other_strategy,
        other_milestone=other_milestone,
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def url(name, goal, **kwargs):
    return reverse(name, kwargs={"slug": goal.slug, **kwargs})


def goal_form_data(goal, **changes):
    """The goal form as the browser posts it: every field, textareas with CRLF line ends,
    and the ``version`` the form was opened at."""
    data = {}
    for name in GOAL_EDITABLE_FIELDS:
        value = getattr(goal, name)
        if name == "target_date":
            value = value.isoformat() if value else ""
        elif name == "continued_by":
            value = goal.continued_by_id or ""
        elif name in (*SECTION_FIELDS, *PROGRAM_FIELDS, "statement"):
            value = value.replace("\n", "\r\n")
        data[name] = value
    data["version"] = goal.version
    data.update(changes)
    return data


def move_data(milestone, strategy, version=None):
    prefix = f"move{milestone.pk}"
    return {
        f"{prefix}-strategy": "" if strategy is None else strategy.pk,
        f"{prefix}-version": milestone.version if version is None else version,
    }


def snapshot():
    """Everything these pages could change, history included."""
    goal_fields = ("pk", "slug", "updated_at", *GOAL_EDITABLE_FIELDS)
    return {
        "history": (
            Goal.changes.model.objects.count(),
            Strategy.history.model.objects.count(),
            Milestone.history.model.objects.count(),
        ),
        "goals": list(Goal.objects.order_by("pk").values_list(*goal_fields)),
        "strategies": list(
            Strategy.objects.order_by("pk").values_list(
                "pk", "goal_id", "number", "title", "description"
            )
        ),
        "milestones": list(
            Milestone.objects.order_by("pk").values_list("pk", "strategy_id", "version")
        ),
    }


def field_error(page, name) -> str:
    """The error shown for the control ``name``, checking that it is tied to the control:
    marked invalid, and described by the error element (what a screen reader announces)."""
    controls = [
        node
        for node in page.iter()
        if node.tag in ("input", "select", "textarea") and node.attrs.get("name") == name
    ]
    assert len(controls) == 1, f"{len(controls)} controls named {name}"
    control = controls[0]
    assert control.attrs.get("aria-invalid") == "true", control
    assert "is-invalid" in control.attrs["class"].split()
    described_by = control.attrs.get("aria-describedby", "").split()
    error_ids = [element_id for element_id in described_by if element_id.endswith("_error")]
    assert error_ids == [f"{control.attrs['id']}_error"], described_by
    return page.find(id=error_ids[0]).text


def messages_text(page) -> str:
    return page.find("div", id="messages").text


# -- the strategy list -----------------------------------------------------------------------


def test_the_strategy_list_shows_each_strategy_with_its_milestones(admin_client, plan):
    response = admin_client.get(url("strategy_list", plan.goal))
    assert response.status_code == 200
    page = parse(response.content)
    cards = page.find_all("section", class_="strategy-card")
    assert [card.attrs["data-strategy"] for card in cards] == ["1", "2", "3"]
    counts = [card.find(data_milestone_count=True).text for card in cards]
    assert counts == ["2 key milestones", "1 key milestone", "0 key milestones"]
    first = cards[0]
    assert [a.text for a in first.find_all("a", class_="milestone-title")] == [
        "Share data",
        "Meet twice",
    ]
    edit = first.find("a", href=url("strategy_edit", plan.goal, pk=plan.s1.pk))
    assert edit.text == "Edit strategy 1"
    # Deleting asks first: a link to the confirmation page, no form that deletes at once.
    delete = first.find("a", data_delete_link="1")
    assert delete.attrs["href"] == url("strategy_delete", plan.goal, pk=plan.s1.pk)
    assert delete.text == "Delete… strategy 1"
    assert not page.find_all("form", action=url("strategy_delete", plan.goal, pk=plan.s1.pk))
    assert "No key milestones are aligned to this strategy." in cards[2].text


def test_each_milestone_has_a_move_form_with_the_goals_strategies(admin_client, plan):
    page = parse(admin_client.get(url("strategy_list", plan.goal)).content)
    form = page.find("form", action=url("milestone_move", plan.goal, pk=plan.m1.pk))
    select = form.find("select", name=f"move{plan.m1.pk}-strategy")
    options = select.find_all("option")
    assert [o.text for o in options] == [
        "No strategy",
        "Strategy 1: First",
        "Strategy 2: Second",
        "Strategy 3: Third",
    ]
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == [str(plan.s1.pk)]
    labels = [lab for lab in form.find_all("label") if lab.attrs.get("for") == select.attrs["id"]]
    assert [lab.text for lab in labels] == ["Move “Share data” to"]
    version = form.find("input", name=f"move{plan.m1.pk}-version")
    assert (version.attrs["type"], version.attrs["value"]) == ("hidden", str(plan.m1.version))


def test_the_strategy_list_lists_unaligned_milestones_last(admin_client, plan):
    MilestoneFactory(goal=plan.goal, strategy=None, position=9, title="Loose end")
    page = parse(admin_client.get(url("strategy_list", plan.goal)).content)
    last = page.find_all("section", class_="strategy-card")[-1]
    assert last.attrs["data-strategy"] == "none"
    assert last.find("h3").text == "Not aligned to a strategy"
    assert [a.text for a in last.find_all("a", class_="milestone-title")] == ["Loose end"]


def test_the_strategy_list_runs_the_same_queries_for_few_and_many_rows(admin_client, plan):
    def count():
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url("strategy_list", plan.goal))
        assert response.status_code == 200
        return len(queries)

    few = count()
    for number in range(4, 14):
        strategy = StrategyFactory(goal=plan.goal, number=number)
        for position in range(5):
            MilestoneFactory(goal=plan.goal, strategy=strategy, position=number * 10 + position)
    assert count() == few


def test_the_goal_header_links_admins_to_plan_editing(admin_client, plan):
    for page_url in (plan.goal.get_absolute_url(), url("strategy_list", plan.goal)):
        page = parse(admin_client.get(page_url).content)
        links = {
            a.attrs["data-plan-link"]: a.attrs["href"] for a in page.find_all(data_plan_link=True)
        }
        assert links == {
            "goal_edit": url("goal_edit", plan.goal),
            "strategy_list": url("strategy_list", plan.goal),
            "goal_members": url("goal_members", plan.goal),
            "goal_webhooks": url("goal_webhooks", plan.goal),
            "agency_detail": reverse("agency_detail", kwargs={"pk": plan.goal.agency_id}),
        }, page_url


def test_the_goal_header_has_no_plan_editing_links_for_a_leader(client, plan):
    leader = MembershipFactory(goal=plan.goal, role=Role.LEADER).user
    client.force_login(leader)
    page = parse(client.get(plan.goal.get_absolute_url()).content)
    assert page.find_all(data_plan_link=True) == []


# -- adding, renumbering, retitling, deleting -------------------------------------------------


def test_an_admin_adds_a_strategy_recorded_with_who_and_why(admin_client, plan):
    response = admin_client.post(
        url("strategy_add", plan.goal),
        {"number": "4", "title": "  Train examiners  ", "description": "Two *courses*."},
        follow=True,
    )
    assert response.redirect_chain == [(url("strategy_list", plan.goal), 302)]
    assert "Added strategy 4." in messages_text(parse(response.content))
    strategy = plan.goal.strategies.get(number=4)
    assert (strategy.title, strategy.description) == ("Train examiners", "Two *courses*.")
    record = strategy.history.get()
    assert (record.history_username, describe(record.history_change_reason)) == (
        "root",
        "Added strategy 4",
    )


def test_the_add_form_proposes_the_next_number(admin_client, plan):
    page = parse(admin_client.get(url("strategy_add", plan.goal)).content)
    assert page.find("input", name="number").attrs["value"] == "4"
    list_page = parse(admin_client.get(url("strategy_list", plan.goal)).content)
    assert list_page.find("input", name="number").attrs["value"] == "4"


def test_an_admin_renumbers_and_retitles_a_strategy(admin_client, plan):
    edit_url = url("strategy_edit", plan.goal, pk=plan.s3.pk)
    form = parse(admin_client.get(edit_url).content).find("form", class_="strategy-form")
    assert form.find("input", name="number").attrs["value"] == "3"
    assert form.find("input", name="title").attrs["value"] == "Third"

    response = admin_client.post(
        edit_url,
        {"number": "7", "title": "Third, renamed", "version": plan.s3.version},
        follow=True,
    )

    assert response.redirect_chain == [(url("strategy_list", plan.goal), 302)]
    assert "Saved strategy 7." in messages_text(parse(response.content))
    plan.s3.refresh_from_db()
    assert (plan.s3.number, plan.s3.title) == (7, "Third, renamed")
    record = plan.s3.history.latest()
    assert (record.history_username, describe(record.history_change_reason)) == (
        "root",
        "Strategy 7 renumbered 3 → 7 and retitled",
    )


def delete_confirmation(client, strategy):
    """The strategy's Delete page, and the fields its button posts."""
    response = client.get(url("strategy_delete", strategy.goal, pk=strategy.pk))
    page = parse(response.content)
    forms = page.find_all("form", data_delete_confirm=True)
    fields = (
        {i.attrs["name"]: i.attrs.get("value", "") for i in forms[0].find_all("input")}
        if forms
        else None
    )
    return response, page, fields


def test_the_delete_page_shows_what_goes_and_changes_nothing(admin_client, plan):
    before = snapshot()
    response, page, fields = delete_confirmation(admin_client, plan.s3)

    assert response.status_code == 200
    assert page.find("h1").text == "Delete strategy 3: Third?"
    removed = page.find(data_removed_strategy="3")
    assert "Strategy 3: Third" in removed.text
    assert removed.find(data_aligned_count=True).text == "None: no key milestone is affected."
    form = page.find("form", data_delete_confirm=True)
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == url("strategy_delete", plan.goal, pk=plan.s3.pk)
    assert fields["version"] == str(plan.s3.version) and fields["csrfmiddlewaretoken"]
    cancel = form.find("a")
    assert cancel.text == "Cancel"
    assert cancel.attrs["href"] == f"{url('strategy_list', plan.goal)}#strategy-{plan.s3.pk}"
    assert snapshot() == before


def test_an_admin_deletes_a_strategy_no_milestone_is_aligned_to(admin_client, plan):
    _, _, fields = delete_confirmation(admin_client, plan.s3)
    response = admin_client.post(
        url("strategy_delete", plan.goal, pk=plan.s3.pk), fields, follow=True
    )
    assert response.redirect_chain == [(url("strategy_list", plan.goal), 302)]
    assert "Deleted strategy 3." in messages_text(parse(response.content))
    assert not Strategy.objects.filter(pk=plan.s3.pk).exists()
    record = Strategy.history.filter(id=plan.s3.pk, history_type="-").get()
    assert (record.history_username, describe(record.history_change_reason)) == (
        "root",
        "Deleted strategy 3",
    )


def test_a_strategy_with_milestones_is_kept_and_its_delete_page_says_why(admin_client, plan):
    before = snapshot()
    response, page, fields = delete_confirmation(admin_client, plan.s1)

    assert response.status_code == 200 and fields is None
    why = "Strategy 1 has 2 key milestones aligned to it; move them to another strategy first."
    assert why in page.find(data_delete_problem=True).text
    aligned = page.find(data_aligned_count="2")
    assert [a.text for a in aligned.find_all("a")] == ["Share data", "Meet twice"]
    # A POST made anyway (at the current version) is refused with the same reason.
    response = admin_client.post(
        url("strategy_delete", plan.goal, pk=plan.s1.pk), {"version": plan.s1.version}
    )
    assert response.status_code == 400
    alert = parse(response.content).find("div", id="messages").find("div", class_="alert-danger")
    assert alert.text == why
    assert snapshot() == before


def test_a_delete_post_that_did_not_come_from_its_page_deletes_nothing(admin_client, plan):
    before = snapshot()
    response = admin_client.post(url("strategy_delete", plan.goal, pk=plan.s3.pk), {})

    assert response.status_code == 400
    assert "open the strategy's Delete page and confirm there" in messages_text(
        parse(response.content)
    )
    assert parse(response.content).find("form", data_delete_confirm=True)
    assert snapshot() == before


def test_a_strategy_changed_after_its_delete_page_opened_is_kept(admin_client, plan):
    _, _, fields = delete_confirmation(admin_client, plan.s3)
    admin_client.post(
        url("strategy_edit", plan.goal, pk=plan.s3.pk),
        {"number": "3", "title": "Third, kept after all", "version": plan.s3.version},
    )
    before = snapshot()

    response = admin_client.post(url("strategy_delete", plan.goal, pk=plan.s3.pk), fields)

    assert response.status_code == 409
    page = parse(response.content)
    assert "strategy 3 was changed while you were reviewing it" in messages_text(page)
    assert page.find("h1").text == "Delete strategy 3: Third, kept after all?"
    assert snapshot() == before
    assert Strategy.objects.filter(pk=plan.s3.pk).exists()


# -- moving a milestone --------------------------------------------------------------------


def test_an_admin_moves_a_milestone_to_another_strategy(admin_client, plan):
    version = plan.m1.version
    response = admin_client.post(
        url("milestone_move", plan.goal, pk=plan.m1.pk), move_data(plan.m1, plan.s3), follow=True
    )
    assert response.redirect_chain == [(url("strategy_list", plan.goal), 302)]
    page = parse(response.content)
    assert "Moved “Share data” to strategy 3." in messages_text(page)
    third = page.find("section", data_strategy="3")
    assert [a.text for a in third.find_all("a", class_="milestone-title")] == ["Share data"]
    plan.m1.refresh_from_db()
    assert (plan.m1.strategy_id, plan.m1.version) == (plan.s3.pk, version + 1)
    record = plan.m1.history.latest()
    assert (record.history_username, describe(record.history_change_reason)) == (
        "root",
        "Moved to strategy 3",
    )


def test_an_admin_unaligns_a_milestone(admin_client, plan):
    response = admin_client.post(
        url("milestone_move", plan.goal, pk=plan.m1.pk), move_data(plan.m1, None), follow=True
    )
    assert "“Share data” is no longer aligned to a strategy." in messages_text(
        parse(response.content)
    )
    plan.m1.refresh_from_db()
    assert plan.m1.strategy is None
    assert describe(plan.m1.history.latest().history_change_reason) == "Moved out of strategy 1"


def test_moving_a_milestone_where_it_already_is_changes_nothing(admin_client, plan):
    before = snapshot()
    response = admin_client.post(
        url("milestone_move", plan.goal, pk=plan.m1.pk), move_data(plan.m1, plan.s1), follow=True
    )
    assert "“Share data” is already there; nothing changed." in messages_text(
        parse(response.content)
    )
    assert snapshot() == before


def test_an_admin_adds_a_strategy_and_moves_a_milestone_to_it(admin_client, plan):
    """The issue's browser journey, through the forms the pages render."""
    admin_client.post(url("strategy_add", plan.goal), {"number": "4", "title": "New work"})
    page = parse(admin_client.get(url("strategy_list", plan.goal)).content)
    form = page.find("form", action=url("milestone_move", plan.goal, pk=plan.m1.pk))
    select = form.find("select")
    new = next(o for o in select.find_all("option") if o.text == "Strategy 4: New work")
    version = form.find("input", type="hidden", name=f"move{plan.m1.pk}-version")

    admin_client.post(
        form.attrs["action"],
        {select.attrs["name"]: new.attrs["value"], version.attrs["name"]: version.attrs["value"]},
    )

    plan.m1.refresh_from_db()
    assert plan.m1.strategy.number == 4
    reasons = [
        describe(plan.goal.strategies.get(number=4).history.get().history_change_reason),
        describe(plan.m1.history.latest().history_change_reason),
    ]
    assert reasons == ["Added strategy 4", "Moved to strategy 4"]


# -- editing the goal ----------------------------------------------------------------------


def test_an_admin_edits_the_goal_recorded_with_who_and_why(admin_client, plan):
    goal = plan.goal
    data = goal_form_data(
        goal,
        title="A sharper title",
        overview="Line one\r\n\r\n- a point\r\n",
        organizations="\r\n  Treasury  \r\n\r\nJustice\r\n",
        target_date="2019-09-30",
    )
    response = admin_client.post(url("goal_edit", goal), data, follow=True)

    assert response.redirect_chain == [(goal.get_absolute_url(), 302)]
    assert "Saved the goal." in messages_text(parse(response.content))
    goal.refresh_from_db()
    assert goal.title == "A sharper title"
    assert goal.overview == "Line one\n\n- a point"
    assert goal.organizations == "Treasury\nJustice"
    assert goal.target_date.isoformat() == "2019-09-30"
    record = goal.changes.latest()
    assert (record.history_username, describe(record.history_change_reason)) == (
        "root",
        "Edited goal: title, target date, overview, contributing organizations",
    )


def test_the_goal_form_shows_every_editable_field_and_when_it_was_opened(admin_client, plan):
    page = parse(admin_client.get(url("goal_edit", plan.goal)).content)
    form = page.find("form", class_="goal-form")
    names = {
        node.attrs["name"]
        for node in form.iter()
        if node.tag in ("input", "select", "textarea") and "name" in node.attrs
    }
    assert names == {*GOAL_EDITABLE_FIELDS, "version", "csrfmiddlewaretoken"}
    opened = form.find("input", name="version")
    assert opened.attrs["type"] == "hidden"
    assert opened.attrs["value"] == str(plan.goal.version)
    legends = [node.text for node in form.find_all("legend")]
    assert legends == [
        "Goal",
        "Goal leaders",
        "Narrative (Markdown)",
        "Contributing programs (one per line)",
        "Next cycle",
    ]


def test_saving_the_real_plans_goal_unchanged_records_nothing(admin_client, sdif_goal):
    before = snapshot()
    response = admin_client.post(
        url("goal_edit", sdif_goal), goal_form_data(sdif_goal), follow=True
    )
    assert "Nothing was changed." in messages_text(parse(response.content))
    assert snapshot() == before


def test_the_goal_form_does_not_change_the_slug(admin_client, plan):
    slug = plan.goal.slug
    data = goal_form_data(plan.goal, slug="hijacked", title="Retitled")
    admin_client.post(url("goal_edit", plan.goal), data)
    plan.goal.refresh_from_db()
    assert (plan.goal.slug, plan.goal.title) == (slug, "Retitled")
    assert not Goal.objects.filter(slug="hijacked").exists()


def test_update_goal_refuses_fields_it_does_not_edit(plan, admin_user):
    with pytest.raises(TypeError, match="slug"):
        update_goal(goal=plan.goal, user=admin_user, slug="elsewhere")


# -- who may do it -----------------------------------------------------------------------


def plan_requests(plan, admin_user=None):
    """Every plan-editing request as (name, method, url, data), with data an admin's
    request would act on."""
    goal = plan.goal
    return [
        ("strategy_list", "get", url("strategy_list", goal), None),
        ("strategy_add", "get", url("strategy_add", goal), None),
        ("strategy_add", "post", url("strategy_add", goal), {"number": "9", "title": "Nine"}),
        ("strategy_edit", "get", url("strategy_edit", goal, pk=plan.s1.pk), None),
        (
            "strategy_edit",
            "post",
            url("strategy_edit", goal, pk=plan.s1.pk),
            {"number": "8", "title": "Eight", "version": plan.s1.version},
        ),
        ("strategy_delete", "get", url("strategy_delete", goal, pk=plan.s3.pk), None),
        (
            "strategy_delete",
            "post",
            url("strategy_delete", goal, pk=plan.s3.pk),
            {"version": plan.s3.version},
        ),
        ("goal_edit", "get", url("goal_edit", goal), None),
        ("goal_edit", "post", url("goal_edit", goal), goal_form_data(goal, title="Changed")),
        (
            "milestone_move",
            "post",
            url("milestone_move", goal, pk=plan.m1.pk),
            move_data(plan.m1, plan.s2),
        ),
    ]


def send(client, method, target, data):
    return client.get(target) if method == "get" else client.post(target, data)


@pytest.mark.parametrize("role", [Role.LEADER, Role.DEPUTY, Role.CONTRIBUTOR, Role.REVIEWER])
def test_members_of_the_goal_are_forbidden_and_change_nothing(client, plan, role):
    client.force_login(MembershipFactory(goal=plan.goal, role=role).user)
    before = snapshot()
    for name, method, target, data in plan_requests(plan):
        assert send(client, method, target, data).status_code == 403, (name, method)
    assert snapshot() == before


def test_a_user_who_cannot_see_the_goal_gets_not_found(client, plan):
    other_leader = MembershipFactory(goal=plan.other, role=Role.LEADER).user
    for user in (UserFactory(username="outsider"), other_leader):
        client.force_login(user)
        before = snapshot()
        for name, method, target, data in plan_requests(plan):
            assert send(client, method, target, data).status_code == 404, (user, name, method)
        assert snapshot() == before


def test_a_user_who_can_see_an_internal_goal_may_still_not_edit_it(client, plan):
    plan.goal.sensitivity = Sensitivity.INTERNAL
    plan.goal.save()
    client.force_login(UserFactory(username="outsider"))
    before = snapshot()
    for name, method, target, data in plan_requests(plan):
        assert send(client, method, target, data).status_code == 403, (name, method)
    assert snapshot() == before


def test_anonymous_users_are_sent_to_log_in_and_change_nothing(client, plan):
    before = snapshot()
    for name, method, target, data in plan_requests(plan):
        response = send(client, method, target, data)
        assert response.status_code == 302, (name, method)
        assert response["Location"] == f"{reverse('login')}?next={target}", (name, method)
    assert snapshot() == before


def test_an_admin_can_make_every_request(admin_client, plan):
    for name, method, target, data in plan_requests(plan):
        response = send(admin_client, method, target, data)
        assert response.status_code == (200 if method == "get" else 302), (name, method)
    plan.goal.refresh_from_db()
    assert plan.goal.title == "Changed"


@pytest.mark.parametrize("name", ["milestone_move"])
def test_a_get_to_a_mutating_url_is_not_allowed(admin_client, plan, name):
    target = {
        "milestone_move": url("milestone_move", plan.goal, pk=plan.m1.pk),
    }[name]
    before = snapshot()
    response = admin_client.get(target, move_data(plan.m1, plan.s2))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert snapshot() == before


def test_the_strategy_list_does_not_accept_a_post(admin_client, plan):
    assert admin_client.post(url("strategy_list", plan.goal)).status_code == 405


def test_a_post_without_a_csrf_token_is_refused(plan, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = snapshot()
    for name, method, target, data in plan_requests(plan):
        if method == "post":
            assert client.post(target, data).status_code == 403, name
    assert snapshot() == before


# -- bad input ----------------------------------------------------------------------------


BAD_STRATEGIES = [
    # (posted, field, message)
    ({"number": "2", "title": "Taken"}, "number", "Strategy 2 exists already in this goal."),
    ({"number": "0", "title": "Zero"}, "number", "Strategy numbers run from 1 to 999."),
    ({"number": "1000", "title": "Big"}, "number", "Strategy numbers run from 1 to 999."),
    (
        {"number": "abc", "title": "Letters"},
        "number",
        "Enter the strategy number as a whole number, e.g. 3.",
    ),
    ({"number": "", "title": "None"}, "number", "This field is required."),
    ({"number": "5", "title": "   "}, "title", "Give the strategy a title."),
    (
        {"number": "5", "title": "x" * 501},
        "title",
        "Ensure this value has at most 500 characters (it has 501).",
    ),
]


@pytest.mark.parametrize(("posted", "field", "message"), BAD_STRATEGIES)
@pytest.mark.parametrize("action", ["add", "edit"])
def test_bad_strategy_input_changes_nothing_and_says_why_at_the_field(
    admin_client, plan, posted, field, message, action
):
    if action == "add":
        target = url("strategy_add", plan.goal)
    else:
        target = url("strategy_edit", plan.goal, pk=plan.s3.pk)
        posted = {**posted, "version": plan.s3.version}
    before = snapshot()
    response = admin_client.post(target, posted)
    assert response.status_code == 400
    page = parse(response.content)
    assert field_error(page, field) == message
    # What was typed is kept.
    if posted["title"].strip():
        assert page.find("input", name="title").attrs["value"] == posted["title"]
    assert snapshot() == before


def test_every_strategy_error_is_reported_at_once(admin_client, plan):
    response = admin_client.post(url("strategy_add", plan.goal), {"number": "2", "title": ""})
    page = parse(response.content)
    assert field_error(page, "number") == "Strategy 2 exists already in this goal."
    assert field_error(page, "title") == "Give the strategy a title."


def test_a_strategy_may_keep_its_own_number(admin_client, plan):
    target = url("strategy_edit", plan.goal, pk=plan.s2.pk)
    posted = {"number": "2", "title": "Second, clearer", "version": plan.s2.version}
    assert admin_client.post(target, posted).status_code == 302
    plan.s2.refresh_from_db()
    assert (plan.s2.number, plan.s2.title) == (2, "Second, clearer")


def test_a_number_taken_between_form_and_save_is_shown_at_the_field(
    admin_client, plan, monkeypatch
):
    """The service, not only the form, refuses a taken number (e.g. two admins adding
    strategy 4 at once); its error lands on the field."""

    def taken(**kwargs):
        raise ValidationError({"number": "Strategy 4 exists already in this goal."})

    monkeypatch.setattr(plan_views.services, "add_strategy", taken)
    response = admin_client.post(url("strategy_add", plan.goal), {"number": "4", "title": "Four"})
    assert response.status_code == 400
    assert field_error(parse(response.content), "number") == (
        "Strategy 4 exists already in this goal."
    )


@pytest.mark.parametrize("name", ["strategy_edit", "strategy_delete"])
def test_a_strategy_of_another_goal_is_not_found(admin_client, plan, name):
    target = url(name, plan.goal, pk=plan.other_strategy.pk)
    before = snapshot()
    response = admin_client.post(target, {"number": "5", "title": "Stolen"})
    assert response.status_code == 404
    assert (
        admin_client.get(url("strategy_edit", plan.goal, pk=plan.other_strategy.pk)).status_code
        == 404
    )
    assert snapshot() == before


def test_a_milestone_of_another_goal_is_not_found(admin_client, plan):
    before = snapshot()
    response = admin_client.post(
        url("milestone_move", plan.goal, pk=plan.other_milestone.pk),
        move_data(plan.other_milestone, plan.s2),
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_moving_to_a_strategy_of_another_goal_is_a_field_error(admin_client, plan):
    before = snapshot()
    response = admin_client.post(
        url("milestone_move", plan.goal, pk=plan.m1.pk), move_data(plan.m1, plan.other_strategy)
    )
    assert response.status_code == 400
    page = parse(response.content)
    assert (
        field_error(page, f"move{plan.m1.pk}-strategy") == "Choose one of this goal's strategies."
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "posted",
    [
        {"strategy": "abc", "version": "1"},
        {"strategy": "", "version": "x"},
        {"strategy": "", "version": ""},
        {},
    ],
)
def test_a_garbled_move_changes_nothing(admin_client, plan, posted):
    data = {f"move{plan.m1.pk}-{key}": value for key, value in posted.items()}
    before = snapshot()
    response = admin_client.post(url("milestone_move", plan.goal, pk=plan.m1.pk), data)
    assert response.status_code == 400
    assert snapshot() == before


def test_a_stale_move_is_refused_naming_who_changed_the_milestone(admin_client, plan):
    opened_version = plan.m1.version
    colleague = UserFactory(username="colleague", is_staff=True)
    move_milestone(
        milestone=plan.m1, user=colleague, strategy=plan.s2, expected_version=opened_version
    )
    before = snapshot()

    response = admin_client.post(
        url("milestone_move", plan.goal, pk=plan.m1.pk),
        move_data(plan.m1, plan.s3, version=opened_version),
    )

    assert response.status_code == 409
    page = parse(response.content)
    item = page.find("tr", data_milestone=str(plan.m1.pk))
    warning = item.find(data_conflict=True).text
    assert warning.startswith("colleague changed this milestone at ")
    assert (
        "(it is now under Strategy 2: Second). Nothing was moved; your choice is kept" in warning
    )
    assert snapshot() == before
    # The choice is kept and the form is now at the current version: pressing Move again
    # applies it.
    form = item.find("form", class_="move-form")
    selected = [o.attrs["value"] for o in form.find_all("option") if "selected" in o.attrs]
    assert selected == [str(plan.s3.pk)]
    plan.m1.refresh_from_db()
    version = form.find("input", name=f"move{plan.m1.pk}-version").attrs["value"]
    assert version == str(plan.m1.version)
    again = admin_client.post(form.attrs["action"], move_data(plan.m1, plan.s3, version=version))
    assert again.status_code == 302
    plan.m1.refresh_from_db()
    assert plan.m1.strategy == plan.s3
    assert [r.history_username for r in plan.m1.history.all()[:2]] == ["root", "colleague"]


def test_a_stale_strategy_form_is_refused_and_keeps_what_was_typed(admin_client, plan):
    """Two admins open strategy 3; the first saves. The second's save is refused: nothing
    of theirs is written, they are told who changed what, and the form keeps their
    edits over the first admin's version."""
    edit_url = url("strategy_edit", plan.goal, pk=plan.s3.pk)
    first, second = UserFactory(username="colleague", is_staff=True), admin_client
    first_client = Client()
    first_client.force_login(first)
    opened = parse(second.get(edit_url).content).find("form", class_="strategy-form")
    version = opened.find("input", name="version")
    assert (version.attrs["type"], version.attrs["value"]) == ("hidden", str(plan.s3.version))
    first_form = parse(first_client.get(edit_url).content).find("form", class_="strategy-form")
    first_posted = {
        "number": "3",
        "title": "Third",
        "description": "Their description",
        "version": first_form.find("input", name="version").attrs["value"],
    }
    assert first_client.post(edit_url, first_posted).status_code == 302
    before = snapshot()

    posted = {
        "number": "3",
        "title": "My title",
        "description": "My description",
        "version": version.attrs["value"],
    }
    response = second.post(edit_url, posted)

    assert response.status_code == 409
    assert snapshot() == before
    page = parse(response.content)
    alert = page.find(data_conflict=True).text
    assert alert.startswith("colleague changed this strategy at ")
    assert "(description) after you opened this form. Nothing was saved." in alert
    assert "You both changed: description. Your text is shown; theirs is in the history." in alert
    form = page.find("form", class_="strategy-form")
    assert form.find("input", name="title").attrs["value"] == "My title"
    assert form.find("textarea", name="description").text == "My description"
    plan.s3.refresh_from_db()
    assert form.find("input", name="version").attrs["value"] == str(plan.s3.version)

    # Saving the form as shown applies the second admin's edits.
    resubmitted = {**posted, "version": str(plan.s3.version)}
    assert second.post(edit_url, resubmitted).status_code == 302
    plan.s3.refresh_from_db()
    assert (plan.s3.title, plan.s3.description) == ("My title", "My description")
    assert [r.history_username for r in plan.s3.history.all()[:2]] == ["root", "colleague"]


def test_a_strategy_form_without_its_version_is_refused(admin_client, plan):
    before = snapshot()
    response = admin_client.post(
        url("strategy_edit", plan.goal, pk=plan.s3.pk), {"number": "3", "title": "Changed"}
    )
    assert response.status_code == 400
    assert "Reload the page" in parse(response.content).find(data_form_errors=True).text
    assert snapshot() == before


BAD_GOALS = [
    # (changes, field, message)
    ({"title": ""}, "title", "This field is required."),
    ({"title": "t" * 301}, "title", "Ensure this value has at most 300 characters (it has 301)."),
    ({"statement": "  "}, "statement", "This field is required."),
    (
        {"statement": "s" * 2001},
        "statement",
        "Ensure this value has at most 2000 characters (it has 2001).",
    ),
    (
        {"sensitivity": "secret"},
        "sensitivity",
        "Select a valid choice. secret is not one of the available choices.",
    ),
    ({"target_date": "September 2019"}, "target_date", "Enter a valid date."),
    (
        {"short_name": "S" * 41},
        "short_name",
        "Ensure this value has at most 40 characters (it has 41).",
    ),
    (
        {"overview": "o" * 20001},
        "overview",
        "Ensure this value has at most 20000 characters (it has 20001).",
    ),
    (
        {"policies": "Short\n" + "p" * 1001},
        "policies",
        "Item 2 is over 1000 characters; put one item per line.",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_GOALS)
def test_bad_goal_input_changes_nothing_and_says_why_at_the_field(
    admin_client, plan, changes, field, message
):
    before = snapshot()
    response = admin_client.post(url("goal_edit", plan.goal), goal_form_data(plan.goal, **changes))
    assert response.status_code == 400
    page = parse(response.content)
    assert field_error(page, field) == message
    assert "Nothing was saved." in page.find(data_form_errors=True).text
    # The page header still names the saved goal, not what was typed.
    assert page.find("h1").text == "Edit goal"
    assert plan.goal.title in page.find("main").text
    assert snapshot() == before


def test_a_stale_goal_form_is_refused_and_keeps_what_was_typed(admin_client, plan):
    opened = goal_form_data(plan.goal, title="My new title", overview="My overview")
    colleague = UserFactory(username="colleague", is_staff=True)
    update_goal(goal=plan.goal, user=colleague, title="Their title", history="Their history")
    before = snapshot()

    response = admin_client.post(url("goal_edit", plan.goal), opened)

    assert response.status_code == 409
    page = parse(response.content)
    alert = page.find(data_conflict=True).text
    assert alert.startswith("colleague changed this goal at ")
    assert "(title, history) after you opened this form. Nothing was saved." in alert
    assert "You both changed: title. Your text is shown; theirs is in the history." in alert
    assert snapshot() == before
    # Their edit fills the field only they changed; what this user typed is kept.
    form = page.find("form", class_="goal-form")
    assert form.find("input", name="title").attrs["value"] == "My new title"
    assert form.find("textarea", name="overview").text == "My overview"
    assert form.find("textarea", name="history").text == "Their history"

    # Saving the form as shown applies this user's edits and keeps the colleague's.
    resubmitted = {
        **opened,
        "history": "Their history",
        "version": form.find("input", name="version").attrs["value"],
    }
    assert admin_client.post(url("goal_edit", plan.goal), resubmitted).status_code == 302
    plan.goal.refresh_from_db()
    assert (plan.goal.title, plan.goal.overview, plan.goal.history) == (
        "My new title",
        "My overview",
        "Their history",
    )
    assert (
        describe(plan.goal.changes.latest().history_change_reason)
        == "Edited goal: title, overview"
    )


def test_a_goal_form_without_its_opened_time_is_refused(admin_client, plan):
    data = goal_form_data(plan.goal, title="Changed")
    del data["version"]
    before = snapshot()
    response = admin_client.post(url("goal_edit", plan.goal), data)
    assert response.status_code == 400
    assert "Reload the page" in parse(response.content).find(data_form_errors=True).text
    assert snapshot() == before


# -- the services behind the pages ------------------------------------------------------------


def test_move_milestone_refuses_a_strategy_of_another_goal(plan, admin_user):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        move_milestone(
            milestone=plan.m1,
            user=admin_user,
            strategy=plan.other_strategy,
            expected_version=plan.m1.version,
        )
    assert caught.value.message_dict == {"strategy": ["Choose one of this goal's strategies."]}
    assert snapshot() == before


def test_move_milestone_to_where_it_is_records_nothing(plan, admin_user):
    before = snapshot()
    move_milestone(
        milestone=plan.m1, user=admin_user, strategy=plan.s1, expected_version=plan.m1.version
    )
    assert snapshot() == before


def test_update_goal_with_the_same_values_records_nothing(plan, admin_user):
    before = snapshot()
    update_goal(goal=plan.goal, user=admin_user, title=plan.goal.title, overview="")
    assert snapshot() == before
