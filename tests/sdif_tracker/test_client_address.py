"""Behind TRUSTED_PROXIES load balancers: lockouts and the audit record go by the
client's own address, not the balancer's, and forged header entries change nothing."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory, override_settings
from django.urls import reverse

from audit.client_address import client_address
from tests.factories import UserFactory

PASSWORD = "a-long-test-password"
WRONG = "not-the-password"
BALANCER = "10.0.0.5"
ALICE = "198.51.100.7"
MALLORY = "192.0.2.66"

pytestmark = pytest.mark.django_db


def address(remote, forwarded=None, proxies=1):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    with override_settings(TRUSTED_PROXIES=proxies):
        return client_address(request)


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        (None, 0, BALANCER),  # direct: the connection's address
        (f"{MALLORY}", 0, BALANCER),  # direct: the header is the client's word, ignored
        (f"{ALICE}", 1, ALICE),  # one balancer appended the client it saw
        (f"6.6.6.6, {ALICE}", 1, ALICE),  # a forged entry on the left is ignored
        (f"{ALICE}, 10.0.0.9", 2, ALICE),  # two proxies: the outer one saw the client
        (f"{ALICE}", 2, BALANCER),  # fewer entries than proxies: not through them
        ("", 1, BALANCER),
        (None, 1, BALANCER),
        ("not-an-address", 1, BALANCER),
        ("2001:db8::1", 1, "2001:db8::1"),
    ],
)
def test_the_client_address(forwarded, proxies, expected):
    assert address(BALANCER, forwarded, proxies) == expected


def log_in(client, username, password, forwarded):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=BALANCER,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@override_settings(TRUSTED_PROXIES=1, AXES_FAILURE_LIMIT=3)
def test_one_client_locked_out_behind_the_balancer_does_not_lock_out_the_others(client):
    UserFactory(username="alice", password=PASSWORD)
    # Mallory guesses Alice's password, forging a new leftmost address each time.
    statuses = [
        log_in(client, "alice", WRONG, f"203.0.113.{i}, {MALLORY}").status_code for i in range(3)
    ]

    assert statuses == [200, 200, 429]
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {MALLORY}
    # Alice, behind the same balancer at her own address, logs in.
    assert log_in(client, "alice", PASSWORD, ALICE).status_code == 302


@override_settings(TRUSTED_PROXIES=1)
def test_the_audit_record_keeps_the_client_address(client, admin_user):
    from tests.factories import StrategyFactory

    strategy = StrategyFactory(title="Old title")
    client.force_login(admin_user)
    change_url = reverse("admin:strategies_strategy_change", args=[strategy.pk])
    data = {
        "goal": strategy.goal_id,
        "number": strategy.number,
        "title": "New title",
        "description": "",
    }

    response = client.post(
        change_url, data, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {ALICE}"
    )

    assert response.status_code == 302, response.content[:500]
    assert strategy.history.latest().history_ip == ALICE


def test_a_bad_trusted_proxies_setting_fails_loudly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from tests.helpers import load_settings

    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        load_settings(monkeypatch, TRUSTED_PROXIES="-1")
