"""Which characters the plan's text may hold: one rule for the web forms and the importer.

Control characters are invisible on the page, break the exports and the PDF, and
PostgreSQL refuses NUL outright. Multi-line text (statements, narrative, comments)
keeps its line breaks and tabs; a one-line value (a title, a name) keeps neither.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_SINGLE_LINE_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same less tab, line feed and carriage return (browsers post textareas with CRLF).
_MULTI_LINE_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def control_character_error(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` may not be stored, naming its first refused character; or None."""
    match = (_MULTI_LINE_REFUSED if multiline else _SINGLE_LINE_REFUSED).search(value)
    if match is None:
        return None
    if not multiline and match.group() in "\t\n\r\u2028\u2029":
        return str(_("must be a single line (no line breaks or tabs)"))
    return str(
        _("contains the control character U+%(code)04X (character %(position)d)")
        % {"code": ord(match.group()), "position": match.start() + 1}
    )


def _validator(multiline: bool):
    def validate(value):
        if isinstance(value, str) and (
            message := control_character_error(value, multiline=multiline)
        ):
            raise ValidationError(message[:1].upper() + message[1:] + ".", code="control")

    return validate


validate_single_line = _validator(multiline=False)
validate_multi_line = _validator(multiline=True)
