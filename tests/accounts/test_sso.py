"""Single sign-on against a real OpenID Provider (tests/oidc_provider: panva's
oidc-provider on Node), not mocked HTTP: the generic client (client_secret_basic) and
the Login.gov-style client (private_key_jwt, PKCE required, acr_values)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ExternalIdentity, SecurityEvent
from strategies.models import AgencyRole, AgencyRoleKind, Membership
from tests.factories import AgencyRoleFactory, UserFactory
from tests.helpers import load_settings
from tests.html_dom import parse
from tests.oidc_provider.server import (
    GENERIC_CLIENT,
    GENERIC_SECRET,
    LOGINGOV_CLIENT,
    confirm_logout_at_provider,
    log_in_at_provider,
    start_provider,
)

pytestmark = pytest.mark.django_db

IAL1 = "http://idmanagement.gov/ns/assurance/ial/1"
PASSWORD = "correct horse battery staple"  # UserFactory's


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running, pem = start_provider(
        tmp_path_factory.mktemp("oidc-provider"), site_urls=["http://testserver"]
    )
    running.client_key_file = pem
    yield running
    running.stop()


@pytest.fixture
def generic(settings, provider):
    """The app set up for a generic provider (Okta, Entra ID): a client secret."""
    cache.clear()  # the discovery document of an earlier test's provider set-up
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = GENERIC_CLIENT
    settings.OIDC_CLIENT_SECRET = GENERIC_SECRET
    settings.OIDC_CLIENT_AUTH = "client_secret_basic"
    settings.OIDC_PROVIDER_NAME = "Agency ID"
    return provider


@pytest.fixture
def logingov(settings, provider):
    """The app set up as a Login.gov relying party: private_key_jwt, PKCE, IAL1."""
    cache.clear()
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = LOGINGOV_CLIENT
    settings.OIDC_CLIENT_SECRET = ""
    settings.OIDC_CLIENT_AUTH = "private_key_jwt"
    settings.OIDC_PRIVATE_KEY_FILE = str(provider.client_key_file)
    settings.OIDC_ACR_VALUES = IAL1
    settings.OIDC_PROVIDER_NAME = "Login.gov"
    return provider


def start(client, next_url=None):
    response = client.get(reverse("sso_start"), {"next": next_url} if next_url else {})
    assert response.status_code == 302
    return response["Location"]


def sign_in(client, login, *, browser=None, next_url=None):
    """The whole journey: the app → the provider's login → back to the app."""
    browser = browser or requests.Session()
    callback = log_in_at_provider(browser, start(client, next_url), login)
    parts = urlsplit(callback)
    return client.get(parts.path, parse_qs(parts.query))


def signed_in_user(client):
    response = client.get(reverse("account"))
    if response.status_code != 200:
        return None
    return response.wsgi_request.user


def kinds():
    return list(SecurityEvent.objects.order_by("pk").values_list("kind", flat=True))


def messages_on_login_page(client):
    page = parse(client.get(reverse("login")).content)
    return page.find(id="messages").text


# -- generic provider: a new user, matching on sub, linking by email ----------------------


def test_a_first_sign_in_creates_a_user_with_no_role(client, generic):
    response = sign_in(client, "grace", next_url="/my/")

    assert response.status_code == 302
    assert response["Location"] == "/my/"
    user = signed_in_user(client)
    assert user.username == "grace"
    assert user.email == "grace@example.gov"
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()
    assert not AgencyRole.objects.filter(user=user).exists()
    identity = ExternalIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (generic.issuer, "grace")
    assert client.session["sso_issuer"] == generic.issuer
    assert kinds() == [SecurityEvent.Kind.SSO_ACCOUNT_CREATED, SecurityEvent.Kind.SIGNED_IN_SSO]
    assert generic.events("token")[-1]["auth"] == "client_secret_basic"


def test_the_same_subject_signs_in_the_same_user_after_its_email_changed(client, generic):
    sign_in(client, "hopper")
    first = signed_in_user(client)
    client.post(reverse("logout"))
    generic.set_account("hopper", email="g.hopper@navy.example.gov")

    sign_in(Client(), "hopper")
    again = Client()
    sign_in(again, "hopper")

    assert signed_in_user(again).pk == first.pk
    assert ExternalIdentity.objects.count() == 1
    assert kinds().count(SecurityEvent.Kind.SSO_ACCOUNT_CREATED) == 1


