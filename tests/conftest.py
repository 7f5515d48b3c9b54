import pytest
from django.contrib.auth import get_user_model

from strategies.models import Role
from tests.factories import GoalFactory, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic`; tests render templates without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def goal(db):
    return GoalFactory()


@pytest.fixture
def leader(goal):
    return MembershipFactory(goal=goal, role=Role.LEADER).user


@pytest.fixture
def reviewer(goal):
    return MembershipFactory(goal=goal, role=Role.REVIEWER).user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("root", "root@example.gov", "pw-not-used")


@pytest.fixture
def sdif_goal(db):
    """The real SDIF FY19 action plan, imported from the project's YAML file."""
    from pathlib import Path

    from django.conf import settings as django_settings

    from milestones.plan_yaml import import_plan

    return import_plan(Path(django_settings.BASE_DIR, "plans/sdif-fy19.yaml").read_text())


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.3 s a user; tests that make dozens of users would crawl.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
