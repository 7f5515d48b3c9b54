"""What the account page shows about personal access tokens: the user's tokens (name,
first characters, created, expires, last used, revoked), the form for a new one, the
revocation being confirmed (``?revoke=<id>``), and a token just created, shown once."""

from django.utils import timezone

from accounts.mfa import set_up_required
from accounts.tokens import TokenCreateForm, user_tokens


def section(request, *, form=None, new_token=None, problem=None):
    """The tokens' part of the account page. ``form`` is passed in bound (with its
    errors) when a post is answered with the page; ``new_token`` (an
    ``accounts.tokens.NewToken``) only in the answer to the post that made it."""
    tokens = list(user_tokens(request.user))
    revoking = None
    wanted = request.GET.get("revoke", "")
    if wanted.isdigit():
        revoking = next((t for t in tokens if str(t.pk) == wanted and t.revoked_at is None), None)
    return {
        "tokens": tokens,
        "now": timezone.now(),
        "form": form or TokenCreateForm(auto_id="token-%s"),
        "new_token": new_token,
        "revoking": revoking,
        "problem": problem,
        # An administrator who must first add a second factor may not make tokens yet.
        "locked": set_up_required(request),
    }
