"""Admin for the plan: agencies, goals with their strategies and members inline,
strategies, memberships, key indicators with their values.

Every admin here and in ``milestones.admin`` derives from ``AuditedAdmin``:
django-simple-history's admin, with a change reason on every write it makes and a
history that can be read but never edited.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedHistoryAdmin
from audit.history import goal_id_of
from strategies.forms import continuation_candidates, continuation_error
from strategies.models import (
    Agency,
    AgencyRole,
    Goal,
    Indicator,
    IndicatorValue,
    Membership,
    Strategy,
)
from strategies.periods import FiscalPeriodField


class FiscalPeriodAsText:
    """Admin mixin: fiscal periods are typed as text ("Q3 FY19").

    FiscalPeriodField is an IntegerField underneath, so the admin's defaults would give
    it a number input, in which a browser can neither show nor accept a period.
    """

    formfield_overrides = {FiscalPeriodField: {"widget": widgets.AdminTextInputWidget}}


def belongs_to_closed_goal(obj) -> bool:
    """Whether ``obj`` (a goal, or anything of one) is of a closed goal: read-only."""
    if obj is None:
        return False
    if isinstance(obj, Goal):
        return obj.is_closed
    goal_id = goal_id_of(obj)
    return (
        goal_id is not None and Goal.objects.filter(pk=goal_id, closed_at__isnull=False).exists()
    )


class AuditedAdmin(FiscalPeriodAsText, AuditedHistoryAdmin):
    """The audited admin with fiscal periods typed as text: the base of every admin of the
    plan and of ``milestones.admin``. What belongs to a closed goal is shown, not changed
    (a closed goal is read-only for everyone; reopening it is the lifecycle page's)."""

    class Media:
        # Selects listing full titles (a milestone's strategy and dependency, a goal's
        # continuation) stay within the form instead of running off the page.
        css = {"all": ["css/admin-fit.css"]}

    def has_change_permission(self, request, obj=None):
        if belongs_to_closed_goal(obj):
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Nothing is added to, or moved into, a closed goal.
        if db_field.related_model is Goal and db_field.name == "goal":
            kwargs["queryset"] = Goal.objects.filter(closed_at__isnull=True)
        elif db_field.related_model is Indicator:
            kwargs["queryset"] = Indicator.objects.filter(goal__closed_at__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        if belongs_to_closed_goal(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["name", "abbreviation", "agency_approval", "examiner_clearance"]
    list_filter = ["agency_approval", "examiner_clearance"]
    search_fields = ["name", "abbreviation"]
    fieldsets = [
        (None, {"fields": ["name", "abbreviation"]}),
        (
            _("Review steps"),
            {
                "description": _(
                    "A step switched off is skipped; every transition of an update is "
                    "recorded either way."
                ),
                "fields": ["agency_approval", "examiner_clearance"],
            },
        ),
    ]


@admin.register(AgencyRole)
class AgencyRoleAdmin(AuditedAdmin):
    """Agency-wide roles: administrators, performance office, examiners (one row per
    agency an examiner is assigned to)."""

    list_display = ["user", "role", "agency"]
    list_filter = ["role", "agency"]
    list_select_related = ["user", "agency"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__name"]
    autocomplete_fields = ["user", "agency"]


class StrategyInline(admin.TabularInline):
    model = Strategy
    fields = ["number", "title"]
    extra = 0
    show_change_link = True


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "reports_indicators"]
    autocomplete_fields = ["user"]
    extra = 0


class GoalAdminForm(forms.ModelForm):
    """The goal's admin form: "continued by" offers the other goals of its agency and
    refuses one that would make a loop (the same rule as the app's goal form)."""

    class Meta:
        model = Goal
        # The admin builds the form with its fieldsets' fields; these are the ones used here.
        fields = ["agency", "continued_by"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        successor = self.fields.get("continued_by")
        if successor is not None and self.instance.pk is not None:
            successor.queryset = continuation_candidates(self.instance)

    def clean(self):
        cleaned = super().clean()
        # Read-only (a closed goal's) fields are not in cleaned_data: the goal's own agency.
        agency = cleaned.get("agency") or getattr(self.instance, "agency", None)
        if agency is not None:
            # The agency as typed on this form: on the add page the goal has none yet.
            probe = Goal(pk=self.instance.pk, agency=agency)
            error = continuation_error(probe, cleaned.get("continued_by"))
            if error is not None:
                self.add_error("continued_by", error)
        return cleaned


class ClosedFilter(admin.SimpleListFilter):
    title = _("lifecycle")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("closed", _("Closed"))]

    def queryset(self, request, queryset):
        if self.value() in ("active", "closed"):
            return queryset.filter(closed_at__isnull=self.value() == "active")
        return queryset


class GoalAdmin(AuditedAdmin):
    form = GoalAdminForm
    list_display = [
        "title",
        "short_name",
        "agency",
        "sensitivity",
        "first_fiscal_year",
        "last_fiscal_year",
        "closed_at",
        "updated_at",
    ]
    list_filter = ["sensitivity", ClosedFilter, "agency"]
    list_select_related = ["agency"]
    search_fields = ["title", "short_name", "slug", "statement"]
    prepopulated_fields = {"slug": ["short_name"]}
    # Closing, reopening and the reporting quarter are the app's lifecycle actions, each
    # with a reason (milestones.lifecycle): shown here, not edited.
    readonly_fields = ["closed_at", "reporting_quarter_set", "created_at", "updated_at"]
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
        (
            _("Cycle"),
            {"fields": ["continued_by", "closed_at", "reporting_quarter_set"]},
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    # Registered by milestones.admin, which subclasses it with the milestone inlines:
    # this layer must not import the one above it.
    inlines = [StrategyInline, MembershipInline]

    def has_change_permission(self, request, obj=None):
        # A closed goal may still name the goal that continues it (its one open field).
        return AuditedHistoryAdmin.has_change_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_closed:
            editable = {"continued_by"}
            return [f.name for f in Goal._meta.fields if f.name not in editable]
        return super().get_readonly_fields(request, obj)

    def get_inline_instances(self, request, obj=None):
        if obj is not None and obj.is_closed:
            return []  # its strategies, members and milestones stay as they are
        return super().get_inline_instances(request, obj)

    def get_prepopulated_fields(self, request, obj=None):
        if obj is not None and obj.is_closed:
            return {}
        return super().get_prepopulated_fields(request, obj)


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
    list_display = ["user", "goal", "role", "reports_indicators"]
    list_filter = ["role", "reports_indicators", "goal"]
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
