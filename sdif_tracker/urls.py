from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import sso_views
from accounts import views as account_security_views
from integrations import webhook_views
from sdif_tracker.views import account as account_views
from sdif_tracker.views import asof as asof_views
from sdif_tracker.views import clearance as clearance_views
from sdif_tracker.views import goals as views
from sdif_tracker.views import health
from sdif_tracker.views import history as history_views
from sdif_tracker.views import indicators as indicator_views
from sdif_tracker.views import lifecycle as lifecycle_views
from sdif_tracker.views import members as member_views
from sdif_tracker.views import plan as plan_views
from sdif_tracker.views import publish as publish_views
from sdif_tracker.views import quality as quality_views
from sdif_tracker.views import review as review_views
from sdif_tracker.views import tokens as token_views

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("goals/<slug:slug>/", views.goal_dashboard, name="goal_dashboard"),
    path("goals/<slug:slug>/plan/", views.goal_plan, name="goal_plan"),
    path("goals/<slug:slug>/progress/", views.progress_edit, name="progress_edit"),
    # A quarterly update's review chain: where it stands, and submit, approve, clear, return
    # or withdraw it (sdif_tracker/views/review.py); ``?period=`` as on the page above.
    path("goals/<slug:slug>/review/", review_views.update_review, name="update_review"),
    path("my/", views.my_goals, name="my_goals"),
    # The review chain: what waits for each reviewer (sdif_tracker/views/clearance.py).
    path("clearance/", clearance_views.clearance, name="clearance"),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/", views.milestone_detail, name="milestone_detail"
    ),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/update/",
        views.milestone_update,
        name="milestone_update",
    ),
    # The user's own page: second factor and personal access tokens.
    path("account/", account_views.account, name="account"),
    # Personal access tokens for the read API (sdif_tracker/views/tokens.py).
    path("account/tokens/", token_views.token_create, name="token_create"),
    path("account/tokens/revoke/", token_views.token_revoke, name="token_revoke"),
    # Password and single sign-on (accounts/sso_views.py; docs/sso.md).
    path("accounts/login/", sso_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", sso_views.LogoutView.as_view(), name="logout"),
    path("accounts/sso/start/", sso_views.SSOStartView.as_view(), name="sso_start"),
    path("accounts/sso/callback/", sso_views.sso_callback, name="sso_callback"),
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
    # Closed when LOCAL_PASSWORD_LOGIN is off: the app's login page instead.
    path("admin/login/", sso_views.admin_login),
    path("admin/", admin.site.urls),
    # The read API (integrations/api): /api/v1/…, its schema and docs; anything else
    # under /api/ is a problem+json 404, not the HTML page.
    path("api/", include("integrations.api.urls")),
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
    # Key indicators (sdif_tracker/views/indicators.py): admins define them; the goal's
    # team enters the reporting quarter's actuals.
    path("goals/<slug:slug>/indicators/", indicator_views.indicator_list, name="indicator_list"),
    path(
        "goals/<slug:slug>/indicators/actuals/",
        indicator_views.indicator_actuals,
        name="indicator_actuals",
    ),
    path(
        "goals/<slug:slug>/indicators/<int:pk>/",
        indicator_views.indicator_edit,
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

# The quality check across the goals the reader may see (sdif_tracker/views/quality.py).
urlpatterns += [
    path("quality/", quality_views.quality_report, name="quality_report"),
    path("quality/export.csv", quality_views.quality_export, name="quality_export"),
]

# Who works on a goal, and an agency's review steps and agency-wide roles: site and agency
# administrators (sdif_tracker/views/members.py).
urlpatterns += [
    path("goals/<slug:slug>/members/", member_views.goal_members, name="goal_members"),
    path("goals/<slug:slug>/members/change/", member_views.member_change, name="member_change"),
    path("goals/<slug:slug>/members/remove/", member_views.member_remove, name="member_remove"),
    path("agencies/<int:pk>/", member_views.agency_detail, name="agency_detail"),
    path("agencies/<int:pk>/steps/", member_views.agency_steps, name="agency_steps"),
    path("agencies/<int:pk>/roles/add/", member_views.agency_role_add, name="agency_role_add"),
    path(
        "agencies/<int:pk>/roles/remove/",
        member_views.agency_role_remove,
        name="agency_role_remove",
    ),
]

# The second factor (accounts/views.py, docs/mfa.md): the sign-in's code step, the
# set-up posted from the account page, and the security log for site administrators.
urlpatterns += [
    path("accounts/verify/", account_security_views.verify, name="mfa_verify"),
    path("account/mfa/start/", account_security_views.mfa_start, name="mfa_start"),
    path("account/mfa/confirm/", account_security_views.mfa_confirm, name="mfa_confirm"),
    path(
        "account/mfa/recovery-codes/",
        account_security_views.mfa_recovery_codes,
        name="mfa_recovery_codes",
    ),
    path("account/mfa/remove/", account_security_views.mfa_remove, name="mfa_remove"),
    path("audit/security/", account_security_views.security_log, name="security_log"),
]

# Webhooks of a goal and of an agency, and each endpoint's page with its delivery log:
# site and agency administrators (integrations/webhook_views.py).
urlpatterns += [
    path("goals/<slug:slug>/webhooks/", webhook_views.goal_webhooks, name="goal_webhooks"),
    path("goals/<slug:slug>/webhooks/<int:pk>/", webhook_views.goal_webhook, name="goal_webhook"),
    path("agencies/<int:pk>/webhooks/", webhook_views.agency_webhooks, name="agency_webhooks"),
    path(
        "agencies/<int:pk>/webhooks/<int:endpoint>/",
        webhook_views.agency_webhook,
        name="agency_webhook",
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