def test_a_new_subject_with_a_taken_email_is_not_the_earlier_user(client, generic):
    sign_in(client, "ada")
    generic.set_account("ada-2", email="ada@example.gov")

    other = Client()
    sign_in(other, "ada-2")

    # The first sign-in linked nobody (no local account had the email), so the second
    # subject finds the first one's account already linked at this issuer: a new user.
    assert signed_in_user(other).username == "ada-2"
    assert signed_in_user(other).pk != signed_in_user(client).pk


def test_a_first_sign_in_links_the_local_account_with_the_verified_email(client, generic):
    local = UserFactory(username="leader", email="Lin.Leader@example.gov")
    generic.set_account("lin", email="lin.leader@example.gov", email_verified=True)

    sign_in(client, "lin")

    assert signed_in_user(client).pk == local.pk
    assert ExternalIdentity.objects.get().user == local
    assert SecurityEvent.Kind.SSO_ACCOUNT_CREATED not in kinds()
    assert "linked by verified email" in SecurityEvent.objects.get().detail


@pytest.mark.parametrize("protected", ["site_admin", "agency_admin", "second_factor"])
def test_a_protected_account_is_never_linked_by_email_until_an_admin_links_it(
    client, generic, protected
):
    """An administrator's account, or one with a second factor, is not handed to whoever
    controls its email address at the provider (a single sign-on session skips the local
    second factor); a site administrator links it with link_sso_identity."""
    local = UserFactory(username="boss", email="boss@example.gov")
    if protected == "site_admin":
        local.is_staff = local.is_superuser = True
        local.save()
    elif protected == "agency_admin":
        AgencyRoleFactory(user=local, role=AgencyRoleKind.ADMIN)
    else:
        TOTPDevice.objects.create(user=local, name="phone", confirmed=True)
    generic.set_account("boss-at-idp", email="boss@example.gov", email_verified=True)

    sign_in(client, "boss-at-idp")

    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    assert get_user_model().objects.filter(email__iexact="boss@example.gov").count() == 1
    assert "protected" in messages_on_login_page(client)
    refused = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_REFUSED)
    assert "subject boss-at-idp" in refused.detail

    call_command("link_sso_identity", "boss", "boss-at-idp", reason="Checked in person.")
    again = Client()
    sign_in(again, "boss-at-idp")
    assert signed_in_user(again).pk == local.pk
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_LINKED, user=local).exists()


def test_an_unverified_email_links_nothing(client, generic):
    local = UserFactory(username="leader", email="lin@example.gov")
    generic.set_account("lin", email="lin@example.gov", email_verified=False)

    sign_in(client, "lin")

    user = signed_in_user(client)
    assert user.pk != local.pk
    assert user.username == "lin"
    assert not local.external_identities.exists()


def test_the_username_is_made_safe_and_unique(client, generic):
    UserFactory(username="obrien+sdif")
    generic.set_account("x1", email="O'Brien+SDIF@example.gov", email_verified=False)

    sign_in(client, "x1")

    assert signed_in_user(client).username == "obrien+sdif-2"


def test_an_email_that_is_not_an_address_is_refused(client, generic):
    generic.set_account("x2", email="<script>@example.gov")

    response = sign_in(client, "x2")

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert "not a valid email" in SecurityEvent.objects.get().detail


def test_a_first_sign_in_without_an_email_is_refused_and_creates_nothing(client, generic):
    generic.set_account("nomail", email=None)

    response = sign_in(client, "nomail")

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    assert "did not share your email address" in messages_on_login_page(client)
    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEvent.Kind.SSO_REFUSED
    assert "no email" in event.detail


def test_a_deactivated_user_is_refused(client, generic):
    UserFactory(username="gone", email="gone@example.gov", is_active=False)

    response = sign_in(client, "gone")

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert "deactivated" in messages_on_login_page(client)
    assert not ExternalIdentity.objects.exists()


# -- refusals: state, provider errors -----------------------------------------------------


