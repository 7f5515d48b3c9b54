"""The forms of the members page (who works on a goal) and of the agency page (its review
steps and agency-wide roles). Each carries, where it changes an existing row, the history
record its page showed (``strategies.services.lock_at_record``)."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from strategies.forms import VersionField
from strategies.models import AgencyRoleKind, Role

USERNAME_MAX_LENGTH = 150

STALE_FORM = _(
    "This form is missing what the page showed when it was opened; reload the page and try again."
)


class RecordField(VersionField):
    """The history record of the row as its page showed it, in a hidden input."""

    def __init__(self, **kwargs):
        kwargs.setdefault("message", STALE_FORM)
        super().__init__(**kwargs)


class UsernameField(forms.CharField):
    """A username, resolved to the active user of that name (``cleaned_data`` holds the
    user): a clear error for one that does not exist or is deactivated."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Username"))
        kwargs.setdefault("max_length", USERNAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def clean(self, value):
        username = super().clean(value)
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise ValidationError(
                _(
                    "No user is called “%(username)s”. Check the spelling, or ask a site "
                    "administrator to create the account first."
                )
                % {"username": username},
                code="unknown_user",
            )
        if not user.is_active:
            raise ValidationError(
                _("The account “%(username)s” is deactivated.") % {"username": username},
                code="inactive_user",
            )
        return user


class MemberAddForm(forms.Form):
    username = UsernameField()
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    reports_indicators = forms.BooleanField(
        label=_("Reports indicator actuals"),
        required=False,
        help_text=_("For contributors; leaders and deputies always can."),
    )


class MemberChangeForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    reports_indicators = forms.BooleanField(label=_("Reports indicator actuals"), required=False)
    record = RecordField()


class MemberRemoveForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    record = RecordField()


class ReviewStepsForm(forms.Form):
    agency_approval = forms.BooleanField(
        label=_("The agency's performance office approves each update"), required=False
    )
    examiner_clearance = forms.BooleanField(
        label=_("An OMB examiner clears each update"), required=False
    )
    record = RecordField()


class AgencyRoleAddForm(forms.Form):
    username = UsernameField()
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles=(), **kwargs):
        """``roles``: the ``AgencyRoleKind`` values the user may give (access decides)."""
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (value, label) for value, label in AgencyRoleKind.choices if value in roles
        ]


class AgencyRoleRemoveForm(forms.Form):
    agency_role = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    record = RecordField()
