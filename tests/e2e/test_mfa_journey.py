"""Adding an authenticator app and signing in with its code, in Chromium, as a person
does: the secret typed from the page, the code from it, axe on both pages."""

import time
from base64 import b32decode

from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.e2e.helpers import PASSWORD, assert_accessible, log_in
from tests.factories import UserFactory


def code_from_secret(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app given ``secret`` (as the page shows it) shows."""
    totp = TOTP(b32decode(secret.replace(" ", "")), 30, 0, 6, 0)
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def test_set_up_then_sign_in_with_a_code(new_page, transactional_db, settings):
    # A person retypes a wrong code after more than django-otp's 1 s pause; a test does not.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    UserFactory(username="ada")
    page = new_page()
    log_in(page, "ada", next_url="/account/")

    page.get_by_role("button", name="Add an authenticator app").click()
    expect(page.locator("img[data-mfa-qr]")).to_be_visible()
    assert_accessible(page, "authenticator set-up")
    secret = page.locator("[data-mfa-secret]").inner_text()
    page.get_by_label("Code from the app").fill("000000")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("That code was not accepted")
    page.get_by_label("Code from the app").fill(code_from_secret(secret))
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.locator("[data-recovery-codes] code")).to_have_count(10)
    assert_accessible(page, "recovery codes shown once")

    page.get_by_role("button", name="Log out").first.click()
    page.goto("/accounts/login/?next=/my/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).last.click()
    page.wait_for_url("**/accounts/verify/**")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert_accessible(page, "code step")
    # The code after the one used at set-up: each code is accepted once.
    page.get_by_label("Code").fill(code_from_secret(secret, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url("**/my/")
    expect(page.locator("main h1")).to_be_visible()
