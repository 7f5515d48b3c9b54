"""The forms of the webhook pages: registering an endpoint, and the buttons of one."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations import targets
from integrations.models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Receiver URL"),
        max_length=targets.MAX_URL_LENGTH,
        error_messages={"required": _("Enter the receiver's URL.")},
        help_text=_(
            "An https:// address on the public internet; each request is signed with "
            "the endpoint's secret (shown once it is registered)."
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("Optional: what receives it, who runs it."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event to send.")},
    )

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        # Resolved and checked now, and again at every delivery.
        targets.check(url)
        return url


class EndpointActionForm(forms.Form):
    """One button of an endpoint's page."""

    ROTATE = "rotate"
    ENABLE = "enable"
    REMOVE = "remove"

    action = forms.ChoiceField(
        choices=[
            (ROTATE, _("Rotate the signing secret")),
            (ENABLE, _("Enable again")),
            (REMOVE, _("Remove")),
        ],
        error_messages={
            "required": _("Choose what to do with the endpoint."),
            "invalid_choice": _("Choose what to do with the endpoint."),
        },
    )
