"""What every page shares from base.html: the breadcrumb trail, and only scripts that exist;
and the error pages (403, 404, 429, 500, 503) in the site's layout, in both languages."""

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client
from django.urls import include, path, reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from sdif_tracker.views import errors
from tests.factories import MilestoneFactory, StrategyFactory, UserFactory
from tests.html_dom import parse

pytestmark = pytest.mark.django_db


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return parse(response.content)


def trail(document):
    """The breadcrumb items as (text, href, aria-current)."""
    navs = document.find_all("nav", aria_label="Breadcrumb")
    assert len(navs) == 1, f"{len(navs)} breadcrumb navs"
    items = navs[0].find("ol", class_="breadcrumb").find_all("li", class_="breadcrumb-item")
    return [
        (
            item.text,
            links[0].attrs["href"] if (links := item.find_all("a")) else None,
            item.attrs.get("aria-current"),
        )
        for item in items
    ]


def test_the_dashboard_trail_ends_at_the_goal(client, leader, goal):
    document = page(client, leader, reverse("goal_dashboard", kwargs={"slug": goal.slug}))

    assert trail(document) == [
        ("Portfolio", reverse("portfolio"), None),
        (goal.short_name or goal.title, None, "page"),
    ]


def test_a_milestone_trail_runs_through_its_goal(client, leader, goal):
    milestone = MilestoneFactory(goal=goal, strategy=StrategyFactory(goal=goal))

    document = page(client, leader, milestone.get_absolute_url())

    assert trail(document) == [
        ("Portfolio", reverse("portfolio"), None),
        (goal.short_name or goal.title, goal.get_absolute_url(), None),
        ("Key milestone", None, "page"),
    ]


def test_the_trail_is_translated(client, leader, goal):
    client.force_login(leader)
    url = reverse("goal_dashboard", kwargs={"slug": goal.slug})
    document = parse(client.get(url, headers={"accept-language": "es"}).content)

    assert document.find_all("nav", aria_label="Ruta de navegación")
    assert document.find("ol", class_="breadcrumb").find("a").text == "Portafolio"


@pytest.mark.parametrize("name", ["portfolio", "my_goals"])
def test_a_page_without_a_trail_has_no_breadcrumb_nav(client, leader, name):
    document = page(client, leader, reverse(name))

    assert not document.find_all("nav", aria_label="Breadcrumb")
    assert not document.find_all("ol", class_="breadcrumb")


def test_every_script_a_page_loads_is_a_shipped_file(client, leader, goal, settings):
    document = page(client, leader, reverse("goal_dashboard", kwargs={"slug": goal.slug}))

    sources = [script.attrs["src"] for script in document.find_all("script", src=True)]
    assert sources
    for src in sources:
        assert src.startswith(settings.STATIC_URL), src
        assert finders.find(src.removeprefix(settings.STATIC_URL)), f"{src} is not shipped"


# -- the error pages ----------------------------------------------------------------------


def _refuse_queries(attempts):
    """An ``execute_wrapper`` for a database that cannot be reached: every query raises
    ``OperationalError`` (as psycopg does when the server is gone), and is noted."""

    def refuse(execute, sql, params, many, context):
        attempts.append(sql)
        raise OperationalError("connection to server failed: Connection refused")

    return refuse


def _boom(request):
    raise RuntimeError("an error nobody expected")


def _database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


# The app's URLs with two that fail (``@pytest.mark.urls(__name__)``), and its handlers.
urlpatterns = [
    path("boom/", _boom),
    path("database-gone/", _database_gone),
    path("", include("sdif_tracker.urls")),
]
handler403 = "sdif_tracker.views.errors.permission_denied"
handler500 = "sdif_tracker.views.errors.server_error"


def in_language(language, text):
    with translation.override(language):
        return translation.gettext(text)


def error_page(response, status, language):
    """The error page's part of ``response``, after checking what every error page has:
    the status, the site's header and main landmark, the language, the page's heading."""
    assert response.status_code == status, response.status_code
    document = parse(response.content)
    assert document.find("html").attrs["lang"] == language
    assert document.find("header").find("nav", aria_label=in_language(language, "Main"))
    page = document.find("main", id="main").find(data_error_page=str(status))
    assert len(document.find_all("h1")) == 1
    return document, page


def links(node) -> dict[str, str]:
    return {a.visible_text: a.attrs["href"] for a in node.find_all("a")}


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_page_that_does_not_exist_is_the_sites_404_with_the_way_back(client, leader, language):
    client.force_login(leader)

    response = client.get("/no-such-page/", headers={"accept-language": language})

    document, page = error_page(response, 404, language)
    assert page.find("h1").text == in_language(language, "Page not found")
    ways = links(page)
    assert ways[in_language(language, "Back to the portfolio")] == reverse("portfolio")
    assert ways[in_language(language, "Your goals")] == reverse("my_goals")
    # The site's own header: the user's menu is there.
    assert leader.get_username() in document.find("header").text
    if language == "es":
        assert "Volver al portafolio" in ways


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_refusal_is_the_sites_403_with_the_reason_and_the_way_back(
    client, goal, reviewer, language
):
    client.force_login(reviewer)
    dashboard = goal.get_absolute_url()

    response = client.get(
        reverse("goal_edit", kwargs={"slug": goal.slug}),
        headers={"accept-language": language, "referer": f"http://testserver{dashboard}"},
    )

    _, page = error_page(response, 403, language)
    assert page.find("h1").text == in_language(language, "Not allowed")
    assert page.find(data_refusal=True).text == in_language(
        language,
        "Your role does not allow this change. Ask the goal's leader or an administrator if "
        "you need it.",
    )
    ways = links(page)
    assert ways[in_language(language, "Back to the previous page")] == (
        f"http://testserver{dashboard}"
    )
    assert ways[in_language(language, "Back to the portfolio")] == reverse("portfolio")
    if language == "es":
        assert page.find("h1").text == "No permitido"


