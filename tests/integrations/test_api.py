"""The read API: what each user sees (as on the pages), and how it answers: problem+json
errors, cursor paging, ETags, the quarter filter, the rate limit, read-only methods."""

import datetime
import hashlib

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AccessToken
from milestones import services
from milestones.models import Milestone, Status
from strategies.periods import FiscalPeriod
from tests.factories import MilestoneFactory
from tests.integrations.conftest import bearer

LISTS = [
    "/api/v1/agencies/",
    "/api/v1/goals/",
    "/api/v1/strategies/",
    "/api/v1/milestones/",
    "/api/v1/status-updates/",
    "/api/v1/quarterly-updates/",
    "/api/v1/indicators/",
]


def objects_of(world, key):
    """{list URL: the id (slug for a goal) of ``key``'s object in it}."""
    objects = world[key]
    return {
        "/api/v1/agencies/": objects["goal"].agency_id,
        "/api/v1/goals/": objects["goal"].slug,
        "/api/v1/strategies/": objects["strategy"].pk,
        "/api/v1/milestones/": objects["milestone"].pk,
        "/api/v1/status-updates/": objects["status_update"].pk,
        "/api/v1/quarterly-updates/": objects["summary"].pk,
        "/api/v1/indicators/": objects["indicator"].pk,
    }


def detail_urls(world, key):
    """Every URL of ``key``'s objects: each detail and each history."""
    ids = objects_of(world, key)
    urls = [f"{base}{ident}/" for base, ident in ids.items()]
    urls += [
        f"{base}{ident}/history/"
        for base, ident in ids.items()
        if base not in ("/api/v1/agencies/", "/api/v1/status-updates/")
    ]
    return urls


def listed_ids(client, url, raw):
    response = client.get(url, **bearer(raw))
    assert response.status_code == 200
    return {item.get("slug", item.get("id")) for item in response.json()["results"]}


def test_a_member_reads_every_object_of_their_restricted_goal(client, api_world, token_for):
    raw = token_for(api_world["member"])
    for url, ident in objects_of(api_world, "r").items():
        assert ident in listed_ids(client, url, raw), url
    for url in detail_urls(api_world, "r"):
        assert client.get(url, **bearer(raw)).status_code == 200, url


def test_an_outsider_sees_nothing_of_a_restricted_goal(client, api_world, token_for):
    raw = token_for(api_world["outsider"])
    for url, ident in objects_of(api_world, "r").items():
        listed = listed_ids(client, url, raw)
        assert ident not in listed, url
        assert objects_of(api_world, "p")[url] in listed, url  # the public goal's are there
    for url in detail_urls(api_world, "r"):
        response = client.get(url, **bearer(raw))
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_a_goal_filter_names_the_goal_by_slug(client, api_world, token_for):
    raw = token_for(api_world["member"])
    ids = listed_ids(client, "/api/v1/milestones/?goal=public-goal", raw)
    assert ids == {api_world["p"]["milestone"].pk}
    outsider = token_for(api_world["outsider"])
    assert listed_ids(client, "/api/v1/milestones/?goal=restricted-goal", outsider) == set()


def test_indicators_come_with_their_values_and_say_whether_they_are_published(
    client, api_world, token_for
):
    raw = token_for(api_world["member"])
    url = f"/api/v1/indicators/{api_world['r']['indicator'].pk}/"
    body = client.get(url, **bearer(raw)).json()
    assert body["is_published"] is False  # internal: shown to signed-in readers, marked
    assert body["values"] == [
        {
            "period": "Q3 FY19",
            "target": "10.00",
            "actual": "8.00",
            "note": "",
            "updated_at": body["values"][0]["updated_at"],
        }
    ]
    assert client.get(url + "?quarter=Q2 FY19", **bearer(raw)).json()["values"] == []


