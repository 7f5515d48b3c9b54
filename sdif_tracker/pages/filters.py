"""The base of every list page's filter form: a value that does not validate is dropped
and said, never an error page, and every page says it the same way
(``templates/includes/_filter_problems.html``).

Plain Django forms rather than django-filter: the filters are not plain field lookups
(fiscal periods of the effective due, overdue as of today, a search over four columns,
a UNION over history tables paged by keyset cursors), so a FilterSet would only hold
the fields while each page still wrote its own query.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ListFilterForm(forms.Form):
    """GET filters of a list page: read with ``value()``, bad values listed by
    ``problems`` in the reader's words."""

    # Shown above the list when the messages do not say themselves what was done.
    problems_intro = _("Some filters were not understood, so they were ignored:")
    # Prefix each message with the filter's label; off where the messages name it.
    label_problems = True

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self._other_problems: list[str] = []

    def value(self, name: str):
        """The cleaned value of ``name``; None when it is empty or did not validate."""
        self.is_valid()
        return self.cleaned_data.get(name) or None

    def add_problem(self, message) -> None:
        """Report a problem found outside the fields (a page past the last one)."""
        self._other_problems.append(message)

    @property
    def problems(self) -> list[str]:
        """One message per filter that was not understood (and so was ignored), then
        the problems added by the page."""
        self.is_valid()
        if self.label_problems:
            found = [
                _("%(filter)s: %(error)s")
                % {"filter": self.fields[name].label, "error": " ".join(errors)}
                for name, errors in self.errors.items()
            ]
        else:
            found = [" ".join(errors) for errors in self.errors.values()]
        return [*found, *self._other_problems]


class SearchField(forms.CharField):
    """Free text to search for, optional; too long or with control characters it is
    refused in the page's own words (``too_long`` may use ``%(max)s``)."""

    def __init__(self, *, max_chars: int, too_long, control_characters, **kwargs):
        super().__init__(required=False, **kwargs)
        self.max_chars = max_chars
        self.too_long = too_long
        self.control_characters = control_characters
        # Django's own length and NUL validators would word the same refusals differently.
        self.validators = []

    def validate(self, value):
        super().validate(value)
        if len(value) > self.max_chars:
            raise ValidationError(self.too_long, code="max_length", params={"max": self.max_chars})
        if not value.isprintable():
            # Control characters match no text, and PostgreSQL refuses a NUL outright.
            raise ValidationError(self.control_characters, code="control_characters")
