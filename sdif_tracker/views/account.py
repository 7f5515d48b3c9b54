"""The signed-in user's own page: their second factor and their personal access tokens.

Each section is built by its own read model (``accounts.mfa_page``, ``accounts.token_page``)
and changed through its own POST views; ``accounts.account_page`` puts them together for
this view and for every post answered with the page."""

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_safe

from accounts import account_page


@login_required
@require_safe
def account(request):
    return account_page.render_page(request)