def test_a_history_says_when_who_why_and_which_fields(client, api_world, token_for):
    milestone = api_world["r"]["milestone"]
    member = api_world["member"]
    services.record_status_update(
        milestone=milestone,
        user=member,
        status=Status.AT_RISK,
        comment="Slipping.",
        period=FiscalPeriod(2019, 4),
        expected_version=milestone.version,
    )
    raw = token_for(member)
    body = client.get(f"/api/v1/milestones/{milestone.pk}/history/", **bearer(raw)).json()
    newest, created = body["results"][0], body["results"][-1]
    assert newest["user"] == member.username
    assert newest["change"] == "changed"
    assert newest["reason"] == "Status update for Q4 FY19: On track → At risk"
    assert {"status", "comment"} <= set(newest["changed_fields"])
    assert created["change"] == "created"
    assert datetime.datetime.fromisoformat(newest["date"]) >= datetime.datetime.fromisoformat(
        created["date"]
    )
    spanish = client.get(
        f"/api/v1/milestones/{milestone.pk}/history/",
        HTTP_ACCEPT_LANGUAGE="es",
        **bearer(raw),
    ).json()
    assert spanish["results"][0]["reason"] != newest["reason"]  # in the reader's language


def test_history_is_narrowed_to_a_reporting_quarter(client, api_world, token_for):
    goal = api_world["r"]["goal"]
    raw = token_for(api_world["member"])
    url = f"/api/v1/goals/{goal.slug}/history/"
    assert len(client.get(url + "?quarter=Q4 FY19", **bearer(raw)).json()["results"]) == 1
    assert client.get(url + "?quarter=Q1 FY19", **bearer(raw)).json()["results"] == []


# -- how it answers ---------------------------------------------------------------------------


def test_the_quarter_filter_keeps_that_periods_objects(client, api_world, token_for):
    raw = token_for(api_world["member"])
    summary = api_world["r"]["summary"]
    assert summary.pk in listed_ids(client, "/api/v1/quarterly-updates/?quarter=Q3 FY19", raw)
    assert listed_ids(client, "/api/v1/quarterly-updates/?quarter=Q2 FY19", raw) == set()
    update = api_world["r"]["status_update"]
    assert update.pk in listed_ids(client, "/api/v1/status-updates/?quarter=q3 fy2019", raw)
    milestone = api_world["r"]["milestone"]  # due Q4 FY19
    assert milestone.pk in listed_ids(client, "/api/v1/milestones/?quarter=Q4 FY19", raw)
    assert milestone.pk not in listed_ids(client, "/api/v1/milestones/?quarter=Q3 FY19", raw)


@pytest.mark.parametrize("value", ["Q5 FY19", "yesterday", "Ongoing", ""])
def test_a_bad_quarter_is_a_400_problem_naming_the_parameter(client, api_world, token_for, value):
    raw = token_for(api_world["member"])
    response = client.get("/api/v1/status-updates/", {"quarter": value}, **bearer(raw))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] and problem["type"] == "about:blank" and problem["status"] == 400
    assert problem["detail"].startswith("quarter: ")
    assert list(problem["errors"]) == ["quarter"]


