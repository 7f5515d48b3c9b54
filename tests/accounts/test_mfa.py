"""The second factor: adding an authenticator app from the account page, signing in with
its code or a recovery code, the throttle counting wrong codes, administrators made to
set one up, removal, and the events each step records."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from tests.factories import AgencyRoleFactory, GoalFactory, UserFactory
from tests.helpers import load_settings
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # every UserFactory user's
LIMIT = 3
OFFICE = "198.51.100.7"
Kind = SecurityEvent.Kind


@pytest.fixture(autouse=True)
def _throttles(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    # django-otp's own back-off after a wrong code (1 s, doubling) would refuse the right
    # code typed straight after; the axes limit is what these tests are about.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def ada(db):
    return UserFactory(username="ada")


def code_for(device, steps_ahead=0) -> str:
    """The code the app shows ``steps_ahead`` time steps from now (a code is accepted
    once: the sign-in after the set-up uses the next step's)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def with_authenticator(user, recovery_codes=()):
    device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    if recovery_codes:
        static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        for code in recovery_codes:
            static.token_set.create(token=code)
    return device


def sign_in(client, user, *, next_url="/my/"):
    response = client.post(
        f"{reverse('login')}?next={next_url}",
        {"username": user.username, "password": PASSWORD, "next": next_url},
        REMOTE_ADDR=OFFICE,
    )
    assert response.status_code == 302, response.status_code
    return response


def enter_code(client, code, *, next_url="/my/"):
    return client.post(reverse("mfa_verify"), {"code": code, "next": next_url}, REMOTE_ADDR=OFFICE)


def kinds(user) -> list[str]:
    """The second factor's events of ``user``, oldest first (sign-ins left out: every
    ``force_login`` writes one)."""
    return list(
        SecurityEvent.objects.filter(user=user)
        .exclude(kind=Kind.SIGNED_IN)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )


# -- set-up -----------------------------------------------------------------------------


def test_an_authenticator_is_added_from_the_account_page_with_a_current_code(client, ada):
    client.force_login(ada)
    page = parse(client.get(reverse("account")).content)
    assert page.find(data_mfa_state="off")

    assert client.post(reverse("mfa_start")).status_code == 302
    page = parse(client.get(reverse("account")).content)
    device = TOTPDevice.objects.get(user=ada)
    assert not device.confirmed
    qr = page.find("img", data_mfa_qr=True)
    assert qr.attrs["src"].startswith("data:image/svg+xml") and qr.attrs["alt"]
    secret = page.find(data_mfa_secret=True).text.replace(" ", "")
    assert secret and len(secret) == 32  # 20 random bytes in base32, for typing in

    wrong = client.post(reverse("mfa_confirm"), {"code": "000000"})
    assert wrong.status_code == 400
    assert "That code was not accepted" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    done = client.post(reverse("mfa_confirm"), {"code": code_for(device)})
    assert done.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    page = parse(client.get(reverse("account")).content)
    assert page.find(data_mfa_state="on")
    shown = [code.text for code in page.find(data_recovery_codes=True).find_all("code")]
    assert len(shown) == len(set(shown)) == 10
    assert sorted(shown) == sorted(StaticToken.objects.values_list("token", flat=True))
    # Shown once: the next visit says how many are left, not what they are.
    again = parse(client.get(reverse("account")).content)
    assert not again.find_all(data_recovery_codes=True)
    assert "10 unused recovery codes left" in again.find(data_recovery_left=True).text
    assert kinds(ada) == [Kind.MFA_ADDED, Kind.RECOVERY_CODES_CREATED]


def test_an_unconfirmed_authenticator_is_never_asked_for(client, ada):
    client.force_login(ada)
    client.post(reverse("mfa_start"))
    client.post(reverse("logout"))

    sign_in(client, ada)

    assert client.get("/my/").status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client, ada):
    with_authenticator(ada, recovery_codes=["oldcode1"])
    client.force_login(ada)
    session = client.session
    session["sso_issuer"] = "https://login.example.gov"  # no code step for this test
    session.save()

    assert client.post(reverse("mfa_recovery_codes")).status_code == 302

    codes = set(StaticToken.objects.filter(device__user=ada).values_list("token", flat=True))
    assert len(codes) == 10 and "oldcode1" not in codes
    assert kinds(ada) == [Kind.RECOVERY_CODES_CREATED]


