"""``{% load audit_history %}``: who saved a history record, for the conflict messages."""

from django import template

from audit.history import saved_by as _saved_by

register = template.Library()


@register.filter
def saved_by(record, user) -> bool:
    """``{% if entry.record|saved_by:request.user %}``: ``audit.history.saved_by``."""
    return _saved_by(record, user)
