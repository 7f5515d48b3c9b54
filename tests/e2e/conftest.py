"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Without /usr/bin/chromium the browser tests are skipped with one line saying how to
install it, except under CI=true, where a missing browser fails them.
"""

import os
import re
from pathlib import Path

import pytest

from strategies.models import Role
from tests.factories import MembershipFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


NO_CHROMIUM = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"


@pytest.fixture(scope="session", autouse=True)
def _chromium_present():
    if os.access(CHROMIUM, os.X_OK):
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and {NO_CHROMIUM}", pytrace=False)
    pytest.skip(NO_CHROMIUM)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    if (
        report.skipped
        and isinstance(report.longrepr, tuple)
        and report.longrepr[2].endswith(NO_CHROMIUM)
    ):
        # One place for every browser test, so `-ra` prints a single line.
        report.longrepr = (__file__, 1, report.longrepr[2])
    return report


@pytest.fixture
def new_page(request, browser, live_server):
    """Open a page in a fresh browser context (its own cookies) on the live server;
    on a failed test every page opened is saved as a screenshot under test-artifacts/."""
    contexts = []
    csp_violations = []

    def open_page(**context_args):
        context = browser.new_context(base_url=live_server.url, **context_args)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # Chromium reports what the Content-Security-Policy blocked on the console.
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and csp_violations.append(f"{page.url}: {message.text}")
            ),
        )
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                path = ARTIFACTS / f"{name}-{index}-{number}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as error:  # noqa: BLE001 - a screenshot must not mask the failure
                    print(f"could not save {path}: {error}")
                else:
                    print(f"screenshot: {path}")
    for context in contexts:
        context.close()
    # Every journey doubles as a check that the policy blocks nothing the app needs.
    assert not csp_violations, "\n".join(csp_violations)


@pytest.fixture
def member(sdif_goal):
    """Make a user with a role on the SDIF goal: ``member("leader", Role.LEADER)``."""

    def make(username, role):
        user = UserFactory(username=username, first_name=username.title())
        MembershipFactory(user=user, goal=sdif_goal, role=role)
        return user

    return make


@pytest.fixture
def sdif_leader(member):
    return member("leader", Role.LEADER)


@pytest.fixture
def sdif_deputy(member):
    return member("deputy", Role.DEPUTY)


@pytest.fixture
def sdif_reviewer(member):
    return member("reviewer", Role.REVIEWER)


@pytest.fixture
def sdif_admin(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)
