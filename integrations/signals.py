"""Outbox receivers: filled in by the webhooks work (issue 16)."""
