"""In Chromium: a person creates a personal access token on their account page, copies
it (shown once), revokes it after confirming; the API's documentation renders from the
site's own static files under its Content-Security-Policy (the ``new_page`` fixture
fails the test on any violation)."""

from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, log_in
from tests.factories import UserFactory


def test_a_person_creates_uses_and_revokes_a_token(new_page, live_server, db):
    UserFactory(username="analyst")
    page = new_page()
    log_in(page, "analyst", next_url="/account/")
    tokens = page.locator("#tokens")
    expect(tokens.get_by_text("You have no tokens.")).to_be_visible()

    tokens.get_by_label("Name").fill("Quarterly dashboard")
    tokens.get_by_label("Expires after").select_option(label="7 days")
    tokens.get_by_role("button", name="Create token").click()
    value = page.locator("[data-token-value]")
    expect(value).to_be_visible()
    raw = value.inner_text()
    assert raw.startswith("sdif_pat_")
    assert_accessible(page, "account page with a new token")

    answer = page.request.get(
        f"{live_server.url}/api/v1/goals/", headers={"Authorization": f"Bearer {raw}"}
    )
    assert answer.status == 200

    page.goto("/account/")
    expect(page.locator("[data-token-value]")).to_have_count(0)  # shown once only
    page.get_by_role("link", name="Revoke Quarterly dashboard").click()
    confirm = page.locator("[data-revoke-confirm]")
    expect(confirm).to_be_visible()
    assert_accessible(page, "token revocation confirmation")
    confirm.get_by_role("button", name="Revoke “Quarterly dashboard”").click()
    expect(page.locator("[data-token-state=revoked]")).to_be_visible()

    refused = page.request.get(
        f"{live_server.url}/api/v1/goals/", headers={"Authorization": f"Bearer {raw}"}
    )
    assert refused.status == 401


def test_the_api_docs_render_offline_under_the_sites_policy(new_page, live_server, db):
    page = new_page()
    elsewhere = []
    page.on(
        "request",
        lambda request: (
            not request.url.startswith(live_server.url) and elsewhere.append(request.url)
        ),
    )
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SDIF Tracker API")
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock-summary-path", has_text="/api/v1/goals/").count()
    assert elsewhere == []  # no CDN, no font service: everything from this site
