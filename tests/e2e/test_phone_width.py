"""Issue 13, phones: at 390×844 no page scrolls sideways, for every role and every page
that role can open — the URLs of tests/url_map.py (what the permission matrix covers),
pointed at the real SDIF plan, plus the published quarter's plan, the dashboard grouped
by quarter, the login page and the error pages (403 and 404, whichever a role gets).

One browser context per role, signed in once; every page is measured, then one
assertion lists every page that overflowed."""

import pytest

from milestones import services
from milestones.models import Milestone, Status
from strategies.models import Role
from strategies.periods import FiscalPeriod
from tests.e2e.helpers import log_in
from tests.factories import (
    IndicatorFactory,
    ProgressSummaryFactory,
    StrategyFactory,
    UserFactory,
)
from tests.url_map import MATRIX, NOT_ALLOWED, url_for, webhook_endpoint

PHONE = {"width": 390, "height": 844}

# URLs that answer with a file or a redirect, not a page to read.
NOT_PAGES = {
    "audit_export",
    "quality_export",
    "goal_plan_pdf",
    "goal_plan_yaml",
    "goal_milestones_csv",
    "goal_milestones_xlsx",
    "milestones_csv",
    "milestones_xlsx",
    "healthz",
    "logout",
    "set_language",
    # Without htmx: a redirect to the milestone page, which is visited anyway.
    "milestone_update",
    # Posts only (a GET is 405), or a redirect: their answers are the account page,
    # visited anyway; single sign-on's two addresses are 404 with no provider set up.
    "token_create",
    "token_revoke",
    "mfa_verify",
    "mfa_start",
    "mfa_confirm",
    "mfa_recovery_codes",
    "mfa_remove",
    "sso_start",
    "sso_callback",
}
PAGE_NAMES = sorted(
    name
    for name, (_target, on_get, _on_post) in MATRIX.items()
    if name not in NOT_PAGES and on_get != NOT_ALLOWED
)

OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def sdif_world(goal):
    """What tests/url_map.url_for points URLs at, on the SDIF plan: its first strategy
    and milestone, a strategy with no milestones, its progress summary and an
    indicator."""
    strategy = goal.strategies.order_by("number").first()
    milestone = Milestone.objects.filter(goal=goal).order_by("position", "pk").first()
    # A status update with a long comment: the milestone page, its history and the
    # audit log have a long text to wrap.
    services.record_status_update(
        milestone=milestone,
        user=goal.memberships.get(role=Role.LEADER).user,
        status=Status.AT_RISK,
        comment="Counterpart-availability-dependent scheduling " * 6
        + "\nhttps://example.org/a/very/long/address/that/does/not/break/anywhere/at/all",
        period=FiscalPeriod(2019, 4),
        expected_version=milestone.version,
    )
    return {
        "goal": goal,
        "strategy": strategy,
        "empty_strategy": StrategyFactory(goal=goal, number=goal.strategies.count() + 1),
        "milestone": Milestone.objects.get(pk=milestone.pk),
        "summary": goal.progress_summaries.first() or ProgressSummaryFactory(goal=goal),
        "indicator": goal.indicators.first() or IndicatorFactory(goal=goal),
        "goal_webhook": webhook_endpoint(goal=goal),
        "agency_webhook": webhook_endpoint(agency=goal.agency),
    }


def paths_for(world):
    goal = world["goal"]
    paths = [url_for(name, target, world) for name in PAGE_NAMES for target in [MATRIX[name][0]]]
    return [
        *paths,
        f"{goal.get_plan_url()}?quarter=Q3+FY19",
        f"{goal.get_absolute_url()}?group=quarter",
        "/no-such-page/",
    ]


def overflowing(page, paths):
    """The paths whose page is wider than the window (with both widths and the status),
    or that failed on the server."""
    found = []
    for path in paths:
        response = page.goto(path)
        scroll_width, inner_width = page.evaluate(OVERFLOW)
        if scroll_width > inner_width or response.status >= 500:
            found.append(
                f"{path} (HTTP {response.status}): {scroll_width} px wide in {inner_width} px"
            )
    return found


@pytest.fixture
def world(sdif_goal, member):
    for role in Role:
        member(role.value, role)
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    UserFactory(username="outsider")
    return sdif_world(sdif_goal)


@pytest.mark.parametrize(
    ("username", "language"),
    [
        ("admin", "en"),
        ("leader", "en"),
        ("deputy", "en"),
        ("contributor", "en"),
        ("reviewer", "en"),
        ("outsider", "en"),
        # Spanish runs longer: the admin reaches every page.
        ("admin", "es"),
    ],
)
def test_no_page_scrolls_sideways_on_a_phone(new_page, world, username, language):
    page = new_page(viewport=PHONE)
    log_in(page, username)
    if language != "en":
        page.locator("#language-select").select_option(language)
        with page.expect_navigation():
            page.locator("[data-language-switcher] button[type=submit]").click()
        assert page.locator("html").get_attribute("lang") == language
    assert page.evaluate(OVERFLOW)[1] == PHONE["width"]

    assert overflowing(page, paths_for(world)) == []


def test_the_login_page_fits_a_phone(new_page, db):
    page = new_page(viewport=PHONE)
    assert overflowing(page, ["/accounts/login/", "/accounts/login/?next=/goals/sdif/"]) == []
    # Anonymous readers of a page are sent to log in; that page fits too.
    assert overflowing(page, ["/my/"]) == []
    assert "/accounts/login/" in page.url