def test_cursor_paging_walks_every_object_once(client, api_world, token_for):
    goal = api_world["r"]["goal"]
    MilestoneFactory.create_batch(6, goal=goal)
    raw = token_for(api_world["member"])
    url, seen = "/api/v1/milestones/?page_size=2", []
    while url:
        page = client.get(url, **bearer(raw)).json()
        assert len(page["results"]) <= 2
        seen += [item["id"] for item in page["results"]]
        url = page["next"]
    expected = list(
        Milestone.objects.filter(goal__slug__in=["restricted-goal", "public-goal"])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert seen == expected  # no duplicate, no gap, in order


def test_a_bad_cursor_is_a_404_problem(client, api_world, token_for):
    raw = token_for(api_world["member"])
    response = client.get("/api/v1/milestones/?cursor=not-a-cursor", **bearer(raw))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_an_unchanged_answer_is_304_with_no_body(client, api_world, token_for):
    raw = token_for(api_world["member"])
    first = client.get("/api/v1/goals/", **bearer(raw))
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get("/api/v1/goals/", HTTP_IF_NONE_MATCH=etag, **bearer(raw))
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    weak = client.get("/api/v1/goals/", HTTP_IF_NONE_MATCH=f"W/{etag}", **bearer(raw))
    assert weak.status_code == 304


def test_a_change_gives_a_new_etag(client, api_world, token_for):
    raw = token_for(api_world["member"])
    etag = client.get("/api/v1/goals/", **bearer(raw))["ETag"]
    goal = api_world["p"]["goal"]
    goal.title = "Renamed"
    goal.save()
    changed = client.get("/api/v1/goals/", HTTP_IF_NONE_MATCH=etag, **bearer(raw))
    assert changed.status_code == 200
    assert changed["ETag"] != etag


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_405_problems(client, api_world, token_for, method):
    raw = token_for(api_world["member"])
    for url in ("/api/v1/goals/", "/api/v1/goals/public-goal/"):
        response = getattr(client, method)(url, **bearer(raw))
        assert response.status_code == 405
        assert response["Content-Type"] == "application/problem+json"
    # A signed-in browser too: 405, not a CSRF refusal.
    client.force_login(api_world["member"])
    assert client.post("/api/v1/goals/").status_code == 405


def test_a_signed_in_browser_reads_the_api_with_its_session(client, api_world):
    client.force_login(api_world["outsider"])
    assert "restricted-goal" not in {
        item["slug"] for item in client.get("/api/v1/goals/").json()["results"]
    }
    assert client.get("/api/v1/goals/restricted-goal/").status_code == 404


def test_an_unknown_address_under_api_is_a_404_problem(client, api_world, token_for):
    raw = token_for(api_world["member"])
    for url in ("/api/v1/nothing/", "/api/v2/goals/", "/api/v1/goals"):
        response = client.get(url, **bearer(raw))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert "/api/v1/goals/" in client.get("/api/v1/goals").json()["detail"]


def test_html_only_is_a_406_problem(client, api_world, token_for):
    raw = token_for(api_world["member"])
    response = client.get("/api/v1/goals/", HTTP_ACCEPT="text/html", **bearer(raw))
    assert response.status_code == 406
    assert response["Content-Type"] == "application/problem+json"


# -- tokens ------------------------------------------------------------------------------------


def test_no_credentials_is_401_with_a_bearer_challenge(client, api_world):
    response = client.get("/api/v1/goals/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/problem+json"


def test_expired_revoked_and_unknown_tokens_are_401(client, api_world, token_for):
    member = api_world["member"]
    expired = token_for(member, days=7)
    revoked = token_for(member)
    AccessToken.objects.filter(digest=hashlib.sha256(revoked.encode()).hexdigest()).update(
        revoked_at=timezone.now()
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        for raw, detail in (
            (expired, "expired"),
            (revoked, "revoked"),
            ("sdif_pat_" + "x" * 43, "not valid"),
        ):
            response = client.get("/api/v1/goals/", **bearer(raw))
            assert response.status_code == 401
            assert response["WWW-Authenticate"].startswith("Bearer")
            assert detail in response.json()["detail"]
    malformed = client.get("/api/v1/goals/", HTTP_AUTHORIZATION="Bearer two parts")
    assert malformed.status_code == 401


def test_a_deactivated_users_tokens_stop_working(client, api_world, token_for):
    raw = token_for(api_world["member"])
    assert client.get("/api/v1/goals/", **bearer(raw)).status_code == 200
    api_world["member"].is_active = False
    api_world["member"].save()
    assert client.get("/api/v1/goals/", **bearer(raw)).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(client, api_world, token_for):
    raw = token_for(api_world["member"])
    token = AccessToken.objects.get(digest=hashlib.sha256(raw.encode()).hexdigest())
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/goals/", **bearer(raw))
        token.refresh_from_db()
        assert token.last_used_at == start
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        client.get("/api/v1/goals/", **bearer(raw))
        token.refresh_from_db()
        assert token.last_used_at == start
    later = start + datetime.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        client.get("/api/v1/goals/", **bearer(raw))
        token.refresh_from_db()
        assert token.last_used_at == later


def test_too_many_requests_is_429_with_retry_after(client, api_world, token_for, settings):
    settings.API_RATE_LIMIT = "3/minute"
    raw, other = token_for(api_world["member"]), token_for(api_world["outsider"])
    for _ in range(3):
        assert client.get("/api/v1/goals/", **bearer(raw)).status_code == 200
    response = client.get("/api/v1/goals/", **bearer(raw))
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert 0 < int(response["Retry-After"]) <= 60
    # The budget is the token's: another token is not held back.
    assert client.get("/api/v1/goals/", **bearer(other)).status_code == 200
