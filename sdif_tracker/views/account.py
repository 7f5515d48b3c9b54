"""The signed-in user's own page: their second factor and their personal access tokens.

Each section is built by its own read model (``accounts.mfa_page``, ``accounts.tokens``)
and changed through its own POST views; this page only shows them together."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import mfa_page, token_page


@login_required
@require_safe
def account(request):
    context = {
        "mfa": mfa_page.section(request),
        "tokens": token_page.section(request),
    }
    return render(request, "account/page.html", context)
