"""What the account page shows about personal access tokens (filled in by the API work)."""


def section(request):
    return None