def test_a_callback_with_a_state_this_session_never_made_is_refused(client, generic):
    browser = requests.Session()
    callback = log_in_at_provider(browser, start(Client()), "mallory")
    parts = urlsplit(callback)

    # Another session's code and state, replayed into this one.
    response = client.get(parts.path, parse_qs(parts.query))

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    assert "expired or was already used" in messages_on_login_page(client)
    # An answer no sign-in of this browser started is not logged: anyone can send one,
    # and would fill the security log with them.
    assert not SecurityEvent.objects.exists()


def test_a_callback_used_twice_signs_in_once(client, generic):
    browser = requests.Session()
    callback = log_in_at_provider(browser, start(client), "twice")
    parts = urlsplit(callback)
    client.get(parts.path, parse_qs(parts.query))
    client.post(reverse("logout"))

    response = client.get(parts.path, parse_qs(parts.query))

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None


def test_a_provider_error_is_refused_with_a_message(client, generic):
    start(client)
    state = next(iter(client.session["oidc_states"]))

    response = client.get(reverse("sso_callback"), {"error": "access_denied", "state": state})

    assert response["Location"] == reverse("login")
    assert "cancelled" in messages_on_login_page(client)
    assert SecurityEvent.objects.get().detail == "the provider answered error=access_denied"
    assert client.session["oidc_states"] == {}


def test_a_code_the_provider_does_not_know_is_refused(client, generic):
    start(client)
    state = next(iter(client.session["oidc_states"]))

    response = client.get(reverse("sso_callback"), {"code": "forged", "state": state})

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert "code exchange" in SecurityEvent.objects.get().detail


def test_an_unreachable_provider_is_refused_with_a_message(client, settings, generic):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing answers

    response = client.get(reverse("sso_start"))

    assert response["Location"] == reverse("login")
    assert "cannot be reached" in messages_on_login_page(client)


def test_sso_pages_are_not_found_when_no_provider_is_set_up(client, db):
    assert client.get(reverse("sso_start")).status_code == 404
    assert client.get(reverse("sso_callback"), {"code": "x", "state": "y"}).status_code == 404
    assert "data-sso-start" not in client.get(reverse("login")).content.decode()


# -- Login.gov: private_key_jwt, PKCE, acr_values ----------------------------------------


def test_login_gov_signs_in_with_a_client_assertion_pkce_and_ial1(client, logingov):
    authorization = urlsplit(start(client))
    query = parse_qs(authorization.query)
    assert query["acr_values"] == [IAL1]
    assert query["code_challenge_method"] == ["S256"]

    sign_in(client, "lg-user")

    assert signed_in_user(client).username == "lg-user"
    token = logingov.events("token")[-1]
    assert token == {
        "event": "token",
        "client": LOGINGOV_CLIENT,
        "auth": "private_key_jwt",
        "client_assertion": True,
        "code_verifier": True,
    }
    assert logingov.events("authorization")[-1]["acr_values"] == IAL1


def test_a_sign_in_below_the_level_asked_for_is_refused(client, settings, logingov):
    """acr_values travel through the browser; the ID token's acr is what counts. The
    provider offers IAL1 only, so asking for identity verification gets a token without
    that level, which the app refuses."""
    settings.OIDC_ACR_VALUES = "urn:acr.login.gov:verified"

    response = sign_in(client, "lg-user")

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    assert "not one asked for" in SecurityEvent.objects.get().detail


def test_login_gov_refuses_an_assertion_signed_with_another_key(
    client, settings, tmp_path, logingov
):
    from tests.oidc_provider.server import client_key

    settings.OIDC_PRIVATE_KEY_FILE = str(client_key(tmp_path)[0])

    response = sign_in(client, "lg-user")

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert "invalid_client" in SecurityEvent.objects.get().detail


def test_login_gov_refuses_a_sign_in_without_pkce(client, settings, logingov):
    settings.OIDC_USE_PKCE = False

    response = sign_in(client, "lg-user")

    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    # The provider requires PKCE of this client: it refuses at the authorization step.
    assert SecurityEvent.objects.get().detail == "the provider answered error=invalid_request"
    assert "requires PKCE" in logingov.events("authorization.error")[-1]["detail"]


