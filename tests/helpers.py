"""Helpers several test modules share: reading pages, posting admin forms, loading
settings afresh. Fixtures live in the conftest.py nearest the tests that use them."""

import runpy
from pathlib import Path

from django.conf import settings as django_settings

# -- pages -------------------------------------------------------------------------------


def groups(page):
    """[(data-group, [milestone positions])] in page order."""
    return [
        (section.attrs["data-group"], positions(section))
        for section in page.find_all("section", data_group=True)
    ]


def positions(node):
    """The positions of the milestone rows under ``node``, in page order."""
    return [
        int(row.attrs["data-milestone-position"])
        for row in node.find_all("tr", data_milestone_position=True)
    ]


def row(page, position):
    """The milestone row at ``position`` on a dashboard page."""
    return page.find("tr", data_milestone_position=str(position))


# -- the admin ---------------------------------------------------------------------------


def form_data(response, **changes):
    """What a browser would post back from an admin change page, with ``changes``."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None:
                value = ""
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else value

    add(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    data.update(changes)
    return data


# -- settings ----------------------------------------------------------------------------


SIGN_IN_VARIABLES = (
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_COOLOFF_MINUTES",
    "LOGIN_USERNAME_ALERT_LIMIT",
    "SESSION_IDLE_MINUTES",
)


def load_settings(monkeypatch, **env):
    """Run settings.py afresh (not the loaded settings) with `env` on top of this one."""
    monkeypatch.delenv("DEBUG", raising=False)
    for name in SIGN_IN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(django_settings.BASE_DIR, "sdif_tracker", "settings.py")))


def shown_now() -> str:
    """The publish confirmation page's ``seen`` field as the page signs it, now."""
    from django.core import signing
    from django.utils import timezone

    from sdif_tracker.views.publish import SEEN_SALT

    return signing.dumps(timezone.now().isoformat(), salt=SEEN_SALT)


# -- the review chain of a quarterly update ------------------------------------------------


def chain_user(goal, actor):
    """A user who takes ``actor``'s steps (``milestones.review.Actor``) on ``goal``: an
    administrator for the goal team, else a holder of the agency role; fetched afresh, so
    no role read earlier is cached on it."""
    from django.contrib.auth import get_user_model

    from milestones.review import Actor
    from strategies.models import AgencyRole, AgencyRoleKind

    users = get_user_model()._default_manager
    if actor == Actor.TEAM:
        user, _ = users.get_or_create(
            username="chain-admin", defaults={"is_staff": True, "email": "chain-admin@example.gov"}
        )
        return users.get(pk=user.pk)
    kind = {
        Actor.PERFORMANCE_OFFICE: AgencyRoleKind.PERFORMANCE_OFFICE,
        Actor.EXAMINER: AgencyRoleKind.EXAMINER,
    }[actor]
    user, _ = users.get_or_create(
        username=f"chain-{kind}-{goal.agency_id}",
        defaults={"email": f"chain-{kind}-{goal.agency_id}@example.gov"},
    )
    AgencyRole.objects.get_or_create(user=user, agency_id=goal.agency_id, role=kind)
    return users.get(pk=user.pk)


def clear_for_publishing(summary, *, until=None):
    """Take ``summary`` (a quarterly update) along its agency's review chain as real users
    of each role (an administrator submits, the performance office approves, the examiner
    clears), through the same services as the pages, until it is ready to publish (or
    until it stands at state ``until``). Returns the update as saved."""
    from milestones.models import ProgressSummary
    from milestones.review import TRANSITIONS, Action, next_step
    from sdif_tracker.access import permissions_for

    goal = summary.goal
    summary = ProgressSummary.objects.get(pk=summary.pk)
    summary.goal = goal
    while summary.review_state != until:
        step = next_step(summary, goal.agency)
        if step is None or step.action == Action.PUBLISH:
            break
        user = chain_user(goal, step.actor)
        summary = TRANSITIONS[step.action](
            summary=summary,
            user=user,
            permissions=permissions_for(user, goal),
            expected_version=summary.version,
        )
    return summary


def clear_quarter_for_publishing(goal, period):
    """``clear_for_publishing`` for ``goal``'s update of ``period``."""
    from milestones.models import ProgressSummary

    summary = ProgressSummary.objects.get(goal=goal, period=period)
    summary.goal = goal
    return clear_for_publishing(summary)