def test_recovery_codes_need_an_authenticator_first(client, ada):
    client.force_login(ada)

    response = client.post(reverse("mfa_recovery_codes"))

    assert response.status_code == 400
    assert "Add an authenticator app first" in response.content.decode()
    assert not StaticDevice.objects.exists()


# -- signing in -------------------------------------------------------------------------


def test_after_the_password_only_the_code_page_opens_until_the_code_is_given(client, ada):
    device = with_authenticator(ada)
    sign_in(client, ada, next_url="/my/")

    asked = client.get("/my/")
    assert asked.status_code == 302
    assert asked["Location"] == f"{reverse('mfa_verify')}?next=%2Fmy%2F"
    assert client.get(asked["Location"]).status_code == 200
    # A form post or an htmx request is refused with the reason, and changes nothing.
    refused = client.post(reverse("mfa_recovery_codes"))
    assert refused.status_code == 403
    assert "Enter the code from your authenticator app first" in refused.content.decode()
    assert not StaticDevice.objects.exists()
    assert client.get("/my/", HTTP_HX_REQUEST="true").status_code == 403
    assert client.get(reverse("account")).status_code == 302
    # The read API, reached with the session, answers with a problem, not a page.
    api = client.get("/api/v1/goals/")
    assert (api.status_code, api["Content-Type"]) == (403, "application/problem+json")
    assert "authenticator app" in api.json()["detail"]

    accepted = enter_code(client, code_for(device), next_url="/my/")

    assert accepted.status_code == 302 and accepted["Location"] == "/my/"
    assert client.get("/my/").status_code == 200
    assert kinds(ada)[-1] == Kind.MFA_VERIFIED


def test_sign_out_stays_open_before_the_code(client, ada):
    with_authenticator(ada)
    sign_in(client, ada)

    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/my/")["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x"])
def test_the_code_page_only_sends_on_to_this_site(client, ada, next_url):
    device = with_authenticator(ada)
    sign_in(client, ada)

    response = enter_code(client, code_for(device), next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("portfolio")


def test_a_recovery_code_signs_in_once(client, ada):
    with_authenticator(ada, recovery_codes=["abcd2345", "efgh6789"])
    sign_in(client, ada)

    used = enter_code(client, "ABCD-2345")  # as typed from paper: case and hyphen ignored

    assert used.status_code == 302
    assert client.get("/my/").status_code == 200
    assert Kind.RECOVERY_CODE_USED in kinds(ada)
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["efgh6789"]
    client.post(reverse("logout"))
    sign_in(client, ada)
    again = enter_code(client, "abcd2345")
    assert again.status_code == 400
    assert "That code was not accepted" in again.content.decode()
    assert kinds(ada)[-1] == Kind.MFA_FAILED


def test_a_single_sign_on_session_is_not_asked_for_the_code(client, ada):
    with_authenticator(ada)
    client.force_login(ada)
    session = client.session
    session["sso_issuer"] = "https://login.example.gov"
    session.save()

    assert client.get("/my/").status_code == 200


def test_a_password_sign_in_after_single_sign_on_asks_for_the_code(client, ada):
    with_authenticator(ada)
    client.force_login(ada)
    session = client.session
    session["sso_issuer"] = "https://login.example.gov"
    session.save()

    sign_in(client, ada)

    assert client.get("/my/")["Location"].startswith(reverse("mfa_verify"))


def test_wrong_codes_count_as_failed_logins_and_lock_out_even_the_right_code(client, ada):
    device = with_authenticator(ada)
    sign_in(client, ada)

    statuses = [enter_code(client, "111111").status_code for _ in range(LIMIT)]

    assert statuses == [400] * (LIMIT - 1) + [429]
    locked = enter_code(client, code_for(device))
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert client.get("/my/").status_code == 302  # still not signed in
    assert kinds(ada).count(Kind.MFA_FAILED) == LIMIT
    # The password is refused too: the lock is on the username from this address.
    assert (
        Client()
        .post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR=OFFICE)
        .status_code
        == 429
    )


