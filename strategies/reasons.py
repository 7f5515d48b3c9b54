"""The change reasons the strategies layer writes (see ``audit.reasons``): each stored
as a code with parameters and shown in the reader's language."""

from django.utils.translation import gettext_lazy as _

from audit.reasons import NUMBER, TEXT, field_names, register


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
