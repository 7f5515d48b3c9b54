from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from sdif_tracker import views

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("goals/<slug:slug>/", views.goal_dashboard, name="goal_dashboard"),
    path("goals/<slug:slug>/plan/", views.goal_plan, name="goal_plan"),
    path(
        "goals/<slug:slug>/milestones/<int:pk>/", views.milestone_detail, name="milestone_detail"
    ),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
