from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """How people sign in and prove who they are: single sign-on identities, the second
    factor's events, and the personal access tokens the read API accepts.

    A site-level app beside ``sdif_tracker`` (it may use ``sdif_tracker.access``); no
    domain layer imports it (docs/architecture.md)."""

    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.events import record_sign_in
        from accounts.mfa import remember_gate_at_sign_in

        # What the second factor's gate needs, worked out once a session, at sign-in.
        user_logged_in.connect(remember_gate_at_sign_in, dispatch_uid="accounts.mfa_gate")
        # Every sign-in in the security log.
        user_logged_in.connect(record_sign_in, dispatch_uid="accounts.sign_in_event")
