"""What the account page shows about the second factor (filled in by the MFA work)."""


def section(request):
    return None