def test_signing_in_again_does_not_reset_the_count_of_wrong_codes(client, ada):
    with_authenticator(ada)
    sign_in(client, ada)
    for _ in range(LIMIT - 1):
        assert enter_code(client, "111111").status_code == 400
    client.post(reverse("logout"))

    sign_in(client, ada)

    assert enter_code(client, "111111").status_code == 429


def test_after_a_wrong_code_the_next_waits_for_the_pause_without_counting(client, ada, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp's default: 1 s, doubling
    device = with_authenticator(ada)
    sign_in(client, ada)
    assert enter_code(client, "111111").status_code == 400

    too_soon = enter_code(client, code_for(device))

    assert too_soon.status_code == 400
    assert "wait 1 second" in too_soon.content.decode()
    assert kinds(ada).count(Kind.MFA_FAILED) == 1
    assert AccessAttempt.objects.get(username="ada").failures_since_start == 1
    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(seconds=2)  # the pause is over
    device.save()
    assert enter_code(client, code_for(device)).status_code == 302


def test_the_right_code_clears_the_count(client, ada):
    device = with_authenticator(ada)
    sign_in(client, ada)
    enter_code(client, "111111")

    assert enter_code(client, code_for(device)).status_code == 302

    assert not AccessAttempt.objects.filter(username="ada").exists()


# -- administrators -----------------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = True


@pytest.fixture
def site_admin(db):
    return UserFactory(username="siteadmin", is_staff=True, is_superuser=True)


@pytest.fixture
def agency_admin(db):
    return AgencyRoleFactory(role="admin", user__username="agencyadmin").user


@pytest.mark.usefixtures("required")
@pytest.mark.parametrize("who", ["site_admin", "agency_admin"])
def test_an_administrator_without_a_second_factor_is_sent_to_set_one_up(client, request, who):
    admin = request.getfixturevalue(who)
    goal = GoalFactory()
    client.force_login(admin)

    sent = client.get(reverse("portfolio"))
    assert sent.status_code == 302 and sent["Location"] == f"{reverse('account')}#mfa"
    page = client.get(reverse("account"))
    assert page.status_code == 200
    assert "Administrators must use a second factor" in page.content.decode()
    # The page offers no token form the gate would refuse.
    tokens = parse(page.content).find(id="tokens")
    assert tokens.find_all(data_tokens_locked=True) and not tokens.find_all("form")
    refused = client.post(reverse("goal_edit", kwargs={"slug": goal.slug}), {"title": "New"})
    assert refused.status_code == 403
    assert "Administrators must use a second factor" in refused.content.decode()
    goal.refresh_from_db()
    assert goal.title != "New"
    # The set-up itself is open.
    assert client.post(reverse("mfa_start")).status_code == 302
    device = TOTPDevice.objects.get(user=admin)
    assert client.post(reverse("mfa_confirm"), {"code": code_for(device)}).status_code == 302
    assert client.get(reverse("portfolio")).status_code == 200
    assert parse(client.get(reverse("account")).content).find("form", class_="api-token-form")


@pytest.mark.usefixtures("required")
def test_everyone_else_is_only_offered_a_second_factor(client, ada):
    client.force_login(ada)

    assert client.get(reverse("portfolio")).status_code == 200


def test_with_the_requirement_off_administrators_are_only_offered_it(client, site_admin):
    client.force_login(site_admin)

    assert client.get(reverse("portfolio")).status_code == 200


@pytest.mark.usefixtures("required")
def test_an_administrator_with_a_second_factor_gives_the_code_like_anyone(client, site_admin):
    device = with_authenticator(site_admin)
    sign_in(client, site_admin)
    assert client.get(reverse("portfolio"))["Location"].startswith(reverse("mfa_verify"))

    enter_code(client, code_for(device))

    assert client.get(reverse("portfolio")).status_code == 200


def test_the_requirement_is_on_unless_switched_off(monkeypatch):
    monkeypatch.delenv("MFA_REQUIRED_FOR_ADMINS", raising=False)
    assert load_settings(monkeypatch, SECRET_KEY="x")["MFA_REQUIRED_FOR_ADMINS"] is True
    off = load_settings(monkeypatch, SECRET_KEY="x", MFA_REQUIRED_FOR_ADMINS="0")
    assert off["MFA_REQUIRED_FOR_ADMINS"] is False


# -- removal ------------------------------------------------------------------------------


def verified_client(client, user, device):
    sign_in(client, user)
    assert enter_code(client, code_for(device)).status_code == 302
    return client


def test_removing_the_second_factor_needs_a_code_or_the_password(client, ada):
    device = with_authenticator(ada, recovery_codes=["abcd2345"])
    verified_client(client, ada, device)

    nothing = client.post(reverse("mfa_remove"), {})
    assert nothing.status_code == 400
    assert "Enter a code from your app or your password" in nothing.content.decode()
    wrong = client.post(reverse("mfa_remove"), {"password": "not it"}, REMOTE_ADDR=OFFICE)
    assert wrong.status_code == 400
    assert "Nothing was removed" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=ada).exists()
    assert kinds(ada)[-1] == Kind.MFA_FAILED
    assert AccessAttempt.objects.get(username="ada").failures_since_start == 1

    removed = client.post(reverse("mfa_remove"), {"password": PASSWORD})

    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=ada).exists()
    assert not StaticDevice.objects.filter(user=ada).exists()
    assert kinds(ada)[-1] == Kind.MFA_REMOVED
    client.post(reverse("logout"))
    sign_in(client, ada)
    assert client.get("/my/").status_code == 200  # no code asked any more


