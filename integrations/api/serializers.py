"""What the API shows of each object: read-only, ids and slugs that stay put, fiscal
periods written as people write them ("Q3 FY19")."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from audit.reasons import describe
from milestones.models import Milestone, ProgressSummary, StatusUpdate
from milestones.quarters import reporting_quarter
from strategies.models import Agency, Goal, Indicator, IndicatorValue, Strategy
from strategies.periods import FiscalPeriod


@extend_schema_field({"type": "string", "nullable": True, "example": "Q3 FY19"})
class PeriodField(serializers.Field):
    """A fiscal period as text: "Q3 FY19", "FY19" or "Ongoing"; null when unset."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else str(value)


def _url(name: str, request, **kwargs) -> str:
    return reverse(f"api:{name}", kwargs=kwargs, request=request)


class AgencySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = ["id", "url", "name", "abbreviation", "agency_approval", "examiner_clearance"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, agency) -> str:
        return _url("agency-detail", self.context["request"], pk=agency.pk)


class GoalSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    history_url = serializers.SerializerMethodField()
    agency = serializers.PrimaryKeyRelatedField(read_only=True)
    continued_by = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The goal that continues this one in the next cycle (its slug).",
    )
    is_closed = serializers.BooleanField(read_only=True)
    reporting_quarter = serializers.SerializerMethodField()

    class Meta:
        model = Goal
        fields = [
            "slug",
            "url",
            "history_url",
            "agency",
            "title",
            "short_name",
            "statement",
            "sensitivity",
            "target_date",
            "first_fiscal_year",
            "last_fiscal_year",
            "reporting_quarter",
            "leader_name",
            "leader_title",
            "deputy_name",
            "deputy_title",
            "overview",
            "challenge",
            "opportunity",
            "key_external_factors",
            "history",
            "key_indicators",
            "strategic_alignment",
            "organizations",
            "regulations",
            "policies",
            "other_federal_activities",
            "is_closed",
            "closed_at",
            "continued_by",
            "version",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, goal) -> str:
        return _url("goal-detail", self.context["request"], slug=goal.slug)

    @extend_schema_field(OpenApiTypes.URI)
    def get_history_url(self, goal) -> str:
        return _url("goal-history", self.context["request"], slug=goal.slug)

    @extend_schema_field({"type": "string", "example": "Q3 FY19"})
    def get_reporting_quarter(self, goal) -> str:
        # The goal's own clock (milestones.quarters): no query with the list's annotation.
        return str(reporting_quarter(goal))


class _GoalOwnedSerializer(serializers.ModelSerializer):
    """An object of one goal: its goal by slug (read from the joined goal, no query)."""

    goal = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()
    history_url = serializers.SerializerMethodField()
    route = ""

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        return _url(f"{self.route}-detail", self.context["request"], pk=obj.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_history_url(self, obj) -> str:
        return _url(f"{self.route}-history", self.context["request"], pk=obj.pk)


class StrategySerializer(_GoalOwnedSerializer):
    route = "strategy"

    class Meta:
        model = Strategy
        fields = ["id", "url", "history_url", "goal", "number", "title", "description", "version"]


class MilestoneSerializer(_GoalOwnedSerializer):
    route = "milestone"
    due = PeriodField()
    revised_due = PeriodField()
    effective_due = PeriodField()

    class Meta:
        model = Milestone
        fields = [
            "id",
            "url",
            "history_url",
            "goal",
            "strategy",
            "position",
            "title",
            "due",
            "revised_due",
            "effective_due",
            "status",
            "owner",
            "comment",
            "depends_on",
            "version",
            "created_at",
            "updated_at",
        ]


class StatusUpdateSerializer(serializers.ModelSerializer):
    goal = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    period = PeriodField()
    revised_due = PeriodField()

    class Meta:
        model = StatusUpdate
        fields = [
            "id",
            "url",
            "goal",
            "milestone",
            "period",
            "previous_status",
            "status",
            "comment",
            "revised_due",
            "author_name",
            "created_at",
            "reported_on",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, update) -> str:
        return _url("status-update-detail", self.context["request"], pk=update.pk)

    @extend_schema_field({"type": "string", "example": "sdif"})
    def get_goal(self, update) -> str:
        return update.milestone.goal.slug


class QuarterlyUpdateSerializer(_GoalOwnedSerializer):
    route = "quarterly-update"
    period = PeriodField()

    class Meta:
        model = ProgressSummary
        fields = [
            "id",
            "url",
            "history_url",
            "goal",
            "period",
            "review_state",
            "review_state_at",
            "summary",
            "next_steps",
            "risk",
            "likelihood",
            "improvement_actions",
            "verification_validation",
            "data_sources",
            "data_accuracy",
            "data_limitations",
            "limitations_compensation",
            "published_at",
            "published_on",
            "published_by_name",
            "version",
            "updated_at",
        ]


class IndicatorValueSerializer(serializers.ModelSerializer):
    period = PeriodField()

    class Meta:
        model = IndicatorValue
        fields = ["period", "target", "actual", "note", "updated_at"]


class IndicatorSerializer(_GoalOwnedSerializer):
    route = "indicator"
    baseline_period = PeriodField()
    values = IndicatorValueSerializer(many=True, read_only=True, source="shown_values")

    class Meta:
        model = Indicator
        fields = [
            "id",
            "url",
            "history_url",
            "goal",
            "position",
            "name",
            "unit",
            "direction",
            "definition",
            "data_source",
            "frequency",
            "baseline_value",
            "baseline_period",
            "is_published",
            "version",
            "values",
        ]


HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


class HistoryEntrySerializer(serializers.Serializer):
    """One recorded change: when, by whom, why (in the reader's language), what kind of
    change, and the names of the fields it changed."""

    history_id = serializers.IntegerField()
    date = serializers.DateTimeField(source="history_date")
    user = serializers.CharField(source="history_username")
    change = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    changed_fields = serializers.SerializerMethodField()
    quarter = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "enum": list(HISTORY_TYPES.values())})
    def get_change(self, record) -> str:
        return HISTORY_TYPES.get(record.history_type, record.history_type)

    def get_reason(self, record) -> str:
        return describe(record.history_change_reason)

    def get_changed_fields(self, record) -> list[str]:
        return [name for name in record.history_changed_fields.split(",") if name]

    @extend_schema_field({"type": "string", "nullable": True, "example": "Q3 FY19"})
    def get_quarter(self, record) -> str | None:
        key = record.history_quarter
        if key is None:
            return None
        return str(FiscalPeriod.from_key(key))
