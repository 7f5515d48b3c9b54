from django.apps import AppConfig


class AuditConfig(AppConfig):
    """History infrastructure for every tracked model: who, why, from where, and diffs.

    The bottom layer: it imports no domain app (tests/test_layers.py)."""

    name = "audit"
    verbose_name = "Audit"
