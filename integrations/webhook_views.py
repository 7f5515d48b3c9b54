"""The webhook pages of a goal and of an agency: the endpoints registered, registering
one, and each endpoint's page (its signing secret, its buttons, its delivery log).

For site administrators and the agency's administrators
(``access.can_manage_webhooks``): 404 for whoever may not see the goal or the agency
page, 403 for whoever sees it but does not manage its webhooks. Parse → access → an
``integrations.endpoints`` service → redirect with a message; or the page again with
the form's errors (400)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from integrations import endpoints
from integrations.models import DeliveryAttempt, EventType, WebhookDelivery, WebhookEndpoint
from integrations.webhook_forms import EndpointActionForm, EndpointForm
from sdif_tracker import access
from strategies.models import Agency, Goal

FORM_METHODS = ["GET", "HEAD", "POST"]
LOG_PAGE_SIZE = 25


@dataclass(frozen=True)
class Owner:
    """The goal or the agency whose webhooks a page shows."""

    goal: Goal | None = None
    agency: Agency | None = None

    @property
    def name(self) -> str:
        if self.goal is not None:
            return self.goal.short_name or self.goal.title
        return self.agency.name

    @property
    def home_url(self) -> str:
        if self.goal is not None:
            return self.goal.get_absolute_url()
        return reverse("agency_detail", kwargs={"pk": self.agency.pk})

    @property
    def list_url(self) -> str:
        if self.goal is not None:
            return reverse("goal_webhooks", kwargs={"slug": self.goal.slug})
        return reverse("agency_webhooks", kwargs={"pk": self.agency.pk})

    def endpoint_url(self, endpoint: WebhookEndpoint) -> str:
        if self.goal is not None:
            return reverse("goal_webhook", kwargs={"slug": self.goal.slug, "pk": endpoint.pk})
        return reverse("agency_webhook", kwargs={"pk": self.agency.pk, "endpoint": endpoint.pk})

    def endpoints(self):
        if self.goal is not None:
            return WebhookEndpoint.objects.filter(goal=self.goal)
        return WebhookEndpoint.objects.filter(agency=self.agency)


def _goal_owner(request, slug) -> Owner:
    goal = access.get_goal_for_user(request.user, slug)
    if not access.can_manage_webhooks(request.user, goal=goal):
        raise PermissionDenied(_("Only the agency's administrators manage its webhooks."))
    return Owner(goal=goal)


def _agency_owner(request, pk) -> Owner:
    agency, _perms = access.get_agency_for_user(request.user, pk)
    if not access.can_manage_webhooks(request.user, agency=agency):
        raise PermissionDenied(_("Only the agency's administrators manage its webhooks."))
    return Owner(agency=agency)


def _endpoint_of(owner: Owner, pk) -> WebhookEndpoint:
    endpoint = owner.endpoints().select_related("created_by").filter(pk=pk).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


# -- the list, and registering an endpoint -------------------------------------------------


def _list(request, owner: Owner):
    if request.method == "POST":
        form = EndpointForm(request.POST)
        endpoint = None
        if form.is_valid():
            try:
                endpoint = endpoints.register_endpoint(
                    user=request.user,
                    request=request,
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    events=form.cleaned_data["events"],
                    goal=owner.goal,
                    agency=owner.agency,
                )
            except ValidationError as refusal:
                # The name resolves differently now than a moment ago: refused still.
                form.add_error("url", refusal)
        if endpoint is not None:
            messages.success(
                request,
                _(
                    "Webhook registered. Configure the receiver with the signing secret "
                    "below to verify each request."
                ),
            )
            return redirect(owner.endpoint_url(endpoint))
        status = 400
    else:
        form = EndpointForm(initial={"events": EventType.values})
        status = 200
    rows = [
        (endpoint, owner.endpoint_url(endpoint), _labels(endpoint.events))
        for endpoint in owner.endpoints().select_related("created_by")
    ]
    context = {
        "owner": owner,
        "goal": owner.goal,
        "agency": owner.agency,
        "rows": rows,
        "disabled": [endpoint for endpoint, _url, _labels in rows if not endpoint.is_active],
        "form": form,
    }
    return render(request, "integrations/webhook_list.html", context, status=status)


def _labels(events) -> list[str]:
    """The events an endpoint hears, in words and in the order EventType lists them."""
    return [label for value, label in EventType.choices if value in (events or [])]


@login_required
@require_http_methods(FORM_METHODS)
def goal_webhooks(request, slug):
    """The goal's webhooks; POST registers one."""
    return _list(request, _goal_owner(request, slug))


@login_required
@require_http_methods(FORM_METHODS)
def agency_webhooks(request, pk):
    """The agency's webhooks (they hear every goal of the agency); POST registers one."""
    return _list(request, _agency_owner(request, pk))


# -- one endpoint: its secret, its buttons, its delivery log -------------------------------


def _detail(request, owner: Owner, pk):
    endpoint = _endpoint_of(owner, pk)
    form = EndpointActionForm()
    status = 200
    if request.method == "POST":
        form = EndpointActionForm(request.POST)
        if form.is_valid():
            action = form.cleaned_data["action"]
            if action == EndpointActionForm.REMOVE:
                endpoints.remove_endpoint(endpoint=endpoint, user=request.user, request=request)
                messages.success(
                    request,
                    _("Webhook removed: nothing more is sent to %(url)s.") % {"url": endpoint.url},
                )
                return redirect(owner.list_url)
            if action == EndpointActionForm.ROTATE:
                endpoints.rotate_secret(endpoint=endpoint, user=request.user, request=request)
                messages.success(
                    request,
                    _(
                        "New signing secret made: requests are signed with it from now on. "
                        "Give it to the receiver."
                    ),
                )
            else:
                endpoints.enable_endpoint(endpoint=endpoint, user=request.user, request=request)
                messages.success(request, _("Webhook enabled again."))
            return redirect(owner.endpoint_url(endpoint))
        status = 400
    attempts = (
        DeliveryAttempt.objects.filter(delivery__endpoint=endpoint)
        .select_related("delivery__event")
        .order_by("-at", "-pk")
    )
    page = Paginator(attempts, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    pending = WebhookDelivery.objects.filter(
        endpoint=endpoint, state=WebhookDelivery.State.PENDING
    ).count()
    context = {
        "owner": owner,
        "goal": owner.goal,
        "agency": owner.agency,
        "endpoint": endpoint,
        "endpoint_url": owner.endpoint_url(endpoint),
        "event_labels": _labels(endpoint.events),
        "page": page,
        "pending": pending,
        "form": form,
    }
    return render(request, "integrations/webhook_detail.html", context, status=status)


@never_cache  # it shows the signing secret
@login_required
@require_http_methods(FORM_METHODS)
def goal_webhook(request, slug, pk):
    """One of the goal's webhooks; POST rotates its secret, enables or removes it."""
    return _detail(request, _goal_owner(request, slug), pk)


@never_cache  # it shows the signing secret
@login_required
@require_http_methods(FORM_METHODS)
def agency_webhook(request, pk, endpoint):
    """One of the agency's webhooks; POST rotates its secret, enables or removes it."""
    return _detail(request, _agency_owner(request, pk), endpoint)
