from django.http import HttpResponse


def portfolio(request):
    return HttpResponse("todo")


goal_dashboard = goal_plan = milestone_detail = portfolio
