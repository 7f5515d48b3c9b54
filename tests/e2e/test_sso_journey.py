"""Single sign-on in Chromium through a real OpenID Provider (tests/oidc_provider): a new
user signs in, has no role and sees no restricted goal; an administrator makes them the
goal's leader on the members page; they update a milestone. Once with the generic client
(client secret), once as Login.gov (private_key_jwt, PKCE, IAL1 acr_values)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import ExternalIdentity
from milestones.models import Status
from strategies.models import Sensitivity
from tests.e2e.helpers import assert_accessible, log_in
from tests.factories import GoalFactory, MilestoneFactory, UserFactory
from tests.oidc_provider.server import (
    GENERIC_CLIENT,
    GENERIC_SECRET,
    LOGINGOV_CLIENT,
    start_provider,
)

IAL1 = "http://idmanagement.gov/ns/assurance/ial/1"


@pytest.fixture(scope="module")
def provider(tmp_path_factory, live_server):
    running, pem = start_provider(
        tmp_path_factory.mktemp("oidc-provider-e2e"), site_urls=[live_server.url]
    )
    running.client_key_file = pem
    yield running
    running.stop()


CLIENTS = {
    "generic": {
        "OIDC_CLIENT_ID": GENERIC_CLIENT,
        "OIDC_CLIENT_SECRET": GENERIC_SECRET,
        "OIDC_CLIENT_AUTH": "client_secret_basic",
        "OIDC_PROVIDER_NAME": "Agency ID",
    },
    "logingov": {
        "OIDC_CLIENT_ID": LOGINGOV_CLIENT,
        "OIDC_CLIENT_AUTH": "private_key_jwt",
        "OIDC_ACR_VALUES": IAL1,
        "OIDC_PROVIDER_NAME": "Login.gov",
    },
}


@pytest.mark.parametrize("client_kind", list(CLIENTS))
def test_a_new_user_signs_in_is_given_a_role_and_updates_a_milestone(
    new_page, settings, provider, client_kind
):
    from django.core.cache import cache

    cache.clear()
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_PRIVATE_KEY_FILE = str(provider.client_key_file)
    for name, value in CLIENTS[client_kind].items():
        setattr(settings, name, value)
    goal = GoalFactory(title="Border wait times", sensitivity=Sensitivity.RESTRICTED)
    milestone = MilestoneFactory(goal=goal, title="Open the second lane")
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    login = f"nora-{client_kind}"

    page = new_page()
    page.goto("/accounts/login/")
    assert_accessible(page, "login with single sign-on")
    page.get_by_role(
        "link", name=f"Sign in with {CLIENTS[client_kind]['OIDC_PROVIDER_NAME']}"
    ).click()
    # The provider's own (development) login page: any password.
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.get_by_role("button", name="Sign-in").click()

    page.wait_for_url(re.compile(r"^http://localhost:\d+/$"))
    expect(page.locator("main")).to_contain_text("There are no goals you may see yet.")
    expect(page.locator("main")).not_to_contain_text("Border wait times")
    assert ExternalIdentity.objects.get(subject=login).user.username == login
    if client_kind == "logingov":
        assert provider.events("token")[-1] == {
            "event": "token",
            "client": LOGINGOV_CLIENT,
            "auth": "private_key_jwt",
            "client_assertion": True,
            "code_verifier": True,
        }
        assert provider.events("authorization")[-1]["acr_values"] == IAL1

    admin_page = new_page()
    log_in(admin_page, "admin", next_url=f"/goals/{goal.slug}/members/")
    admin_page.locator("#id_username").fill(login)
    admin_page.locator("#id_role").select_option("leader")
    admin_page.get_by_role("button", name="Add member").click()
    expect(admin_page.locator(f"tr[data-member={login}]")).to_be_visible()

    page.reload()
    page.get_by_role("link", name="Border wait times", exact=True).click()
    page.locator(f"#update-button-{milestone.pk}").click()
    form = page.locator("#edit-panel form")
    form.get_by_label("New status").select_option(Status.AT_RISK.value)
    form.get_by_label("Comment").fill("The second lane waits for staff.")
    form.get_by_role("button", name="Save update").click()
    row = page.locator(f"#milestone-{milestone.pk}")
    expect(row.locator(f'[data-status="{Status.AT_RISK.value}"]')).to_have_text(
        re.compile("At risk")
    )
    milestone.refresh_from_db()
    assert milestone.status == Status.AT_RISK
    assert milestone.history.first().history_user.username == login

    # Sign-out: here, then at the provider (it asks), then back to the login page.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{provider.issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(re.compile(r"^http://localhost:\d+/accounts/login/$"))
    assert provider.events("end_session")[-1]["client"] == CLIENTS[client_kind]["OIDC_CLIENT_ID"]
