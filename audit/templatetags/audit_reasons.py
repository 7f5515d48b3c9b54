"""``{% load audit_reasons %}{{ record.history_change_reason|change_reason }}``: a stored
change reason in the reader's language (``audit.reasons.describe``)."""

from django import template

from audit.reasons import describe

register = template.Library()


@register.filter
def change_reason(text) -> str:
    """The stored reason ``text`` shown in the active language (autoescaped as usual)."""
    return describe(text)
