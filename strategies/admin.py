"""Admin for the plan: agencies, goals with their strategies and members inline,
strategies, memberships, key indicators with their values.

Every admin here and in ``milestones.admin`` derives from ``AuditedAdmin``:
django-simple-history's admin, with a change reason on every write it makes and a
history that can be read but never edited.
"""

from django.contrib import admin
from django.contrib.admin import widgets
from django.db import models
from django.http import HttpResponseNotAllowed
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from strategies.history import recorded_change
from strategies.models import Agency, Goal, Indicator, IndicatorValue, Membership, Strategy
from strategies.periods import FiscalPeriodField

# The reasons history rows written by the admin carry. The acting user, the source
# ("admin"), the client IP and the request id come from HistoryContextMiddleware.
ADDED_REASON = "Added in the admin"
EDITED_REASON = "Edited in the admin"
DELETED_REASON = "Deleted in the admin"


class FiscalPeriodAsText:
    """Admin mixin: fiscal periods are typed as text ("Q3 FY19").

    FiscalPeriodField is an IntegerField underneath, so the admin's defaults would give
    it a number input, in which a browser can neither show nor accept a period.
    """

    formfield_overrides = {FiscalPeriodField: {"widget": widgets.AdminTextInputWidget}}


def _with_loaded_relations(record):
    """The object of a history record, its foreign keys filled from ``record``'s cache."""
    obj = record.history_object
    for field in obj._meta.concrete_fields:
        if field.many_to_one:
            record_field = record._meta.get_field(field.name)
            if record_field.is_cached(record):
                field.set_cached_value(obj, record_field.get_cached_value(record))
    return obj


class AuditedAdmin(FiscalPeriodAsText, SimpleHistoryAdmin):
    """``SimpleHistoryAdmin`` that gives every write a reason and keeps history read-only."""

    # Shown beside simple-history's own columns (date, user, reason, changes).
    history_list_display = ["source"]

    @admin.display(description=_("source"))
    def source(self, record):
        return record.history_source

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history ends its own version with select_related() and no names when the
        # model has no foreign key, which drops its select_related("history_user"): one
        # user query per version. Name the user and every tracked relation instead.
        relations = [
            field.name
            for field in history_manager.model.tracked_fields
            if isinstance(field, models.ForeignKey)
        ]
        return history_manager.filter(**{pk_name: object_id}).select_related(
            "history_user", *relations
        )

    def set_history_delta_changes(self, request, historical_records, **kwargs):
        # Each version is listed by its object's __str__, which for a membership, status
        # update, progress summary or indicator value follows a foreign key. The object
        # simple-history builds for it is fresh each time, so give it the related rows
        # the history query already loaded, rather than a query per version.
        for record in historical_records:
            record.history_object = _with_loaded_relations(record)
        super().set_history_delta_changes(request, historical_records, **kwargs)

    def save_model(self, request, obj, form, change):
        obj._change_reason = EDITED_REASON if change else ADDED_REASON
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        # The context, not just obj._change_reason, so rows removed by a cascade
        # (a goal's memberships) carry the reason too.
        with recorded_change(reason=DELETED_REASON):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected" action. QuerySet.delete() still sends
        # post_delete per object for models with listeners, so each gets a history row.
        with recorded_change(reason=DELETED_REASON):
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        # Django's default formset.save() gives no hook to set a reason per object.
        instances = formset.save(commit=False)
        with recorded_change(reason=DELETED_REASON):
            for obj in formset.deleted_objects:
                obj.delete()
        for obj in instances:
            obj._change_reason = ADDED_REASON if obj._state.adding else EDITED_REASON
            obj.save()
        formset.save_m2m()

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's "version" page saves a POSTed form over the live object (a
        # revert) for anyone who may merely *view* the model: SIMPLE_HISTORY_REVERT_DISABLED
        # only hides its button. History is read-only in this admin, so the page is GET
        # only; a revert is a new change made on the object's own change page.
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["name", "abbreviation"]
    search_fields = ["name", "abbreviation"]


class StrategyInline(admin.TabularInline):
    model = Strategy
    fields = ["number", "title"]
    extra = 0
    show_change_link = True


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Goal)
class GoalAdmin(AuditedAdmin):
    list_display = [
        "title",
        "short_name",
        "agency",
        "sensitivity",
        "first_fiscal_year",
        "last_fiscal_year",
        "updated_at",
    ]
    list_filter = ["sensitivity", "agency"]
    list_select_related = ["agency"]
    search_fields = ["title", "short_name", "slug", "statement"]
    prepopulated_fields = {"slug": ["short_name"]}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "agency",
                    "title",
                    "short_name",
                    "slug",
                    "statement",
                    "target_date",
                    ("first_fiscal_year", "last_fiscal_year"),
                    "sensitivity",
                ]
            },
        ),
        (
            _("Leadership as published"),
            {"fields": [("leader_name", "leader_title"), ("deputy_name", "deputy_title")]},
        ),
        (
            _("Narrative"),
            {
                "classes": ["collapse"],
                "fields": [
                    "overview",
                    "challenge",
                    "opportunity",
                    "key_external_factors",
                    "history",
                    "key_indicators",
                    "strategic_alignment",
                ],
            },
        ),
        (
            _("Contributing programs"),
            {
                "classes": ["collapse"],
                "fields": ["organizations", "regulations", "policies", "other_federal_activities"],
            },
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    # milestones.admin appends its MilestoneInline and ProgressSummaryInline to this
    # list when it is imported: `strategies` must never import from `milestones` (the
    # higher layer), and admin autodiscovery imports strategies.admin first because
    # `strategies` comes before `milestones` in INSTALLED_APPS. The admin reads
    # `inlines` per request, so the registered GoalAdmin sees the appended classes.
    inlines = [StrategyInline, MembershipInline]


@admin.register(Strategy)
class StrategyAdmin(AuditedAdmin):
    list_display = ["number", "title", "goal"]
    list_display_links = ["number", "title"]
    list_filter = ["goal"]
    list_select_related = ["goal"]
    search_fields = ["title", "description", "goal__title", "goal__short_name"]
    ordering = ["goal__title", "number"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a strategy to another goal would leave its milestones aligned to a
        # strategy of a goal they do not belong to.
        if obj is not None:
            return ["goal"]
        return []


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "goal", "role"]
    list_filter = ["role", "goal"]
    list_select_related = ["user", "goal"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "goal__title",
        "goal__short_name",
    ]
    autocomplete_fields = ["user", "goal"]


class IndicatorValueInline(FiscalPeriodAsText, admin.TabularInline):
    model = IndicatorValue
    fields = ["period", "target", "actual"]
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdmin):
    list_display = ["name", "goal", "unit", "direction", "position"]
    list_filter = ["direction", "goal"]
    list_select_related = ["goal"]
    search_fields = ["name", "goal__title", "goal__short_name"]
    inlines = [IndicatorValueInline]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(AuditedAdmin):
    list_display = ["indicator", "goal", "period", "target", "actual"]
    list_filter = ["indicator__goal"]
    list_select_related = ["indicator__goal"]
    search_fields = ["indicator__name", "indicator__goal__title"]
    ordering = ["indicator__goal__title", "indicator__position", "period"]

    @admin.display(description=_("goal"), ordering="indicator__goal__title")
    def goal(self, obj):
        return obj.indicator.goal
