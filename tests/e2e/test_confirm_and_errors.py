"""Nothing irreversible on one click, and no dead ends, in Chromium, English and Spanish.

An admin publishes a quarter and deletes a strategy through their confirmation pages (and
cancels once); a reviewer meets the 403 page, anyone the 404, 500 and 503 pages. axe-core
finds no WCAG 2.1 A/AA violation on any of them, nor on the plan published at the end.
"""

import pytest
from django.db.utils import OperationalError
from django.urls import include, path, reverse
from django.utils import translation
from playwright.sync_api import expect

from milestones.models import ProgressSummary
from milestones.services import save_progress_summary
from strategies import services as plan_services
from strategies.models import Strategy
from strategies.periods import FiscalPeriod
from tests.e2e.helpers import PASSWORD, assert_accessible
from tests.helpers import clear_quarter_for_publishing

Q4_FY19 = FiscalPeriod(2019, 4)  # the SDIF plan ships published for Q3 FY19

# What each journey reads, in each language: the Spanish of a string is its translation,
# so the test checks the page is in the reader's language, not a wording.
LANGUAGES = {"en": "en-US", "es": "es-MX"}


def text(language, message):
    with translation.override(language):
        return translation.gettext(message)


def sign_in(page, username):
    """Through the login form, in whatever language the browser asks for."""
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _failing(message):
    def view(request):
        raise RuntimeError(message)

    return view


def _database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