def test_removing_with_a_current_code(client, ada):
    device = with_authenticator(ada)
    verified_client(client, ada, device)

    removed = client.post(reverse("mfa_remove"), {"code": code_for(device, steps_ahead=1)})

    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=ada).exists()


def test_an_administrator_removes_a_locked_out_users_second_factor(ada):
    with_authenticator(ada, recovery_codes=["abcd2345"])

    call_command("mfa_reset", "ada", reason="lost phone; identity checked by call")

    assert not TOTPDevice.objects.filter(user=ada).exists()
    event = SecurityEvent.objects.get(user=ada, kind=Kind.MFA_REMOVED)
    assert "lost phone" in event.detail and "mfa_reset" in event.detail


@pytest.mark.parametrize("model", ["otp_totp/totpdevice", "otp_static/staticdevice"])
def test_the_django_admin_offers_no_unrecorded_way_to_delete_devices(admin_client, model):
    assert admin_client.get(f"/admin/{model}/").status_code == 404


@pytest.mark.parametrize(
    ("username", "message"), [("nobody", "No user is named"), ("ada", "has no second factor")]
)
def test_the_reset_command_says_when_there_is_nothing_to_remove(ada, username, message):
    with pytest.raises(CommandError, match=message):
        call_command("mfa_reset", username, reason="test")
    assert not SecurityEvent.objects.exists()


def test_a_second_factor_removed_elsewhere_is_not_asked_for(client, ada):
    with_authenticator(ada)
    sign_in(client, ada)
    call_command("mfa_reset", "ada", reason="lost phone")

    answer = client.get(client.get("/my/")["Location"])

    assert answer.status_code == 302 and answer["Location"] == "/my/"
    assert client.get("/my/").status_code == 200
