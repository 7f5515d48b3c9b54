"""The webhook pages: who sees them (site and agency administrators), registering an
endpoint with clear errors, the secret shown and rotated, the delivery log paged,
removing. The full who-gets-what grid is in the permission matrix (tests/url_map.py)."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent
from integrations.models import (
    DeliveryAttempt,
    EventType,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from strategies.models import AgencyRoleKind, Role
from tests.factories import (
    AgencyFactory,
    AgencyRoleFactory,
    GoalFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def goal():
    return GoalFactory(slug="hooked")


@pytest.fixture
def agency_admin(goal):
    return AgencyRoleFactory(agency=goal.agency, role=AgencyRoleKind.ADMIN).user


@pytest.fixture
def private_ok(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    return settings


def _list_url(goal):
    return f"/goals/{goal.slug}/webhooks/"


def _register(client, page, **fields):
    data = {"url": "http://127.0.0.1:8679/hook", "events": EventType.values, **fields}
    return client.post(page, data)


class TestWhoManages:
    def test_the_agency_administrator_registers_a_goal_webhook_and_sees_its_secret(
        self, client, goal, agency_admin, private_ok
    ):
        client.force_login(agency_admin)
        answer = _register(client, _list_url(goal), description="Dashboards")
        endpoint = WebhookEndpoint.objects.get()
        assert answer.status_code == 302
        assert answer["Location"] == f"/goals/hooked/webhooks/{endpoint.pk}/"
        assert endpoint.goal == goal and endpoint.created_by == agency_admin
        assert endpoint.events == EventType.values
        page = client.get(answer["Location"])
        assert endpoint.secret.encode() in page.content
        assert b"Webhook registered." in page.content

    def test_the_goal_leader_sees_the_goal_but_not_its_webhooks(self, client, goal, private_ok):
        leader = MembershipFactory(goal=goal, role=Role.LEADER).user
        client.force_login(leader)
        assert client.get(_list_url(goal)).status_code == 403
        assert _register(client, _list_url(goal)).status_code == 403
        assert WebhookEndpoint.objects.count() == 0

    def test_an_administrator_of_another_agency_manages_none_of_these(
        self, client, goal, private_ok
    ):
        elsewhere = AgencyFactory(name="Department of State")
        other = AgencyRoleFactory(agency=elsewhere, role=AgencyRoleKind.ADMIN).user
        endpoint = WebhookEndpoint.objects.create(goal=goal, url="https://a.example/", events=[])
        client.force_login(other)
        # The goal is internal (they see it), its webhooks are not theirs: 403.
        assert client.get(_list_url(goal)).status_code == 403
        assert client.get(f"/goals/hooked/webhooks/{endpoint.pk}/").status_code == 403
        # The agency's page is not theirs to see at all: 404.
        assert client.post(f"/agencies/{goal.agency_id}/webhooks/", {}).status_code == 404

    def test_an_endpoint_of_another_goal_is_not_found_here(self, client, goal, agency_admin):
        elsewhere = WebhookEndpoint.objects.create(
            goal=GoalFactory(agency=goal.agency), url="https://a.example/", events=[]
        )
        client.force_login(agency_admin)
        assert client.get(f"/goals/hooked/webhooks/{elsewhere.pk}/").status_code == 404
        assert (
            client.post(
                f"/goals/hooked/webhooks/{elsewhere.pk}/", {"action": "remove"}
            ).status_code
            == 404
        )
        assert WebhookEndpoint.objects.filter(pk=elsewhere.pk).exists()

    def test_the_agency_page_and_the_goal_header_link_to_the_webhooks(
        self, client, goal, agency_admin
    ):
        client.force_login(agency_admin)
        assert (
            f"/agencies/{goal.agency_id}/webhooks/".encode()
            in client.get(f"/agencies/{goal.agency_id}/").content
        )
        assert b"/goals/hooked/webhooks/" in client.get("/goals/hooked/").content

    def test_the_performance_office_sees_the_agency_page_without_the_link(self, client, goal):
        office = AgencyRoleFactory(agency=goal.agency, role=AgencyRoleKind.PERFORMANCE_OFFICE).user
        client.force_login(office)
        assert b"/webhooks/" not in client.get(f"/agencies/{goal.agency_id}/").content
        assert client.get(f"/agencies/{goal.agency_id}/webhooks/").status_code == 403

    def test_an_agency_webhook_is_registered_on_the_agency_page(
        self, client, goal, agency_admin, private_ok
    ):
        client.force_login(agency_admin)
        answer = _register(client, f"/agencies/{goal.agency_id}/webhooks/")
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.agency_id == goal.agency_id and endpoint.goal_id is None
        assert answer["Location"] == f"/agencies/{goal.agency_id}/webhooks/{endpoint.pk}/"
        assert client.get(answer["Location"]).status_code == 200


class TestFormErrors:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"url": ""}, b"Enter the receiver&#x27;s URL."),
            ({"url": "hooks.example.com"}, b"Enter a whole URL"),
            ({"url": "https://u:p@hooks.example.com/"}, b"Leave the user name and password out"),
            ({"events": []}, b"Choose at least one event to send."),
            ({"events": ["milestone.deleted"]}, b"Select a valid choice."),
            ({"url": "https://" + "x" * 600 + ".com/"}, b"at most 500 characters"),
        ],
    )
    def test_a_bad_registration_is_refused_with_its_reason_and_saves_nothing(
        self, client, goal, agency_admin, fields, message
    ):
        client.force_login(agency_admin)
        answer = _register(client, _list_url(goal), **fields)
        assert answer.status_code == 400
        assert message in answer.content
        assert b"Nothing was saved." in answer.content
        assert WebhookEndpoint.objects.count() == 0

    def test_a_loopback_target_is_refused_unless_allowed(
        self, client, goal, agency_admin, settings
    ):
        settings.WEBHOOKS_ALLOW_HTTP = False
        settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
        client.force_login(agency_admin)
        answer = _register(client, _list_url(goal), url="https://127.0.0.1:8679/hook")
        assert answer.status_code == 400
        assert b"webhooks are sent only to addresses on the public internet" in answer.content
        answer = _register(client, _list_url(goal), url="http://hooks.example.com/")
        assert answer.status_code == 400
        assert b"Use an https:// URL" in answer.content
        assert WebhookEndpoint.objects.count() == 0

    def test_an_unknown_action_changes_nothing(self, client, goal, agency_admin):
        endpoint = WebhookEndpoint.objects.create(goal=goal, url="https://a.example/", events=[])
        client.force_login(agency_admin)
        answer = client.post(f"/goals/hooked/webhooks/{endpoint.pk}/", {"action": "explode"})
        assert answer.status_code == 400
        assert b"Choose what to do with the endpoint." in answer.content
        assert WebhookEndpoint.objects.get().secret == endpoint.secret


class TestEndpointPage:
    def test_rotating_the_secret_replaces_it(self, client, goal, agency_admin):
        endpoint = WebhookEndpoint.objects.create(goal=goal, url="https://a.example/", events=[])
        client.force_login(agency_admin)
        answer = client.post(f"/goals/hooked/webhooks/{endpoint.pk}/", {"action": "rotate"})
        assert answer.status_code == 302
        rotated = WebhookEndpoint.objects.get()
        assert rotated.secret != endpoint.secret and rotated.secret.startswith("whsec_")
        page = client.get(answer["Location"])
        assert rotated.secret.encode() in page.content
        assert endpoint.secret.encode() not in page.content

    def test_removing_it_takes_its_log_too(self, client, goal, agency_admin):
        endpoint = WebhookEndpoint.objects.create(goal=goal, url="https://a.example/", events=[])
        event = OutboxEvent.objects.create(event_type=EventType.GOAL_CLOSED, goal=goal, payload={})
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        DeliveryAttempt.objects.create(delivery=delivery, number=1, response_status=500)
        client.force_login(agency_admin)
        answer = client.post(f"/goals/hooked/webhooks/{endpoint.pk}/", {"action": "remove"})
        assert answer.status_code == 302 and answer["Location"] == "/goals/hooked/webhooks/"
        assert not WebhookEndpoint.objects.exists() and not DeliveryAttempt.objects.exists()

    def test_the_delivery_log_shows_each_attempt_newest_first_paged(
        self, client, goal, agency_admin
    ):
        endpoint = WebhookEndpoint.objects.create(goal=goal, url="https://a.example/", events=[])
        event = OutboxEvent.objects.create(event_type=EventType.GOAL_CLOSED, goal=goal, payload={})
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        for number in range(1, 31):
            DeliveryAttempt.objects.create(
                delivery=delivery,
                number=number,
                response_status=500 if number < 30 else None,
                response_body=f"<b>body {number}</b>",
                error="timed out" if number == 30 else "",
            )
        client.force_login(agency_admin)
        page = client.get(f"/goals/hooked/webhooks/{endpoint.pk}/")
        content = page.content.decode()
        assert content.count("data-attempt=") == 25
        assert content.index('data-attempt="30"') < content.index('data-attempt="29"')
        assert "timed out" in content and "No answer" in content
        # The receiver's answer is shown as text, never as markup.
        assert "&lt;b&gt;body 29&lt;/b&gt;" in content and "<b>body" not in content
        older = client.get(f"/goals/hooked/webhooks/{endpoint.pk}/?page=2").content.decode()
        assert older.count("data-attempt=") == 5 and 'data-attempt="1"' in older
        assert client.get(f"/goals/hooked/webhooks/{endpoint.pk}/?page=x").status_code == 200

    def test_an_anonymous_visitor_is_sent_to_sign_in(self, client, goal):
        answer = client.get(_list_url(goal))
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]

    def test_an_outsider_gets_404(self, client, goal):
        client.force_login(UserFactory())
        from strategies.models import Sensitivity

        goal.sensitivity = Sensitivity.RESTRICTED
        goal.save()
        assert client.get(_list_url(goal)).status_code == 404


class TestRecorded:
    def test_registering_rotating_and_removing_are_in_the_security_log(
        self, client, goal, agency_admin, private_ok
    ):
        client.force_login(agency_admin)
        _register(client, _list_url(goal))
        endpoint = WebhookEndpoint.objects.get()
        client.post(f"/goals/hooked/webhooks/{endpoint.pk}/", {"action": "rotate"})
        client.post(f"/goals/hooked/webhooks/{endpoint.pk}/", {"action": "remove"})

        logged = SecurityEvent.objects.filter(kind__startswith="webhook_").order_by("at", "id")
        assert [(e.kind, e.user_id) for e in logged] == [
            (SecurityEvent.Kind.WEBHOOK_REGISTERED, agency_admin.pk),
            (SecurityEvent.Kind.WEBHOOK_SECRET_ROTATED, agency_admin.pk),
            (SecurityEvent.Kind.WEBHOOK_REMOVED, agency_admin.pk),
        ]
        assert all(
            f"goal hooked: http://127.0.0.1:8679/hook (#{endpoint.pk})" == e.detail for e in logged
        )
