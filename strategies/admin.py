"""Admin for the plan: agencies, goals with their strategies and members inline,
strategies, memberships, key indicators with their values.

Every admin here and in ``milestones.admin`` derives from ``AuditedAdmin``:
django-simple-history's admin, with a change reason on every write it makes and a
history that can be read but never edited.
"""

from django.contrib import admin
from django.contrib.admin import widgets
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedHistoryAdmin
from strategies.models import Agency, Indicator, IndicatorValue, Membership, Strategy
from strategies.periods import FiscalPeriodField


class FiscalPeriodAsText:
    """Admin mixin: fiscal periods are typed as text ("Q3 FY19").

    FiscalPeriodField is an IntegerField underneath, so the admin's defaults would give
    it a number input, in which a browser can neither show nor accept a period.
    """

    formfield_overrides = {FiscalPeriodField: {"widget": widgets.AdminTextInputWidget}}


class AuditedAdmin(FiscalPeriodAsText, AuditedHistoryAdmin):
    """The audited admin with fiscal periods typed as text: the base of every admin of the
    plan and of ``milestones.admin``."""


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
    # Registered by milestones.admin, which subclasses it with the milestone inlines:
    # this layer must not import the one above it.
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
