"""The API's addresses: /api/v1/<resource>/, /api/v1/<resource>/<id>/ and its
/history/; the OpenAPI schema and its rendered documentation; a problem+json 404 for
any other address under /api/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from integrations.api import errors, views
from integrations.api import schema as _schema  # noqa: F401 - registers the Bearer scheme

app_name = "api"

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("goals", views.GoalViewSet, basename="goal")
router.register("strategies", views.StrategyViewSet, basename="strategy")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("status-updates", views.StatusUpdateViewSet, basename="status-update")
router.register("quarterly-updates", views.QuarterlyUpdateViewSet, basename="quarterly-update")
router.register("indicators", views.IndicatorViewSet, basename="indicator")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from the static files of drf-spectacular-sidecar; the split view loads
    # its start-up script from a URL rather than inline, and the template has no inline
    # style, so the site's CSP (script-src/style-src 'self') applies unchanged.
    path(
        "v1/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="api/swagger_ui.html"
        ),
        name="docs",
    ),
    re_path(r"^(?P<path>.*)$", errors.not_found),
]
