import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from strategies.models import AgencyRole, AgencyRoleKind, Membership, Role
from tests.factories import GoalFactory

PASSWORD = "demo-password-1"


@pytest.fixture
def sdif(db):
    return GoalFactory(slug="sdif", short_name="SDIF")


def test_demo_users_get_one_role_each_on_the_goal(sdif, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)

    call_command("create_demo_users")
    call_command("create_demo_users")  # idempotent

    roles = dict(Membership.objects.filter(goal=sdif).values_list("user__username", "role"))
    assert roles == {
        "leader": Role.LEADER,
        "deputy": Role.DEPUTY,
        "contributor": Role.CONTRIBUTOR,
        "reviewer": Role.REVIEWER,
    }
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert not users.get(username="outsider").memberships.exists()
    # Axes' backend needs the login request to throttle by; any POST will do here.
    login_request = RequestFactory().post("/accounts/login/")
    assert authenticate(login_request, username="leader", password=PASSWORD) is not None


def test_demo_users_are_refused_outside_development(sdif, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)

    with pytest.raises(CommandError, match="development only"):
        call_command("create_demo_users")

    assert not get_user_model().objects.filter(username="leader").exists()


def test_a_short_demo_password_is_refused(sdif, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "short")

    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("create_demo_users")


def test_demo_users_hold_the_agency_wide_roles_over_the_goals_agency(sdif, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)

    call_command("create_demo_users")
    call_command("create_demo_users")  # idempotent

    held = set(AgencyRole.objects.values_list("user__username", "agency_id", "role"))
    assert held == {
        ("treasury-admin", sdif.agency_id, AgencyRoleKind.ADMIN),
        ("pio", sdif.agency_id, AgencyRoleKind.PERFORMANCE_OFFICE),
        ("examiner", sdif.agency_id, AgencyRoleKind.EXAMINER),
    }
    assert not get_user_model().objects.get(username="treasury-admin").is_staff
