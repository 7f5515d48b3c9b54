"""Signing in: the login, logout and password-change pages, where a
login lands (`next=` only when it is this site), failed-login throttling that forged
forwarding headers cannot dodge, the idle timeout and a fresh session key on login.

Throttling runs with django-axes enabled, as in production; the tests pin the limit
and cool-off through the `settings` fixture, and the last tests check that the
environment variables reach those settings.
"""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.helpers import SIGN_IN_VARIABLES, load_settings
from tests.html_dom import parse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # every UserFactory user's
WRONG = "not-the-password"
NEW_PASSWORD = "a brand new passphrase 2019"

LIMIT = 4  # neither axes' own default (3) nor ours (5): proves the setting is read
COOLOFF_MINUTES = 15

# Documentation address ranges (RFC 5737).
ATTACKER = "192.0.2.66"
OFFICE = "198.51.100.7"


@pytest.fixture(autouse=True)
def _throttling(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=COOLOFF_MINUTES)


@pytest.fixture
def ada(db):
    return UserFactory(username="ada")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def clock(monkeypatch):
    """Moves `django.utils.timezone.now` forward, which is what sessions expire by."""

    class Clock:
        offset = timedelta()

        def advance(self, **delta):
            self.offset += timedelta(**delta)

    clock = Clock()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + clock.offset)
    return clock


def log_in(client, username, password=PASSWORD, *, ip=OFFICE, url=None, **data_and_headers):
    """POST the login form as a browser at `ip` would."""
    data = {"username": username, "password": password}
    headers = {k: v for k, v in data_and_headers.items() if k.startswith("HTTP_")}
    data.update({k: v for k, v in data_and_headers.items() if k not in headers})
    return client.post(url or reverse("login"), data, REMOTE_ADDR=ip, **headers)


def lock_out(client, username, *, ip=ATTACKER):
    statuses = [log_in(client, username, WRONG, ip=ip).status_code for _ in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]


def signed_in(client):
    return client.get(reverse("portfolio")).status_code == 200


def get_page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


# -- the login page -------------------------------------------------------------------


def test_the_login_page_renders_in_the_app_layout_and_carries_next(client):
    page = get_page(client, reverse("login"), next="/goals/sdif/")

    assert page.find("a", class_="navbar-brand").text == "SDIF Tracker"
    form = page.find("main").find("form", method="post")
    inputs = {node.attrs.get("name") for node in form.find_all("input")}
    assert {"csrfmiddlewaretoken", "username", "password", "next"} <= inputs
    assert form.find("input", name="next").attrs["value"] == "/goals/sdif/"


def test_a_good_login_goes_to_the_portfolio(client, ada):
    response = log_in(client, "ada")

    assert response.status_code == 302
    assert response["Location"] == reverse("portfolio")
    assert signed_in(client)


def test_a_good_login_follows_a_next_on_this_site(client, ada):
    response = log_in(client, "ada", next="/goals/sdif/")

    assert response.status_code == 302
    assert response["Location"] == "/goals/sdif/"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example",
        "https://evil.example/goals/sdif/",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_a_next_to_another_site_lands_on_the_portfolio(client, ada, next_url):
    via_form = log_in(client, "ada", next=next_url)
    client.post(reverse("logout"))
    via_query = log_in(client, "ada", url=f"{reverse('login')}?{urlencode({'next': next_url})}")

    for response in (via_form, via_query):
        assert response.status_code == 302
        assert response["Location"] == reverse("portfolio")


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client, ada):
    response = log_in(client, "ada", WRONG)

    assert response.status_code == 200
    error = parse(response.content).find("main").find(class_="alert-danger")
    assert "Please enter a correct username and password" in error.text
    assert not signed_in(client)
    ada.refresh_from_db()
    assert ada.last_login is None


def test_logging_in_gives_a_new_session_key(client, ada):
    session = client.session  # an anonymous session, as a fixation attacker would plant
    session["seen_intro"] = True
    session.save()
    before = session.session_key

    log_in(client, "ada")

    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not SessionStore().exists(before)
    assert signed_in(client)


# -- failed-login throttling -----------------------------------------------------------


def test_after_the_failure_limit_even_the_right_password_is_refused(client, ada):
    lock_out(client, "ada")

    response = log_in(client, "ada", ip=ATTACKER)

    assert response.status_code == 429
    page = parse(response.content)
    assert page.find("a", class_="skip-link")  # the app's layout, not a bare message
    assert page.find("h1").text == "Too many failed logins"
    assert f"Wait {COOLOFF_MINUTES} minutes, then try again." in page.find("main").text
    assert not signed_in(client)


@pytest.mark.parametrize(("minutes", "wait"), [(1, "Wait 1 minute,"), (90, "Wait 90 minutes,")])
def test_the_lockout_page_says_how_long_to_wait(client, ada, settings, minutes, wait):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=minutes)
    lock_out(client, "ada")

    response = log_in(client, "ada", ip=ATTACKER)

    assert response.status_code == 429
    assert wait in parse(response.content).find("main").text


