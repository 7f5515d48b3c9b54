"""The change reasons the strategies layer writes (see ``audit.reasons``): each stored
as a code with parameters and shown in the reader's language."""

from django.utils.translation import gettext_lazy as _

from audit.reasons import NUMBER, TEXT, choice, field_names, register


def _goal():
    from strategies.models import Goal

    return Goal


REVERTED = register(
    "reverted", _("Reverted to version of %(date)s by %(user)s"), date=TEXT, user=TEXT
)
STRATEGY_ADDED = register("strategy_added", _("Added strategy %(number)d"), number=NUMBER)
STRATEGY_RENUMBERED = register(
    "strategy_renumbered",
    _("Strategy %(number)d renumbered %(old)d → %(number)d"),
    number=NUMBER,
    old=NUMBER,
)
STRATEGY_RETITLED = register("strategy_retitled", _("Strategy %(number)d retitled"), number=NUMBER)
STRATEGY_RENUMBERED_RETITLED = register(
    "strategy_renumbered_retitled",
    _("Strategy %(number)d renumbered %(old)d → %(number)d and retitled"),
    number=NUMBER,
    old=NUMBER,
)
STRATEGY_DELETED = register("strategy_deleted", _("Deleted strategy %(number)d"), number=NUMBER)
GOAL_EDITED = register("goal_edited", _("Edited goal: %(fields)s"), fields=field_names(_goal))
INDICATOR_DEFINED = register(
    "indicator_defined", _("Defined the key indicator “%(name)s”"), name=TEXT
)
INDICATOR_EDITED = register(
    "indicator_edited", _("Edited the key indicator “%(name)s”"), name=TEXT
)
DEMO_USERS = register("demo_users", _("Demo users for development"))


# -- who works on a goal, and an agency's roles and review steps (the members and agency
# pages) ---------------------------------------------------------------------------------


def _role_choices():
    from strategies.models import Role

    return Role.choices


def _agency_role_choices():
    from strategies.models import AgencyRoleKind

    return AgencyRoleKind.choices


def _agency():
    from strategies.models import Agency

    return Agency


def _membership():
    from strategies.models import Membership

    return Membership


MEMBER_ADDED = register(
    "member_added", _("Added %(user)s as %(role)s"), user=TEXT, role=choice(_role_choices)
)
MEMBER_CHANGED = register(
    "member_changed",
    _("Changed the membership of %(user)s: %(fields)s"),
    user=TEXT,
    fields=field_names(_membership),
)
MEMBER_REMOVED = register("member_removed", _("Removed %(user)s from the goal"), user=TEXT)
AGENCY_ROLE_GIVEN = register(
    "agency_role_given",
    _("Gave %(user)s the agency-wide role %(role)s"),
    user=TEXT,
    role=choice(_agency_role_choices),
)
AGENCY_ROLE_TAKEN = register(
    "agency_role_taken",
    _("Took the agency-wide role %(role)s from %(user)s"),
    user=TEXT,
    role=choice(_agency_role_choices),
)
AGENCY_STEPS_CHANGED = register(
    "agency_steps_changed",
    _("Changed the agency's review steps: %(fields)s"),
    fields=field_names(_agency),
)
