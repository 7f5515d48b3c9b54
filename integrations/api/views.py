"""The read API's resources: each list holds only what the user may see and each
object outside it is 404, as on the pages (``sdif_tracker.access``). Read-only: GET,
HEAD and OPTIONS; anything else is 405. Every 200 carries a strong ETag over its body,
and ``If-None-Match`` with it answers 304 without one."""

from __future__ import annotations

import hashlib

from django.db.models import Prefetch
from django.http import HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, ValidationError

from audit.history import history_of
from integrations.api import serializers
from integrations.api.filters import QUARTER_PARAM, requested_quarter
from milestones.models import Milestone, ProgressSummary, StatusUpdate
from milestones.quarters import with_reporting_quarter
from sdif_tracker import access
from strategies.models import Goal, Indicator, IndicatorValue, Strategy

# The largest id a 64-bit column holds.
MAX_ID = 2**63 - 1

QUARTER = OpenApiParameter(
    QUARTER_PARAM,
    # The plain form; the server also reads "q3 fy2019", "Q3 FY 19".
    {"type": "string", "pattern": r"^(Q[1-4] )?FY[0-9]{2}$"},
    description="A reporting period: a quarter (Q3 FY19) or a fiscal year (FY19).",
)
GOAL = OpenApiParameter("goal", OpenApiTypes.STR, description="Only this goal's (its slug).")
MILESTONE = OpenApiParameter(
    "milestone",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    description="Only this milestone's (its id).",
)


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:40] + '"'


class ReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    http_method_names = ["get", "head", "options"]
    # Ids fit a 64-bit column; a longer number names nothing (the catch-all's 404).
    lookup_value_regex = r"[0-9]{1,18}"

    def initial(self, request, *args, **kwargs):
        # Before authentication: a write is 405 whoever asks (never a CSRF or 401 answer
        # that suggests it could succeed).
        if request.method.lower() not in self.http_method_names:
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    @property
    def cursor_ordering(self):
        # History rows newest first (their id is the order they were recorded in).
        return ("-pk",) if self.action == "history" else ("pk",)

    def goals(self):
        """The goals the request's user may see: the one rule, ``access.visible_goals``."""
        return access.visible_goals(self.request.user)

    def quarter(self):
        return requested_quarter(self.request)

    def by_goal(self, queryset, field="goal__slug"):
        slug = self.request.query_params.get("goal")
        return queryset.filter(**{field: slug}) if slug else queryset

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept", "Accept-Language", "Authorization", "Cookie"])
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        etag = _etag(response.content)
        response["ETag"] = etag
        # Each answer is the user's own; a cache may keep it but asks again each time.
        patch_cache_control(response, private=True, no_cache=True)
        wanted = parse_etags(request.headers.get("If-None-Match", ""))
        if "*" in wanted or etag in {tag.removeprefix("W/") for tag in wanted}:
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Vary", "Cache-Control"):
                not_modified[header] = response[header]
            return not_modified
        return response


class WithHistory:
    """The ``/history/`` sub-resource of an object: every recorded change, newest first.
    Open to anyone who may see the object, as its timeline page is; where a change came
    from (address, request id) is left out, as that page leaves it out for all but
    reviewers."""

    def history_rows(self, obj):
        # Scoped to the object's goal, as the timeline page scopes them.
        return history_of(type(obj)).model.objects.filter(id=obj.pk, goal_id=obj.goal_id)

    @extend_schema(
        summary="The object's recorded changes, newest first",
        parameters=[QUARTER],
        responses=serializers.HistoryEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="history")
    def history(self, request, *args, **kwargs):
        obj = self.get_object()  # 404 unless the user may see it
        rows = self.history_rows(obj)
        quarter = self.quarter()
        if quarter is not None:
            rows = rows.filter(history_quarter=quarter.key)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            serializers.HistoryEntrySerializer(page, many=True).data
        )


class AgencyViewSet(ReadOnlyViewSet):
    """Agencies with a goal the user may see, or over which they hold a role."""

    serializer_class = serializers.AgencySerializer

    def get_queryset(self):
        return access.visible_agencies(self.request.user)


