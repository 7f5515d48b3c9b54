"""The account page as every view answers with it: the second factor's section and the
tokens' section, each from its own read model, and never cached (it can carry an
authenticator's secret, recovery codes or a token just made)."""

from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from accounts import mfa_page, token_page, tokens

# A token just made waits here for the page the post redirects to, which shows it once.
NEW_TOKEN_SESSION_KEY = "account_new_token"  # noqa: S105 - a session key, not a secret


def render_page(request, *, status: int = 200, mfa: dict | None = None, token: dict | None = None):
    """The account page. ``mfa`` and ``token`` are the sections' keyword arguments when
    a post is answered with the page (its bound form, a problem)."""
    token = dict(token or {})
    if "new_token" not in token:
        token["new_token"] = _pop_new_token(request)
    context = {
        "mfa": mfa_page.section(request, **(mfa or {})),
        "tokens": token_page.section(request, **token),
    }
    response = render(request, "account/page.html", context, status=status)
    add_never_cache_headers(response)
    return response


def hold_new_token(request, new: tokens.NewToken) -> None:
    """Keep a token just made for the one page that shows it (post, redirect, get: a
    reload of that page never makes a second token)."""
    request.session[NEW_TOKEN_SESSION_KEY] = {"id": new.token.pk, "raw": new.raw}


def _pop_new_token(request) -> tokens.NewToken | None:
    held = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if not isinstance(held, dict):
        return None
    token = tokens.user_tokens(request.user).filter(pk=held.get("id")).first()
    raw = held.get("raw")
    if token is None or not isinstance(raw, str):
        return None
    return tokens.NewToken(token, raw)
