"""A browser set to Mexican Spanish gets the dashboard in Spanish, and it stays WCAG 2.1 AA."""

from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.helpers import PASSWORD, assert_accessible


def test_a_browser_in_es_mx_gets_the_dashboard_in_spanish(new_page, sdif_goal, sdif_leader):
    page = new_page(locale="es-MX")
    page.goto(f"/accounts/login/?next={reverse('goal_dashboard', args=[sdif_goal.slug])}")
    # Django's own login form labels are translated too.
    page.get_by_label("Nombre de usuario").fill(sdif_leader.username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Filtrar hitos clave")).to_be_visible()
    expect(page.get_by_role("navigation", name="Agrupar hitos clave")).to_be_visible()
    expect(page.get_by_role("link", name="Por trimestre del plazo")).to_be_visible()
    expect(page.locator("[data-status=on_track]").first).to_have_text("Estado: En tiempo")
    expect(page.locator("section[data-group] thead th").first).to_have_text("Hito clave")
    expect(page.get_by_label("Idioma")).to_have_value("es")
    assert_accessible(page, "the dashboard in Spanish")

    # Back to English with the switcher, without JavaScript's help.
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar idioma").click()
    expect(page.get_by_role("heading", name="Filter key milestones")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
