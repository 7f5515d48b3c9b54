"""The second factor's forms: a code, the proof asked before removing it, and the
security log's filters."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import SecurityEvent
from sdif_tracker.pages.filters import ListFilterForm, SearchField


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The six-digit code your authenticator app shows now, or a recovery code."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter a code.")},
    )

    def add_wait(self, seconds: int) -> None:
        self.add_error(
            "code",
            ValidationError(
                ngettext_lazy(
                    "After a wrong code the next one is checked only after a pause: wait "
                    "%(seconds)d second, then enter the code the app shows then.",
                    "After a wrong code the next one is checked only after a pause: wait "
                    "%(seconds)d seconds, then enter the code the app shows then.",
                    "seconds",
                ),
                code="wait",
                params={"seconds": seconds},
            ),
        )

    def add_wrong_code(self) -> None:
        self.add_error(
            "code",
            ValidationError(
                _(
                    "That code was not accepted. Enter the code the app shows now, or an "
                    "unused recovery code."
                ),
                code="wrong_code",
            ),
        )


class SetUpForm(CodeForm):
    """Confirming a new authenticator: only the app's code will do."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=32,
        help_text=_("Enter the six-digit code the app shows once you have added the account."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("Enter the code the app shows.")},
    )

    def add_wrong_code(self) -> None:
        self.add_error(
            "code",
            ValidationError(
                _(
                    "That code was not accepted. Check that the app shows this account and "
                    "enter its current code."
                ),
                code="wrong_code",
            ),
        )


class RemoveForm(forms.Form):
    """Removing the second factor asks for proof that it is still you: a current code or
    your password."""

    code = forms.CharField(
        label=_("Code from the app, or a recovery code"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label=_("Or your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("code") and not data.get("password"):
            raise ValidationError(
                _("Enter a code from your app or your password to remove the second factor."),
                code="no_proof",
            )
        return data

    def add_wrong_proof(self) -> None:
        self.add_error(
            None,
            ValidationError(
                _("That code or password was not accepted. Nothing was removed."),
                code="wrong_proof",
            ),
        )


class SecurityLogFilterForm(ListFilterForm):
    """The security log's filters: who, and which kind of event."""

    user = SearchField(
        label=_("User (username)"),
        max_chars=150,
        too_long=_("A username has at most %(max)s characters."),
        control_characters=_("A username has no control characters."),
    )
    kind = forms.ChoiceField(
        label=_("Event"), choices=[("", "")] + SecurityEvent.Kind.choices, required=False
    )
