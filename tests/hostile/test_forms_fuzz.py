"""Arbitrary text, numbers, periods and ids thrown at every form and GET filter of the
app, as the user allowed to use it: never a 5xx; a refused submission changes nothing
(every table, history included); an accepted one changes only what it should."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from milestones.models import Likelihood, Risk, Status
from strategies.models import GOAL_EDITABLE_FIELDS, Direction, Role, Sensitivity
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
    UserFactory,
)
from tests.helpers import shown_now
from tests.hostile._support import (
    FUZZ,
    anything,
    changed_tables,
    count_change,
    ids,
    numbers,
    periods,
    rolled_back,
    snapshot,
    text,
)

MILESTONE_TABLES = {"milestones.Milestone", "milestones.HistoricalMilestone"}
STATUS_TABLES = MILESTONE_TABLES | {"milestones.StatusUpdate", "milestones.HistoricalStatusUpdate"}
SUMMARY_TABLES = {"milestones.ProgressSummary", "milestones.HistoricalProgressSummary"}
GOAL_TABLES = {"strategies.Goal", "strategies.HistoricalGoal"}
STRATEGY_TABLES = {"strategies.Strategy", "strategies.HistoricalStrategy"}
INDICATOR_TABLES = {
    "strategies.Indicator",
    "strategies.HistoricalIndicator",
    "strategies.IndicatorValue",
    "strategies.HistoricalIndicatorValue",
}
LOGIN_TABLES = {"axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog", "auth.User"}


def choice_or(values, other=anything):
    """Mostly a valid choice, sometimes anything at all."""
    return st.one_of(st.sampled_from([str(v) for v in values]), other)


@pytest.fixture
def world(db):
    goal = GoalFactory(sensitivity=Sensitivity.INTERNAL, slug="fuzz")
    strategy = StrategyFactory(goal=goal, number=1)
    StrategyFactory(goal=goal, number=2)
    leader = MembershipFactory(goal=goal, role=Role.LEADER, user__username="leader").user
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    indicator = IndicatorFactory(goal=goal)
    IndicatorValueFactory(indicator=indicator)
    clients = {"anonymous": Client()}
    for name, user in (("leader", leader), ("admin", admin)):
        clients[name] = Client()
        clients[name].force_login(user)
    return {
        "goal": goal,
        "strategy": strategy,
        "milestone": MilestoneFactory(goal=goal, strategy=strategy),
        "summary": ProgressSummaryFactory(goal=goal),
        "indicator": indicator,
        "clients": clients,
    }


def submit(client, url, data, *, accepted, tables, adds=None):
    """POST in a rolled-back savepoint; check the status and what changed."""
    with rolled_back():
        before = snapshot()
        response = client.post(url, data)
        assert response.status_code < 500, (url, data, response.status_code)
        changed = changed_tables(before, snapshot())
        if accepted(response):
            assert changed <= tables, (url, data, changed)
            for label, difference in (adds or {}).items():
                assert count_change(before, snapshot(), label) == difference, (label, data)
        else:
            assert response.status_code in (200, 302, 400, 409, 429), response.status_code
            assert changed == set(), (url, data, changed)
    return response


def redirected(response):
    return response.status_code == 302


@FUZZ
@given(
    status=choice_or(Status.values),
    comment=text,
    revised_due=periods,
    period=periods,
    version=st.one_of(st.just("current"), ids),
)
def test_status_update(world, status, comment, revised_due, period, version):
    milestone = world["milestone"]
    prefix = f"m{milestone.pk}"
    data = {
        f"{prefix}-status": status,
        f"{prefix}-comment": comment,
        f"{prefix}-revised_due": revised_due,
        f"{prefix}-period": period,
        f"{prefix}-version": "1" if version == "current" else version,
    }
    url = reverse("milestone_update", kwargs={"slug": "fuzz", "pk": milestone.pk})
    submit(
        world["clients"]["leader"],
        url,
        data,
        accepted=redirected,
        tables=STATUS_TABLES,
        adds={"milestones.StatusUpdate": 1},
    )


# The version a form was opened at: the current one, none, any number, any text.
VERSIONS = st.one_of(
    st.just("current"),
    st.just(""),
    st.integers(-(2**63), 2**63).map(str),
    numbers,
    text,
)


@FUZZ
@given(
    period=periods,
    summary=text,
    next_steps=text,
    risk=choice_or(["", *Risk.values]),
    likelihood=choice_or(["", *Likelihood.values]),
    improvement_actions=text,
    data_sources=text,
    version=VERSIONS,
)
def test_progress_summary(
    world,
    period,
    summary,
    next_steps,
    risk,
    likelihood,
    improvement_actions,
    data_sources,
    version,
):
    existing = world["summary"]
    data = {
        "period": period,
        "summary": summary,
        "next_steps": next_steps,
        "risk": risk,
        "likelihood": likelihood,
        "improvement_actions": improvement_actions,
        "data_sources": data_sources,
        "version": existing.version if version == "current" else version,
    }
    url = reverse("progress_edit", kwargs={"slug": "fuzz"})
    submit(world["clients"]["leader"], url, data, accepted=redirected, tables=SUMMARY_TABLES)


@FUZZ
@given(number=st.one_of(st.integers(-5, 1005).map(str), numbers, ids), title=text, desc=text)
def test_strategy_add(world, number, title, desc):
    url = reverse("strategy_add", kwargs={"slug": "fuzz"})
    data = {"number": number, "title": title, "description": desc}
    submit(
        world["clients"]["admin"],
        url,
        data,
        accepted=redirected,
        tables=STRATEGY_TABLES,
        adds={"strategies.Strategy": 1},
    )


@FUZZ
@given(number=st.one_of(st.integers(-5, 1005).map(str), numbers, ids), title=text, desc=text)
def test_strategy_edit(world, number, title, desc):
    url = reverse("strategy_edit", kwargs={"slug": "fuzz", "pk": world["strategy"].pk})
    data = {
        "number": number,
        "title": title,
        "description": desc,
        "version": world["strategy"].version,
    }
    submit(
        world["clients"]["admin"],
        url,
        data,
        accepted=redirected,
        tables=STRATEGY_TABLES,
        adds={"strategies.Strategy": 0},
    )


GOAL_VALUES = {
    "sensitivity": choice_or(Sensitivity.values),
    "target_date": st.one_of(st.dates().map(str), numbers, periods, text),
}


@FUZZ
@given(
    fields=st.fixed_dictionaries(
        {}, optional={name: GOAL_VALUES.get(name, text) for name in GOAL_EDITABLE_FIELDS}
    ),
    version=VERSIONS,
)
def test_goal_edit(world, fields, version):
    goal = world["goal"]
    data = {name: getattr(goal, name) or "" for name in GOAL_EDITABLE_FIELDS}
    data.update(fields)
    data["version"] = goal.version if version == "current" else version
    url = reverse("goal_edit", kwargs={"slug": "fuzz"})
    submit(
        world["clients"]["admin"],
        url,
        data,
        accepted=redirected,
        tables=GOAL_TABLES,
        adds={"strategies.Goal": 0},
    )


@FUZZ
@given(
    strategy=st.one_of(st.sampled_from(["", "own", "other-goal"]), ids),
    version=st.one_of(st.just("1"), ids),
)
def test_milestone_move(world, strategy, version):
    milestone = world["milestone"]
    if strategy == "own":
        strategy = str(world["goal"].strategies.get(number=2).pk)
    elif strategy == "other-goal":
        strategy = str(StrategyFactory().pk)  # undone with the example's savepoint
    data = {f"move{milestone.pk}-strategy": strategy, f"move{milestone.pk}-version": version}
    url = reverse("milestone_move", kwargs={"slug": "fuzz", "pk": milestone.pk})
    submit(world["clients"]["admin"], url, data, accepted=redirected, tables=MILESTONE_TABLES)


@FUZZ
@given(name=text, unit=text, direction=choice_or(Direction.values))
def test_indicator_add(world, name, unit, direction):
    url = reverse("indicator_list", kwargs={"slug": "fuzz"})
    data = {"name": name, "unit": unit, "direction": direction}
    submit(
        world["clients"]["admin"],
        url,
        data,
        accepted=redirected,
        tables=INDICATOR_TABLES,
        adds={"strategies.Indicator": 1},
    )


ROW = st.fixed_dictionaries(
    {"period": periods, "target": numbers, "actual": numbers},
    optional={"DELETE": st.sampled_from(["on", "", "x"])},
)


@FUZZ
@given(
    name=st.one_of(st.just("Indicator"), text),
    unit=text,
    direction=choice_or(Direction.values),
    rows=st.lists(ROW, max_size=4),
    total=st.one_of(st.just("rows"), ids),
    initial=st.one_of(st.just("1"), ids),
)
def test_indicator_edit(world, name, unit, direction, rows, total, initial):
    data = {
        "name": name,
        "unit": unit,
        "direction": direction,
        # The indicator's version when the form was opened (each example is rolled back).
        "version": str(world["indicator"].version),
        "values-TOTAL_FORMS": str(len(rows)) if total == "rows" else total,
        "values-INITIAL_FORMS": initial,
        "values-MIN_NUM_FORMS": "0",
        "values-MAX_NUM_FORMS": "200",
    }
    for index, row in enumerate(rows):
        data.update({f"values-{index}-{key}": value for key, value in row.items()})
    url = reverse("indicator_edit", kwargs={"slug": "fuzz", "pk": world["indicator"].pk})
    submit(
        world["clients"]["admin"],
        url,
        data,
        accepted=redirected,
        tables=INDICATOR_TABLES,
        adds={"strategies.Indicator": 0},
    )


@FUZZ
@given(
    period=periods,
    version=st.one_of(st.just("current"), ids),
    seen=st.one_of(st.just("now"), text, st.datetimes(timezones=st.timezones()).map(str)),
)
def test_publish(world, period, version, seen):
    """As the confirmation page posts it (the update's version, when it was shown), with
    any of the three damaged: published only from a quarter's page, else refused."""
    url = reverse("publish_quarter", kwargs={"slug": "fuzz"})
    response = submit(
        world["clients"]["leader"],
        url,
        {
            "period": period,
            "version": str(world["summary"].version) if version == "current" else version,
            "seen": shown_now() if seen == "now" else seen,
        },
        accepted=lambda r: "quarter=" in r.get("Location", ""),
        tables=SUMMARY_TABLES,
    )
    assert response.status_code in (302, 400, 409)


@FUZZ
@given(username=st.one_of(st.just("leader"), text), password=text)
def test_login(world, username, password):
    response = submit(
        world["clients"]["anonymous"],
        reverse("login"),
        {"username": username, "password": password},
        accepted=lambda r: True,  # a refused login is recorded by axes, nothing else
        tables=LOGIN_TABLES - {"auth.User"},
    )
    assert response.status_code in (200, 429)


# -- GET filters: never a 5xx, never a write -----------------------------------------------

GET_PAGES = [
    ("goal_dashboard", "goal", ["status", "strategy", "fy", "overdue", "group", "as_of"]),
    ("goal_plan", "goal", ["quarter", "as_of"]),
    ("goal_compare", "goal", ["from", "to"]),
    ("progress_edit", "goal", ["period"]),
    (
        "audit_log",
        None,
        ["goal", "user", "kind", "field", "from", "to", "order", "before", "after"],
    ),
    ("goal_history", "goal", ["before"]),
    ("milestone_history", "milestone", ["before"]),
    ("portfolio", None, ["q", "page", "as_of", "group"]),
]


@FUZZ
@given(
    page=st.sampled_from(GET_PAGES),
    values=st.lists(st.one_of(anything, st.sampled_from(Status.values)), min_size=1, max_size=9),
    repeat=st.booleans(),
)
def test_get_filters(world, page, values, repeat):
    name, target, params = page
    kwargs = {} if target is None else {"slug": "fuzz"}
    if target == "milestone":
        kwargs["pk"] = world["milestone"].pk
    query = {param: values[i % len(values)] for i, param in enumerate(params)}
    if repeat:  # a parameter given several times, as a checkbox list would
        query[params[0]] = values
    with rolled_back():
        before = snapshot()
        response = world["clients"]["admin"].get(reverse(name, kwargs=kwargs), query)
        assert response.status_code in (200, 302), (name, query, response.status_code)
        assert changed_tables(before, snapshot()) == set()


URL_IDS = [
    ("milestone_detail", ["pk"]),
    ("milestone_history", ["pk"]),
    ("strategy_edit", ["pk"]),
    ("indicator_edit", ["pk"]),
    ("milestone_revert", ["pk", "history_id"]),
    ("goal_revert", ["history_id"]),
]


@FUZZ
@given(page=st.sampled_from(URL_IDS), number=st.integers(10**9, 2**70), post=st.booleans())
def test_ids_in_urls(world, page, number, post):
    """Ids past any integer column's range are not found, not a database error."""
    name, params = page
    kwargs = {"slug": "fuzz", **dict.fromkeys(params, number)}
    client = world["clients"]["admin"]
    with rolled_back():
        before = snapshot()
        url = reverse(name, kwargs=kwargs)
        response = client.post(url, {}) if post else client.get(url)
        assert response.status_code in (404, 405), (url, response.status_code)
        assert changed_tables(before, snapshot()) == set()