def test_rotating_forwarded_headers_does_not_reset_the_count(client, ada):
    # A new forged client address on every attempt: only a count kept by the
    # connection's own address (REMOTE_ADDR) can catch this.
    statuses = []
    for i in range(LIMIT + 1):
        forged = f"203.0.113.{i + 1}"
        response = log_in(
            client,
            "ada",
            WRONG if i < LIMIT else PASSWORD,
            ip=ATTACKER,
            HTTP_X_FORWARDED_FOR=forged,
            HTTP_X_REAL_IP=forged,
            HTTP_FORWARDED=f"for={forged}",
        )
        statuses.append(response.status_code)

    assert statuses == [200] * (LIMIT - 1) + [429, 429]
    assert not signed_in(client)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_the_locked_username_and_address_stay_locked_for_every_door(client, ada):
    lock_out(client, "ada", ip=ATTACKER)

    assert log_in(client, "ada", ip=ATTACKER).status_code == 429
    assert log_in(client, "ada", ip=ATTACKER, url=reverse("admin:login")).status_code == 429
    assert not signed_in(client)


def test_an_attacker_elsewhere_does_not_lock_the_real_user_out(client, ada):
    # The lock is on the username at the attacker's address; a lock on the username
    # alone would let anyone keep anyone out by failing on purpose.
    lock_out(client, "ada", ip=ATTACKER)

    assert log_in(client, "ada", ip=OFFICE).status_code == 302
    assert signed_in(client)


def test_a_locked_address_may_still_sign_in_as_another_user(client, ada, bob):
    # Colleagues behind one office address are not locked out by one of them.
    lock_out(client, "ada", ip=ATTACKER)

    assert log_in(client, "bob", ip=ATTACKER).status_code == 302
    assert signed_in(client)


def test_other_users_at_other_addresses_are_not_locked_out(client, ada, bob):
    lock_out(client, "ada", ip=ATTACKER)

    assert log_in(client, "bob", ip=OFFICE).status_code == 302
    assert signed_in(client)


def test_a_successful_login_clears_the_failures(client, ada):
    for _ in range(LIMIT - 1):
        assert log_in(client, "ada", WRONG).status_code == 200
    assert log_in(client, "ada").status_code == 302
    client.post(reverse("logout"))

    # Without the reset these would add up past the limit.
    for _ in range(LIMIT - 1):
        assert log_in(client, "ada", WRONG).status_code == 200
    assert log_in(client, "ada").status_code == 302


@pytest.mark.parametrize(
    ("minutes_ago", "status"),
    [(COOLOFF_MINUTES - 1, 429), (COOLOFF_MINUTES + 1, 302)],
    ids=["during-the-cooloff", "after-the-cooloff"],
)
def test_the_lock_lifts_once_the_cooloff_has_passed(client, ada, minutes_ago, status):
    lock_out(client, "ada")
    # The failures happened `minutes_ago`: axes counts only those within the cool-off.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes_ago))

    assert log_in(client, "ada", ip=ATTACKER).status_code == status
    assert signed_in(client) is (status == 302)


def test_attempts_while_locked_out_do_not_extend_the_wait(client, ada):
    lock_out(client, "ada")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    for _ in range(3):
        assert log_in(client, "ada", WRONG, ip=ATTACKER).status_code == 429
    assert log_in(client, "ada", ip=ATTACKER).status_code == 429

    # Two minutes on, the failures that caused the lock are past the cool-off: the
    # attempts made during the lock did not start it again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=2))

    assert log_in(client, "ada", ip=ATTACKER).status_code == 302


def test_the_admin_login_is_throttled_too(client, admin_user):
    url = reverse("admin:login")
    statuses = [
        log_in(client, "root", WRONG, ip=ATTACKER, url=url).status_code for _ in range(LIMIT)
    ]
    assert statuses == [200] * (LIMIT - 1) + [429]

    response = log_in(client, "root", "pw-not-used", ip=ATTACKER, url=url)

    assert response.status_code == 429
    assert parse(response.content).find("h1").text == "Too many failed logins"
    assert client.get(reverse("admin:index")).status_code == 302
    # One count for both doors: the app's login refuses the same username there.
    assert log_in(client, "root", "pw-not-used", ip=ATTACKER).status_code == 429


def test_many_failures_for_one_username_from_many_addresses_alert_but_do_not_lock(
    client, ada, settings, caplog
):
    settings.LOGIN_USERNAME_ALERT_LIMIT = 3 * LIMIT
    addresses = [f"203.0.113.{n}" for n in range(1, 7)]

    with caplog.at_level("WARNING", logger="sdif_tracker.login_throttle"):
        # Each address stays one failure short of its own lock.
        for address in addresses:
            for _ in range(LIMIT - 1):
                assert log_in(client, "ada", WRONG, ip=address).status_code == 200

    alerts = [r for r in caplog.records if r.name == "sdif_tracker.login_throttle"]
    assert [(r.levelname, r.getMessage()) for r in alerts] == [
        (
            "WARNING",
            f"Login alert: {3 * LIMIT} failed logins for username 'ada' from 4 addresses in "
            f"the last {COOLOFF_MINUTES} minutes; the account is not locked, each address "
            "is throttled on its own.",
        )
    ]
    assert log_in(client, "ada", ip=OFFICE).status_code == 302


