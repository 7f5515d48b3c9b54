"""Loaded by pytest before Django starts (``-p tests._environment`` in pyproject.toml).

The suite runs the production settings (DEBUG off), which need a SECRET_KEY; TLS
redirects are off because the test client speaks plain HTTP.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from
# it are safe in tests (see STACK-NOTES.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The suite signs administrators in with force_login; the second factor's own tests
# turn the requirement on (tests/accounts/test_mfa.py).
os.environ.setdefault("MFA_REQUIRED_FOR_ADMINS", "0")
# Tasks run where they are enqueued, so tests see their effects (emails) at once; the
# worker's own tests switch to the database backend (tests/integrations/test_tasks*.py).
os.environ.setdefault("TASKS_BACKEND", "immediate")
