"""Personal access tokens on the account page: created with a name and an expiry, shown
once, stored as a digest, listed, revoked after a confirmation; each recorded."""

import hashlib
import re

import pytest
from django.urls import reverse

from accounts.models import AccessToken, SecurityEvent
from tests.html_dom import parse
from tests.integrations.conftest import bearer

TOKEN = re.compile(r"sdif_pat_[A-Za-z0-9_-]{43}")


@pytest.fixture
def member_client(client, api_world):
    client.force_login(api_world["member"])
    return client


def create(client, name="Nightly export", lifetime="30"):
    return client.post(reverse("token_create"), {"name": name, "lifetime": lifetime})


def test_a_new_token_is_shown_once_and_stored_as_its_digest(member_client, api_world):
    posted = create(member_client)
    # Post, redirect, get: reloading the page that shows the token makes no second one.
    assert posted.status_code == 302 and posted["Location"] == "/account/#tokens"
    response = member_client.get(posted["Location"])
    assert "no-store" in response["Cache-Control"]
    shown = parse(response.content).find(data_token_value=True).text
    assert TOKEN.fullmatch(shown)
    token = AccessToken.objects.get(user=api_world["member"])
    assert token.digest == hashlib.sha256(shown.encode()).hexdigest()
    assert token.name == "Nightly export"
    assert (token.expires_at - token.created_at).days == 30
    assert shown.removeprefix("sdif_pat_").startswith(token.hint)
    # Never again: the account page lists it by its first characters only.
    again = member_client.get(reverse("account")).content.decode()
    assert shown not in again
    assert f"sdif_pat_{token.hint}" in again
    # And it works.
    member_client.logout()
    assert member_client.get("/api/v1/goals/", **bearer(shown)).status_code == 200
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.TOKEN_CREATED)
    assert event.username == api_world["member"].username
    assert shown not in event.detail


@pytest.mark.parametrize(
    "name,lifetime",
    [("", "30"), ("   ", "30"), ("Export", "0"), ("Export", "3650"), ("Export", "never")],
)
def test_a_token_needs_a_name_and_an_offered_expiry(member_client, name, lifetime):
    response = create(member_client, name=name, lifetime=lifetime)
    assert response.status_code == 400
    assert not TOKEN.search(response.content.decode())
    assert not AccessToken.objects.exists()
    assert not SecurityEvent.objects.exclude(kind=SecurityEvent.Kind.SIGNED_IN).exists()


def test_revoking_asks_first_then_the_token_stops_working(member_client, api_world):
    shown = member_client.get(create(member_client)["Location"])
    raw = parse(shown.content).find(data_token_value=True).text
    token = AccessToken.objects.get()
    page = parse(member_client.get(reverse("account") + f"?revoke={token.pk}").content)
    confirm = page.find(data_revoke_confirm=str(token.pk))
    assert confirm.find("form").attrs["action"] == reverse("token_revoke")
    token.refresh_from_db()
    assert token.revoked_at is None  # showing the question changes nothing

    response = member_client.post(reverse("token_revoke"), {"token": token.pk})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_REVOKED).count() == 1
    member_client.logout()
    assert member_client.get("/api/v1/goals/", **bearer(raw)).status_code == 401


def test_nobody_revokes_another_users_token(client, api_world, token_for):
    raw = token_for(api_world["member"])
    token = AccessToken.objects.get()
    client.force_login(api_world["outsider"])
    assert client.post(reverse("token_revoke"), {"token": token.pk}).status_code == 404
    page = client.get(reverse("account") + f"?revoke={token.pk}").content.decode()
    assert "data-revoke-confirm" not in page
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.get("/api/v1/goals/", **bearer(raw)).status_code == 200


@pytest.mark.parametrize("data", [{}, {"token": "x"}, {"token": "-1"}, {"token": "9" * 30}])
def test_a_revocation_that_names_no_token_changes_nothing(
    member_client, token_for, api_world, data
):
    token_for(api_world["member"])
    response = member_client.post(reverse("token_revoke"), data)
    assert response.status_code == 400
    assert AccessToken.objects.get().revoked_at is None


def test_the_account_page_lists_the_users_tokens_only(client, api_world, token_for):
    token_for(api_world["member"])
    client.force_login(api_world["outsider"])
    page = parse(client.get(reverse("account")).content)
    assert page.find_all(data_no_tokens=True)
    assert page.find_all("tr", data_token=True) == []