# -- sessions ----------------------------------------------------------------------------


def test_a_session_idle_past_the_window_is_signed_out(client, ada, clock, settings):
    log_in(client, "ada")
    clock.advance(seconds=settings.SESSION_COOKIE_AGE + 60)

    response = client.get(reverse("portfolio"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_activity_within_the_window_keeps_the_session(client, ada, clock, settings):
    log_in(client, "ada")

    # Three requests, each a minute short of the window, add up to well past it.
    for _ in range(3):
        clock.advance(seconds=settings.SESSION_COOKIE_AGE - 60)
        assert client.get(reverse("portfolio")).status_code == 200


def test_the_session_cookie_is_secure_http_only_lax_and_ends_with_the_browser(client, ada):
    response = log_in(client, "ada")

    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def test_the_csrf_cookie_is_secure(client):
    response = client.get(reverse("login"))

    assert response.cookies[django_settings.CSRF_COOKIE_NAME]["secure"] is True


# -- logout ------------------------------------------------------------------------------


def test_logging_out_takes_a_post(client, ada):
    log_in(client, "ada")

    assert client.get(reverse("logout")).status_code == 405
    assert signed_in(client)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not signed_in(client)


def test_a_logout_without_the_csrf_token_is_refused(ada):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)

    assert client.post(reverse("logout")).status_code == 403
    assert signed_in(client)


# -- password change ---------------------------------------------------------------------


def change_password(client, old, new=NEW_PASSWORD):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_the_password_change_page_needs_a_login(client):
    url = reverse("password_change")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_the_nav_leads_a_signed_in_user_to_their_account_and_its_password_change(client, ada):
    assert not get_page(client, reverse("login")).find_all("a", href=reverse("account"))

    client.force_login(ada)

    nav = get_page(client, reverse("portfolio")).find("nav")
    assert nav.find("a", href=reverse("account")).text == "Your account"
    account = get_page(client, reverse("account"))
    assert account.find("a", href=reverse("password_change")).text == "Change password"


def test_the_password_change_page_renders_in_the_app_layout(client, ada):
    client.force_login(ada)

    page = get_page(client, reverse("password_change"))

    assert page.find("a", class_="skip-link")
    assert page.find("h1").text == "Change password"
    form = page.find("main").find("form", method="post")
    inputs = {node.attrs.get("name") for node in form.find_all("input")}
    assert {"csrfmiddlewaretoken", "old_password", "new_password1", "new_password2"} <= inputs


def test_changing_the_password_needs_the_old_one(client, ada):
    client.force_login(ada)

    response = change_password(client, old=WRONG)

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in parse(response.content).text
    ada.refresh_from_db()
    assert ada.check_password(PASSWORD)


def test_changing_the_password_keeps_the_user_signed_in(client, ada):
    client.force_login(ada)

    response = change_password(client, old=PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    done = get_page(client, reverse("password_change_done"))
    assert done.find("h1").text == "Password changed"
    client.post(reverse("logout"))
    assert log_in(client, "ada", PASSWORD).status_code == 200
    assert log_in(client, "ada", NEW_PASSWORD).status_code == 302


# -- configuration -----------------------------------------------------------------------


def test_sign_in_defaults(monkeypatch):
    loaded = load_settings(monkeypatch)

    assert loaded["AXES_FAILURE_LIMIT"] == 5
    assert loaded["AXES_COOLOFF_TIME"] == timedelta(minutes=15)
    assert loaded["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert loaded["AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT"] is False
    assert loaded["LOGIN_USERNAME_ALERT_LIMIT"] == 50
    assert loaded["AXES_RESET_ON_SUCCESS"] is True
    assert loaded["SESSION_COOKIE_AGE"] == 30 * 60
    assert loaded["SESSION_SAVE_EVERY_REQUEST"] is True
    assert loaded["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True


def test_sign_in_settings_come_from_the_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        LOGIN_FAILURE_LIMIT="8",
        LOGIN_COOLOFF_MINUTES="60",
        LOGIN_USERNAME_ALERT_LIMIT="200",
        SESSION_IDLE_MINUTES="10",
    )

    assert loaded["AXES_FAILURE_LIMIT"] == 8
    assert loaded["LOGIN_USERNAME_ALERT_LIMIT"] == 200
    assert loaded["AXES_COOLOFF_TIME"] == timedelta(minutes=60)
    assert loaded["SESSION_COOKIE_AGE"] == 10 * 60


@pytest.mark.parametrize("name", SIGN_IN_VARIABLES)
@pytest.mark.parametrize("value", ["five", "0", "-3"])
def test_a_bad_sign_in_setting_fails_loudly(monkeypatch, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        load_settings(monkeypatch, **{name: value})
