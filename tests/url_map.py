"""Every URL of the app and a goal with one object of each kind to point them at: shared
by the permission matrix and the hostile-input walker, so both cover the same URLs."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from strategies.models import Role, Sensitivity
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
    UserFactory,
)


def app_url_names(patterns=None, namespace=None):
    """Names of every URL outside the Django admin."""
    names = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            names |= app_url_names(pattern.url_patterns, pattern.namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def build_world() -> dict:
    """A restricted goal with a strategy, an empty strategy, a milestone, a progress
    summary and an indicator; a user of each role on it, an outsider, the leader of
    another goal and an admin."""
    goal = GoalFactory(sensitivity=Sensitivity.RESTRICTED, slug="restricted-goal")
    strategy = StrategyFactory(goal=goal, number=1)
    users = {
        "anonymous": None,
        "admin": UserFactory(username="admin", is_staff=True, is_superuser=True),
    }
    users["outsider"] = UserFactory(username="outsider")
    for role in ("contributor", "deputy", "leader", "reviewer"):
        users[role] = MembershipFactory(goal=goal, role=Role(role), user__username=role).user
    users["other_leader"] = MembershipFactory(role=Role.LEADER, user__username="other_leader").user
    return {
        "goal": goal,
        "strategy": strategy,
        "empty_strategy": StrategyFactory(goal=goal, number=2),
        "milestone": MilestoneFactory(goal=goal, strategy=strategy),
        "summary": ProgressSummaryFactory(goal=goal),
        "indicator": IndicatorFactory(goal=goal),
        "users": users,
    }


def url_for(name, target, world):
    """URL ``name`` pointed at ``target`` of ``world``: None (no arguments), "goal", an
    object's key ("milestone"), or "<key>_version" for its first history row."""
    if target is None:
        return reverse(name)
    goal = world["goal"]
    if target == "goal":
        return reverse(name, kwargs={"slug": goal.slug})
    if target == "goal_version":
        return reverse(name, kwargs={"slug": goal.slug, "history_id": goal.changes.first().pk})
    if target.endswith("_version"):
        obj = world[target.removesuffix("_version")]
        kwargs = {"slug": goal.slug, "pk": obj.pk, "history_id": obj.history.first().pk}
        return reverse(name, kwargs=kwargs)
    return reverse(name, kwargs={"slug": goal.slug, "pk": world[target].pk})
