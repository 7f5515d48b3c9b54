"""The webhook pages in Chromium: registering with an error, then for real; the
endpoint's page with its secret and log; the notice of a disabled endpoint. Each state
passes axe (WCAG 2.1 A/AA)."""

from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import DeliveryAttempt, EventType, OutboxEvent, WebhookDelivery
from tests.e2e.helpers import assert_accessible, log_in


def test_an_admin_registers_a_webhook_and_reads_its_log(new_page, sdif_goal, sdif_admin, settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    page = new_page()
    log_in(page, "admin")
    page.goto(f"/goals/{sdif_goal.slug}/")
    page.locator("[data-plan-link=goal_webhooks]").click()
    assert_accessible(page, "webhooks, none yet")

    page.get_by_label("Receiver URL").fill("ftp://hooks.example.com/")
    page.get_by_role("button", name="Register webhook").click()
    expect(page.locator("[data-form-errors]")).to_be_visible()
    assert_accessible(page, "webhooks, a registration refused")

    page.get_by_label("Receiver URL").fill("http://127.0.0.1:8671/hook")
    page.get_by_role("button", name="Register webhook").click()
    expect(page.locator("[data-secret]")).to_contain_text("whsec_")
    assert_accessible(page, "a webhook, nothing sent yet")

    endpoint = sdif_goal.webhook_endpoints.get()
    event = OutboxEvent.objects.create(
        event_type=EventType.GOAL_CLOSED, goal=sdif_goal, payload={}
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
    DeliveryAttempt.objects.create(
        delivery=delivery, number=1, response_status=500, response_body="no"
    )
    DeliveryAttempt.objects.create(delivery=delivery, number=2, error="timed out")
    endpoint.is_active = False
    endpoint.disabled_at = timezone.now()
    endpoint.consecutive_failures = 5
    endpoint.save()
    page.reload()
    expect(page.locator("[data-attempt]")).to_have_count(2)
    assert_accessible(page, "a disabled webhook and its log")
    page.goto(f"/goals/{sdif_goal.slug}/webhooks/")
    expect(page.locator("[data-disabled-notice]")).to_be_visible()
    assert_accessible(page, "webhooks with a disabled one")
