from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sdif_tracker.views import asof as asof_views
from sdif_tracker.views import goals as views
from sdif_tracker.views import health
from sdif_tracker.views import history as history_views
from sdif_tracker.views import lifecycle as lifecycle_views
from sdif_tracker.views import plan as plan_views
from sdif_tracker.views import publish as publish_views

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("goals/<slug:slug>/", views.goal_dashboard, name="goal_dashboard"),
    path("goals/<slug:slug>/plan/", views.goal_plan, name="goal_plan"),
    path("goals/<slug:slug>/progress/", views.progress_edit, name="progress_edit"),
    path("my/", views.my_goals, name="my_goals"),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/", views.milestone_detail, name="milestone_detail"
    ),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/update/",
        views.milestone_update,
        name="milestone_update",
    ),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    # Admins edit the plan in the app (sdif_tracker/plan_views.py).
    path("goals/<slug:slug>/edit/", plan_views.goal_edit, name="goal_edit"),
    path("goals/<slug:slug>/strategies/", plan_views.strategy_list, name="strategy_list"),
    path("goals/<slug:slug>/strategies/add/", plan_views.strategy_add, name="strategy_add"),
    path(
        "goals/<slug:slug>/strategies/<int:pk>/edit/",
        plan_views.strategy_edit,
        name="strategy_edit",
    ),
    path(
        "goals/<slug:slug>/strategies/<int:pk>/delete/",
        plan_views.strategy_delete,
        name="strategy_delete",
    ),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/strategy/",
        plan_views.milestone_move,
        name="milestone_move",
    ),
    # The plan's past: two quarters compared; admins revert to an earlier version.
    path("goals/<slug:slug>/compare/", asof_views.goal_compare, name="goal_compare"),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/revert/<int:history_id>/",
        asof_views.milestone_revert,
        name="milestone_revert",
    ),
    path(
        "goals/<slug:slug>/strategies/<int:pk>/revert/<int:history_id>/",
        asof_views.strategy_revert,
        name="strategy_revert",
    ),
    path("goals/<slug:slug>/revert/<int:history_id>/", asof_views.goal_revert, name="goal_revert"),
]

# History: a timeline per object, and the audit log (sdif_tracker/history_views.py).
urlpatterns += [
    path(
        "goals/<slug:slug>/history/", history_views.timeline, {"kind": "goal"}, name="goal_history"
    ),
    path(
        "goals/<slug:slug>/strategies/<int:pk>/history/",
        history_views.timeline,
        {"kind": "strategy"},
        name="strategy_history",
    ),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/history/",
        history_views.timeline,
        {"kind": "milestone"},
        name="milestone_history",
    ),
    path(
        "goals/<slug:slug>/progress/<int:pk>/history/",
        history_views.timeline,
        {"kind": "progress"},
        name="progress_history",
    ),
    path(
        "goals/<slug:slug>/indicators/<int:pk>/history/",
        history_views.timeline,
        {"kind": "indicator"},
        name="indicator_history",
    ),
    path("audit/", history_views.audit_log, name="audit_log"),
    path("audit/export.csv", history_views.audit_export, name="audit_export"),
]

# Publishing the quarterly update, the plan's PDF, exports and key indicators
# (sdif_tracker/publish_views.py).
urlpatterns += [
    # GET: what publishing freezes, and the button; POST: publish (from that page only).
    path("goals/<slug:slug>/publish/", publish_views.publish, name="publish_quarter"),
    path("goals/<slug:slug>/plan.pdf", publish_views.plan_pdf, name="goal_plan_pdf"),
    path("goals/<slug:slug>/plan.yaml", publish_views.plan_yaml, name="goal_plan_yaml"),
    path(
        "goals/<slug:slug>/milestones.csv",
        publish_views.goal_milestones_export,
        {"fmt": "csv"},
        name="goal_milestones_csv",
    ),
    path(
        "goals/<slug:slug>/milestones.xlsx",
        publish_views.goal_milestones_export,
        {"fmt": "xlsx"},
        name="goal_milestones_xlsx",
    ),
    path(
        "milestones.csv",
        publish_views.all_milestones_export,
        {"fmt": "csv"},
        name="milestones_csv",
    ),
    path(
        "milestones.xlsx",
        publish_views.all_milestones_export,
        {"fmt": "xlsx"},
        name="milestones_xlsx",
    ),
    path("goals/<slug:slug>/indicators/", publish_views.indicator_list, name="indicator_list"),
    path(
        "goals/<slug:slug>/indicators/<int:pk>/",
        publish_views.indicator_edit,
        name="indicator_edit",
    ),
]

# A goal's lifecycle and clock (admins): close, reopen, hold on a reporting quarter
# (sdif_tracker/views/lifecycle.py).
urlpatterns += [
    path("goals/<slug:slug>/close/", lifecycle_views.goal_close, name="goal_close"),
    path("goals/<slug:slug>/reopen/", lifecycle_views.goal_reopen, name="goal_reopen"),
    path(
        "goals/<slug:slug>/reporting-quarter/",
        lifecycle_views.goal_reporting_quarter,
        name="goal_reporting_quarter",
    ),
]

# For load balancers and monitors: open to everyone, checks the database.
urlpatterns += [path("healthz", health.healthz, name="healthz")]

# The language switcher posts to Django's set_language view.
urlpatterns += [path("i18n/", include("django.conf.urls.i18n"))]

# The error pages (views/errors.py): 403 in the site's layout with the way back; 500, and
# 503 "temporarily unavailable" for a database outage (not a 500 or 400), rendered without
# touching the database. A 404 is Django's own handler with templates/404.html.
handler400 = "sdif_tracker.views.errors.bad_request"
handler403 = "sdif_tracker.views.errors.permission_denied"
handler500 = "sdif_tracker.views.errors.server_error"
