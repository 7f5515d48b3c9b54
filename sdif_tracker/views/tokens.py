"""Personal access tokens on the account page: create one (its value shown once, on the
page this post redirects to, and nowhere else) and revoke one (from the confirmation the page
shows at ``?revoke=<id>``). Each answers with the account page or returns to it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import account_page, tokens


def _account_page(request, *, status: int, **token_section):
    return account_page.render_page(request, status=status, token=token_section)


@login_required
@require_POST
def token_create(request):
    form = tokens.TokenCreateForm(request.POST, auto_id="token-%s")
    if not form.is_valid():
        return _account_page(request, status=400, form=form)
    try:
        new = tokens.create_token(
            user=request.user,
            name=form.cleaned_data["name"],
            lifetime_days=form.cleaned_data["lifetime"],
            request=request,
        )
    except ValidationError as error:
        return _account_page(request, status=400, form=form, problem=error.messages[0])
    # Post, redirect, get: the page shows the token once, and reloading it makes no other.
    account_page.hold_new_token(request, new)
    return redirect(reverse("account") + "#tokens")


@login_required
@require_POST
def token_revoke(request):
    form = tokens.TokenRevokeForm(request.POST)
    if not form.is_valid():
        return _account_page(
            request, status=400, problem=_("Say which token to revoke. Nothing changed.")
        )
    token = tokens.revoke_token(
        user=request.user, token_id=form.cleaned_data["token"], request=request
    )
    if token is None:
        return _account_page(
            request,
            status=404,
            problem=_("You have no such token. Nothing changed."),
        )
    messages.success(
        request,
        _("Revoked the token “%(name)s”: it no longer works.") % {"name": token.name},
    )
    return redirect(reverse("account") + "#tokens")