def test_the_403_offers_no_way_back_to_another_site(client, goal, reviewer):
    client.force_login(reviewer)

    response = client.get(
        reverse("goal_edit", kwargs={"slug": goal.slug}),
        headers={"referer": "https://elsewhere.example/phish"},
    )

    _, page = error_page(response, 403, "en")
    assert "https://elsewhere.example/phish" not in links(page).values()
    assert not page.find_all(data_go_back=True)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", ["en", "es"])
def test_an_unexpected_error_is_the_500_page_rendered_without_the_database(db, language):
    """Anonymous, so that nothing before the view needs the database: the 500 page itself
    asks it nothing (every query would fail, and is counted)."""
    client = Client(raise_request_exception=False)
    attempts = []

    with connection.execute_wrapper(_refuse_queries(attempts)):
        response = client.get("/boom/", headers={"accept-language": language})

    _, page = error_page(response, 500, language)
    assert attempts == []
    assert page.find("h1").text == in_language(language, "Something went wrong")
    ways = links(page)
    assert ways[in_language(language, "Try again")] == ""  # this address, again
    assert ways[in_language(language, "Back to the portfolio")] == reverse("portfolio")
    assert "an error nobody expected" not in response.content.decode()


def test_the_500_page_never_asks_for_the_user_or_the_session(rf):
    request = rf.get("/anything/", headers={"accept-language": "es"})
    request.user = SimpleLazyObject(lambda: pytest.fail("the 500 page asked for the user"))
    request.session = SimpleLazyObject(lambda: pytest.fail("the 500 page asked for the session"))

    with connection.execute_wrapper(_refuse_queries(attempts := [])):
        response = errors.server_error(request)

    _, page = error_page(response, 500, "es")
    assert attempts == []
    assert page.find("h1").text == in_language("es", "Something went wrong")


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", ["en", "es"])
def test_while_the_database_is_unreachable_a_signed_in_user_gets_the_503_page(
    client, leader, goal, language
):
    client.force_login(leader)
    client.raise_request_exception = False
    attempts = []

    with connection.execute_wrapper(_refuse_queries(attempts)):
        response = client.get(goal.get_absolute_url(), headers={"accept-language": language})

    assert attempts  # the session or the user was asked for, and the database refused
    _, page = error_page(response, 503, language)
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert response["Cache-Control"] == "no-store"
    assert page.find("h1").text == in_language(language, "Service temporarily unavailable")
    ways = links(page)
    assert ways[in_language(language, "Try again")] == ""
    assert ways[in_language(language, "Back to the portfolio")] == reverse("portfolio")
    assert page.find(data_retry_after=str(errors.RETRY_AFTER_SECONDS))
    if language == "es":
        assert page.find("h1").text == "Servicio no disponible por el momento"


@pytest.mark.urls(__name__)
def test_a_database_error_in_a_view_is_503_not_500(db):
    response = Client(raise_request_exception=False).get("/database-gone/")

    _, page = error_page(response, 503, "en")
    assert response["Retry-After"].isdigit()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_login_lockout_is_429_in_the_layout_saying_when_to_try_again(
    client, settings, language
):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="ada")
    headers = {"accept-language": language}
    for _ in range(2):
        response = client.post(
            reverse("login"), {"username": "ada", "password": "wrong"}, headers=headers
        )

    assert response.status_code == 429
    document = parse(response.content)
    assert document.find("html").attrs["lang"] == language
    main = document.find("main", id="main")
    assert main.find("h1").text == in_language(language, "Too many failed logins")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert str(minutes) in main.find(data_lockout_wait=True).text
    assert links(main)[in_language(language, "Back to the login page")] == reverse("login")
    if language == "es":
        assert main.find("h1").text == "Demasiados intentos fallidos de inicio de sesión"


def test_a_404_while_the_database_is_unreachable_is_the_503_page(client, leader):
    """The 404 page's layout asks for the user: with the database gone, it is the 503."""
    client.force_login(leader)
    client.raise_request_exception = False

    with connection.execute_wrapper(_refuse_queries(attempts := [])):
        response = client.get("/no-such-page/")

    assert attempts
    _, page = error_page(response, 503, "en")
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_form_without_its_csrf_token_is_the_sites_403_saying_nothing_was_saved(
    leader, goal, language
):
    milestone = MilestoneFactory(goal=goal, comment="As it was.")
    client = Client(enforce_csrf_checks=True)
    client.force_login(leader)

    response = client.post(
        reverse("milestone_update", kwargs={"slug": goal.slug, "pk": milestone.pk}),
        {"status": "at_risk", "comment": "Sent from elsewhere."},
        headers={"accept-language": language},
    )

    _, refused = error_page(response, 403, language)
    assert refused.find(data_refusal=True).text == in_language(
        language,
        "This form could not be accepted: it was opened before you signed in again, or it "
        "did not come from this site. Nothing was saved. Go back, reload the page and "
        "send the form again.",
    )
    if language == "es":
        assert "No se guardó nada" in refused.find(data_refusal=True).text
    milestone.refresh_from_db()
    assert milestone.comment == "As it was."
