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
