"""The read-only pages: parse the request, fetch through ``access`` and ``dashboard``,
render."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.views.decorators.http import require_safe

from sdif_tracker import access, dashboard


@require_safe
@login_required
def portfolio(request):
    goals = dashboard.portfolio_goals(request.user)
    return render(request, "strategies/goal_list.html", {"goals": goals})


@require_safe
@login_required
def goal_dashboard(request, slug):
    goal = access.get_goal_for_user(request.user, slug)
    board = dashboard.goal_dashboard(goal, request.GET)
    return render(request, "strategies/goal_dashboard.html", {"goal": goal, "board": board})


@require_safe
@login_required
def milestone_detail(request, slug, pk):
    milestone = access.get_milestone_for_user(request.user, slug, pk)
    context = {
        "goal": milestone.goal,
        "milestone": milestone,
        "status_updates": dashboard.milestone_status_updates(milestone),
        "history": dashboard.milestone_history(milestone),
    }
    return render(request, "milestones/milestone_detail.html", context)


@require_safe
def goal_plan(request, slug):
    try:
        goal = access.get_goal_for_plan(request.user, slug)
    except access.LoginRequired:
        return redirect_to_login(request.get_full_path())
    plan = dashboard.published_plan(goal)
    return render(request, "strategies/goal_plan.html", {"goal": goal, "plan": plan})
