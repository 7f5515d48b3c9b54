import uuid

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
def staff_client(client, admin_user):
    """The test client, signed in as a superuser."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def sdif_goal(db):
    """The real SDIF FY19 action plan, imported from the project's YAML file."""
    from pathlib import Path

    from django.conf import settings as django_settings

    from milestones.plan_yaml import import_plan

    return import_plan(Path(django_settings.BASE_DIR, "plans/sdif-fy19.yaml").read_text())


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path_factory):
    # Stored files (published PDFs) are named by database ids, which the next test reuses:
    # each test writes into a folder of its own, made only when a file is stored.
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media" / uuid.uuid4().hex)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language, as each request does: Django's
    LocaleMiddleware activates a request's language in the thread and leaves it there,
    so a test ending on a Spanish page would otherwise hand Spanish to the next test's
    forms and services, and which test ran last would decide what a message says."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.3 s a user; tests that make dozens of users would crawl.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _flush_passes_the_history_truncate_trigger():
    """On PostgreSQL every history table refuses TRUNCATE, whoever asks. The one TRUNCATE
    meant to pass is this suite's reset after each transactional test: it runs as a
    superuser in replica mode, in which PostgreSQL fires no ordinary trigger."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        # execute_sql_flush runs them in one transaction, which SET LOCAL lasts for.
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


def pytest_collection_modifyitems(config, items):
    # Tests marked postgresql need its roles and triggers; on SQLite they are deselected
    # (counted in the summary), not skipped, and .ci/run fails if they select nothing.
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    deselected = [item for item in items if item.get_closest_marker("postgresql")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


def pytest_report_header(config):
    # .ci/run reads this line to prove the PostgreSQL run really ran on PostgreSQL.
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
