from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from sdif_tracker import plan_views, views

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
    path("goals/<slug:slug>/milestones/<int:pk>/row/", views.milestone_row, name="milestone_row"),
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
]