@extend_schema_view(list=extend_schema(summary="The goals the user may see"))
class GoalViewSet(WithHistory, ReadOnlyViewSet):
    serializer_class = serializers.GoalSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return with_reporting_quarter(self.goals()).select_related("continued_by")

    def history_rows(self, goal):
        # Goal's own rows: the history manager is ``changes`` (its ``history`` is a field).
        return history_of(Goal).model.objects.filter(id=goal.pk)


@extend_schema_view(list=extend_schema(parameters=[GOAL]))
class StrategyViewSet(WithHistory, ReadOnlyViewSet):
    serializer_class = serializers.StrategySerializer

    def get_queryset(self):
        queryset = Strategy.objects.filter(goal__in=self.goals()).select_related("goal")
        return self.by_goal(queryset)


@extend_schema_view(list=extend_schema(parameters=[GOAL, QUARTER]))
class MilestoneViewSet(WithHistory, ReadOnlyViewSet):
    """Key milestones; ``?quarter=``: those due then (the revised due where set, else the
    due)."""

    serializer_class = serializers.MilestoneSerializer

    def get_queryset(self):
        queryset = Milestone.objects.filter(goal__in=self.goals()).select_related("goal")
        quarter = self.quarter() if self.action == "list" else None
        if quarter is not None:
            queryset = queryset.with_effective_due().filter(effective_due_key=quarter.key)
        return self.by_goal(queryset)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            GOAL,
            QUARTER,
            MILESTONE,
        ]
    )
)
class StatusUpdateViewSet(ReadOnlyViewSet):
    """Status updates of milestones (append-only, so no history of their own);
    ``?quarter=``: those reported for that period."""

    serializer_class = serializers.StatusUpdateSerializer

    def get_queryset(self):
        queryset = StatusUpdate.objects.filter(milestone__goal__in=self.goals()).select_related(
            "milestone__goal"
        )
        if self.action == "list":
            quarter = self.quarter()
            if quarter is not None:
                queryset = queryset.filter(period=quarter)
            milestone = self.request.query_params.get("milestone", "")
            if milestone:
                queryset = queryset.filter(milestone_id=_int_param("milestone", milestone))
        return self.by_goal(queryset, "milestone__goal__slug")


@extend_schema_view(list=extend_schema(parameters=[GOAL, QUARTER]))
class QuarterlyUpdateViewSet(WithHistory, ReadOnlyViewSet):
    """Goals' quarterly updates (progress summaries), drafts included, each with where it
    stands in its review chain (``review_state``)."""

    serializer_class = serializers.QuarterlyUpdateSerializer

    def get_queryset(self):
        queryset = ProgressSummary.objects.filter(goal__in=self.goals()).select_related("goal")
        quarter = self.quarter() if self.action == "list" else None
        if quarter is not None:
            queryset = queryset.filter(period=quarter)
        return self.by_goal(queryset)


@extend_schema_view(
    list=extend_schema(parameters=[GOAL, QUARTER]),
    retrieve=extend_schema(parameters=[QUARTER]),
)
class IndicatorViewSet(WithHistory, ReadOnlyViewSet):
    """Key indicators with their values, oldest first (``?quarter=``: that period's only).
    Internal indicators are listed beside published ones; ``is_published`` says whether
    the published plan shows it."""

    # The current plan's rule (sdif_tracker.pages.indicators.shown_indicators): a signed-in
    # reader sees the internal indicators as well as the published ones, marked. The API's
    # readers are always signed in, so every indicator of a goal they may see is listed.

    serializer_class = serializers.IndicatorSerializer

    def get_queryset(self):
        values = IndicatorValue.objects.order_by("period")
        quarter = self.quarter() if self.action in ("list", "retrieve") else None
        if quarter is not None:
            values = values.filter(period=quarter)
        queryset = (
            Indicator.objects.filter(goal__in=self.goals())
            .select_related("goal")
            .prefetch_related(Prefetch("values", queryset=values, to_attr="shown_values"))
        )
        return self.by_goal(queryset)


def _int_param(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise ValidationError({name: [_("Give an id: a whole number from 1.")]})
    return number