# The app's URLs plus two that fail, with its handlers (``settings.ROOT_URLCONF``).
urlpatterns = [
    path("boom/", _failing("an error nobody expected")),
    path("database-gone/", _database_gone),
    path("", include("sdif_tracker.urls")),
]
handler403 = "sdif_tracker.views.errors.permission_denied"
handler500 = "sdif_tracker.views.errors.server_error"


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_admin_publishes_a_quarter_through_its_confirmation(
    new_page, sdif_goal, sdif_admin, language
):
    save_progress_summary(
        goal=sdif_goal,
        user=sdif_admin,
        period=Q4_FY19,
        summary="- Round two of the grants was awarded.",
        details={"next_steps": "- Publish the awards list.", "risk": "medium"},
    )
    # Submitted, approved by the agency and cleared by the examiner: ready to publish.
    clear_quarter_for_publishing(sdif_goal, Q4_FY19)
    page = new_page(locale=LANGUAGES[language])
    sign_in(page, "admin")
    page.goto(sdif_goal.get_plan_url())
    publish = page.locator("a[data-publish-link='Q4 FY19']")
    expect(publish).to_have_text(text(language, "Publish %(period)s…") % {"period": "Q4 FY19"})

    # Cancel first: nothing happens.
    publish.click()
    page.wait_for_url("**/goals/sdif/publish/?period=Q4*")
    page.get_by_role("link", name=text(language, "Cancel"), exact=True).click()
    page.wait_for_url("**/goals/sdif/plan/#publishing")
    assert not ProgressSummary.objects.get(goal=sdif_goal, period=Q4_FY19).is_published

    # Then for real: the page shows what will be frozen, and asks.
    page.locator("a[data-publish-link='Q4 FY19']").click()
    page.wait_for_url("**/goals/sdif/publish/?period=Q4*")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("h1")).to_have_text(
        text(language, "Publish the %(period)s update of %(goal)s?")
        % {"period": "Q4 FY19", "goal": sdif_goal.short_name}
    )
    expect(page.locator("[data-preview-update]")).to_contain_text(
        "Round two of the grants was awarded."
    )
    rows = page.locator("tr[data-preview-milestone]")
    expect(rows).to_have_count(sdif_goal.milestones.count())
    expect(rows.first.locator("[data-status]")).to_be_visible()
    assert_accessible(page, f"publish confirmation ({language})")
    assert not ProgressSummary.objects.get(goal=sdif_goal, period=Q4_FY19).is_published

    page.get_by_role(
        "button", name=text(language, "Publish %(period)s for good") % {"period": "Q4 FY19"}
    ).click()
    page.wait_for_url("**/goals/sdif/plan/?quarter=Q4+FY19")
    expect(page.locator("#messages .alert-success")).to_contain_text(
        text(language, "Published the %(period)s update. Its plan is frozen at this link.")
        % {"period": "Q4 FY19"}
    )
    expect(page.locator("[data-published-quarter='Q4 FY19']")).to_be_visible()
    assert ProgressSummary.objects.get(goal=sdif_goal, period=Q4_FY19).is_published
    assert_accessible(page, f"the plan just published ({language})")

    # The confirmation page again: it says why nothing more can be published.
    page.goto(reverse("publish_quarter", kwargs={"slug": sdif_goal.slug}) + "?period=Q4+FY19")
    expect(page.locator("[data-publish-problem]")).to_be_visible()
    expect(page.locator("form[data-publish-confirm]")).to_have_count(0)
    assert_accessible(page, f"publish confirmation of a published quarter ({language})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_admin_deletes_a_strategy_through_its_confirmation(
    new_page, sdif_goal, sdif_admin, language
):
    spare = plan_services.add_strategy(
        goal=sdif_goal, user=sdif_admin, number=9, title="Spare strategy", description="Unused."
    )
    busy = sdif_goal.strategies.order_by("number").first()
    page = new_page(locale=LANGUAGES[language])
    sign_in(page, "admin")

    # A strategy with milestones: its page says why it stays, and offers no button.
    page.goto(reverse("strategy_list", kwargs={"slug": sdif_goal.slug}))
    page.locator(f"a[data-delete-link='{busy.number}']").click()
    expect(page.locator("[data-delete-problem]")).to_be_visible()
    expect(page.locator("form[data-delete-confirm]")).to_have_count(0)
    expect(page.locator("[data-aligned-milestone]")).to_have_count(busy.milestones.count())
    assert_accessible(page, f"delete confirmation of a strategy in use ({language})")

    page.goto(reverse("strategy_list", kwargs={"slug": sdif_goal.slug}))
    page.locator("a[data-delete-link='9']").click()
    page.wait_for_url(f"**/strategies/{spare.pk}/delete/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("[data-removed-strategy='9']")).to_contain_text("Spare strategy")
    expect(page.locator("[data-aligned-count='0']")).to_have_text(
        text(language, "None: no key milestone is affected.")
    )
    assert_accessible(page, f"delete confirmation ({language})")
    assert Strategy.objects.filter(pk=spare.pk).exists()

    page.get_by_role(
        "button", name=text(language, "Delete strategy %(number)s") % {"number": 9}
    ).click()
    page.wait_for_url("**/goals/sdif/strategies/")
    expect(page.locator("#messages .alert-success")).to_have_text(
        text(language, "Deleted strategy %(number)d.") % {"number": 9}
    )
    expect(page.locator("section[data-strategy='9']")).to_have_count(0)
    assert not Strategy.objects.filter(pk=spare.pk).exists()
    assert_accessible(page, f"strategies after a deletion ({language})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_403_and_404_pages_say_what_happened_and_lead_back(
    new_page, sdif_goal, sdif_reviewer, language
):
    page = new_page(locale=LANGUAGES[language])
    sign_in(page, "reviewer")
    page.goto(sdif_goal.get_absolute_url())

    response = page.goto(reverse("goal_edit", kwargs={"slug": sdif_goal.slug}))
    assert response.status == 403
    expect(page.locator("main h1")).to_have_text(text(language, "Not allowed"))
    expect(page.locator("[data-refusal]")).to_be_visible()
    assert_accessible(page, f"403 ({language})")
    page.get_by_role("link", name=text(language, "Back to the portfolio")).click()
    page.wait_for_url(lambda url: url.endswith("/"))
    expect(page.locator("main h1")).not_to_have_text(text(language, "Not allowed"))

    for url in ("/goals/no-such-goal/", "/nothing-here/"):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("main h1")).to_have_text(text(language, "Page not found"))
        assert_accessible(page, f"404 at {url} ({language})")
    page.get_by_role("link", name=text(language, "Your goals")).click()
    page.wait_for_url("**/my/")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_500_and_503_pages_say_what_happened_and_lead_back(new_page, settings, db, language):
    settings.ROOT_URLCONF = __name__
    page = new_page(locale=LANGUAGES[language])

    response = page.goto("/boom/")
    assert response.status == 500
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("main h1")).to_have_text(text(language, "Something went wrong"))
    expect(page.locator("main")).not_to_contain_text("an error nobody expected")
    expect(page.get_by_role("link", name=text(language, "Try again"))).to_be_visible()
    assert_accessible(page, f"500 ({language})")

    response = page.goto("/database-gone/")
    assert response.status == 503
    assert response.headers["retry-after"].isdigit()
    expect(page.locator("main h1")).to_have_text(text(language, "Service temporarily unavailable"))
    assert_accessible(page, f"503 ({language})")
    page.get_by_role("link", name=text(language, "Back to the portfolio")).click()
    page.wait_for_url("**/accounts/login/?next=/")