# -- sign-out -----------------------------------------------------------------------------


def test_signing_out_ends_the_provider_session_too(client, generic):
    browser = requests.Session()
    sign_in(client, "leaving", browser=browser)
    id_token = client.session["oidc_id_token"]

    response = client.post(reverse("logout"))

    assert signed_in_user(client) is None
    end_session = urlsplit(response["Location"])
    assert f"{end_session.scheme}://{end_session.netloc}" == generic.issuer
    query = parse_qs(end_session.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    back = confirm_logout_at_provider(browser, response["Location"])
    assert back == "http://testserver/accounts/login/"
    assert generic.events("end_session")[-1]["client"] == GENERIC_CLIENT
    # The provider's session is over: the next sign-in asks for a login again.
    login_page = browser.get(start(Client()), allow_redirects=True)
    assert 'name="login"' in login_page.text
    assert SecurityEvent.Kind.SIGNED_OUT in kinds()


def test_login_gov_signs_out_with_its_client_id_and_no_id_token(client, settings, logingov):
    settings.OIDC_LOGOUT_ID_TOKEN_HINT = False
    browser = requests.Session()
    sign_in(client, "lg-leaving", browser=browser)

    response = client.post(reverse("logout"))

    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["client_id"] == [LOGINGOV_CLIENT]
    assert "id_token_hint" not in query
    assert confirm_logout_at_provider(browser, response["Location"]).endswith("/accounts/login/")
    assert logingov.events("end_session")[-1]["client"] == LOGINGOV_CLIENT


def test_signing_out_of_a_password_session_stays_here(client, generic):
    UserFactory(username="local")
    client.post(reverse("login"), {"username": "local", "password": PASSWORD})

    response = client.post(reverse("logout"))

    assert response["Location"] == reverse("login")


# -- the login page and LOCAL_PASSWORD_LOGIN ---------------------------------------------


def test_the_login_page_offers_the_provider_beside_the_password(client, generic):
    page = parse(client.get(reverse("login"), {"next": "/my/"}).content)

    button = page.find("a", data_sso_start=True)
    assert button.text == "Sign in with Agency ID"
    assert button.attrs["href"] == reverse("sso_start") + "?next=%2Fmy%2F"
    assert page.find_all("input", name="password")


def test_with_local_passwords_off_the_login_page_offers_only_sso(client, settings, generic):
    settings.LOCAL_PASSWORD_LOGIN = False

    page = parse(client.get(reverse("login")).content)

    assert not page.find_all("input", name="password")
    assert page.find("a", data_sso_start=True).text == "Sign in with Agency ID"


def test_with_local_passwords_off_a_posted_password_is_refused(client, settings, generic):
    settings.LOCAL_PASSWORD_LOGIN = False
    UserFactory(username="local")

    response = client.post(reverse("login"), {"username": "local", "password": PASSWORD})

    assert response.status_code == 403
    assert "turned off" in response.content.decode()
    assert signed_in_user(client) is None


def test_with_local_passwords_off_the_admin_login_sends_to_the_app_login(
    client, settings, generic
):
    settings.LOCAL_PASSWORD_LOGIN = False
    UserFactory(username="root", is_staff=True, is_superuser=True)

    assert client.get("/admin/login/")["Location"].startswith(reverse("login"))
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert signed_in_user(client) is None


def test_the_admin_login_works_as_before_with_local_passwords_on(client, db):
    UserFactory(username="root", is_staff=True, is_superuser=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD}
    )

    assert response["Location"] == "/admin/"


def test_an_offsite_next_is_ignored(client, generic):
    response = sign_in(client, "wanderer", next_url="https://evil.example/")

    assert response["Location"] == reverse("portfolio")


# -- settings -----------------------------------------------------------------------------

OIDC_VARIABLES = (
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_CLIENT_AUTH",
    "OIDC_PRIVATE_KEY_FILE",
    "LOCAL_PASSWORD_LOGIN",
)


@pytest.fixture
def fresh_settings(monkeypatch):
    for name in OIDC_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return lambda **env: load_settings(monkeypatch, **env)


