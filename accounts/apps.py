from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """How people sign in and prove who they are: single sign-on identities, the second
    factor's events, and the personal access tokens the read API accepts.

    A site-level app beside ``sdif_tracker`` (it may use ``sdif_tracker.access``); no
    domain layer imports it (docs/architecture.md)."""

    name = "accounts"
    verbose_name = "Accounts"