def test_without_a_provider_nothing_of_sso_is_set_and_passwords_are_on(fresh_settings):
    loaded = fresh_settings()

    assert loaded["OIDC_ISSUER"] == ""
    assert loaded["LOCAL_PASSWORD_LOGIN"] is True


def test_a_provider_is_read_from_the_environment(fresh_settings):
    loaded = fresh_settings(
        OIDC_ISSUER="https://idp.int.identitysandbox.gov/",
        OIDC_CLIENT_ID="urn:gov:gsa:openidconnect.profiles:sp:sso:agency:sdif",
        OIDC_CLIENT_AUTH="private_key_jwt",
        OIDC_PRIVATE_KEY_FILE="/etc/sdif/key.pem",
        OIDC_ACR_VALUES=IAL1,
        LOCAL_PASSWORD_LOGIN="0",
    )

    assert loaded["OIDC_ISSUER"] == "https://idp.int.identitysandbox.gov"
    assert loaded["OIDC_ACR_VALUES"] == IAL1
    assert loaded["LOCAL_PASSWORD_LOGIN"] is False


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"OIDC_CLIENT_AUTH": "client_secret_jwt"}, "OIDC_CLIENT_AUTH must be one of"),
        ({"OIDC_CLIENT_AUTH": "private_key_jwt"}, "needs OIDC_PRIVATE_KEY_FILE"),
        ({"OIDC_CLIENT_AUTH": "client_secret_post"}, "needs OIDC_CLIENT_SECRET"),
    ],
)
def test_an_incomplete_provider_set_up_fails_loudly(fresh_settings, env, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        fresh_settings(OIDC_ISSUER="https://idp.example.gov", OIDC_CLIENT_ID="sdif", **env)


def test_passwords_cannot_be_turned_off_without_a_provider(fresh_settings):
    with pytest.raises(ImproperlyConfigured, match="nobody could sign in"):
        fresh_settings(LOCAL_PASSWORD_LOGIN="0")


@pytest.mark.parametrize(
    "params",
    [
        {"code": "x" * 5000, "state": "x" * 5000},
        {"code": "\u202e\ufeff", "state": "\x00"},
        {"error": "x" * 5000, "state": ""},
        {"error": "access_denied", "error_description": "<script>alert(1)</script>"},
        {"state": "only-a-state"},
        {},
    ],
)
def test_a_hostile_callback_is_refused_with_nothing_created(client, generic, params):
    start(client)

    response = client.get(reverse("sso_callback"), params)

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert signed_in_user(client) is None
    assert not ExternalIdentity.objects.exists()
    assert not SecurityEvent.objects.exists()  # no state of this browser's: not logged
    assert "<script>" not in messages_on_login_page(client)


def test_a_callback_with_a_mangled_session_is_refused(client, generic):
    session = client.session
    session["oidc_states"] = ["not", "a", "dict"]
    session.save()

    response = client.get(reverse("sso_callback"), {"code": "c", "state": "not"})

    assert response["Location"] == reverse("login")


def test_an_administrator_signed_in_through_sso_is_not_asked_for_the_local_second_factor(
    client, settings, generic
):
    settings.MFA_REQUIRED_FOR_ADMINS = True
    UserFactory(username="boss", email="boss@example.gov", is_staff=True, is_superuser=True)
    # An administrator's account is linked by a site administrator, never by its email.
    call_command("link_sso_identity", "boss", "boss", reason="Checked in person.")

    sign_in(client, "boss")

    assert client.session["sso_issuer"] == generic.issuer
    response = client.get(reverse("portfolio"))
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "boss"


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if "form-action" in part).strip()


def test_an_sso_session_s_pages_let_the_sign_out_form_reach_the_provider(client, generic):
    sign_in(client, "csp-user")

    # The sign-out form posts here, and its redirect goes to the provider.
    assert form_action(client.get(reverse("portfolio"))) == (
        f"form-action 'self' {generic.issuer}"
    )


def test_a_password_session_s_pages_allow_only_this_site_s_forms(client, generic):
    UserFactory(username="local")
    client.post(reverse("login"), {"username": "local", "password": PASSWORD})

    assert form_action(client.get(reverse("portfolio"))) == "form-action 'self'"
