"""Admin for key milestones, their status updates (read-only) and progress summaries.

Milestones and progress summaries are also edited inline under their goal: this module
registers the goal's admin, ``strategies.admin.GoalAdmin`` with those inlines (at the end).
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Max, OuterRef, Q, Subquery
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from milestones.models import Milestone, ProgressSummary, StatusUpdate, overdue_q
from milestones.quarters import (
    goals_by_quarter,
    per_goal_q,
    reporting_quarter,
    with_reporting_quarter,
)
from strategies.admin import AuditedAdmin, FiscalPeriodAsText, GoalAdmin
from strategies.models import Goal, Strategy


class _VersionStampField(forms.IntegerField):
    """The milestone version a form was rendered from: a stamp, never itself an edit."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        return False


def _goal_label(obj):
    return f"{obj.goal.short_name or obj.goal.title} — {obj}"


class MilestoneAdminForm(forms.ModelForm):
    """A milestone form that offers only its goal's strategies and milestones and
    refuses to overwrite a change someone else saved after the form was opened."""

    expected_version = _VersionStampField(required=False)

    class Meta:
        model = Milestone
        fields = [
            "goal",
            "strategy",
            "position",
            "title",
            "due",
            "revised_due",
            "status",
            "owner",
            "comment",
            "depends_on",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        goal_id = self.instance.goal_id
        strategy = self.fields.get("strategy")
        depends_on = self.fields.get("depends_on")
        if goal_id is None:
            # Add page: the goal is chosen in the same form, so every strategy is
            # offered, labelled with its goal; Milestone.clean() rejects a mismatch as
            # an error on the strategy field.
            if strategy is not None:
                strategy.queryset = strategy.queryset.select_related("goal")
                strategy.label_from_instance = _goal_label
            if depends_on is not None:
                depends_on.queryset = depends_on.queryset.select_related("goal")
                depends_on.label_from_instance = _goal_label
        else:
            if strategy is not None:
                strategy.queryset = Strategy.objects.filter(goal_id=goal_id)
            if depends_on is not None:
                depends_on.queryset = Milestone.objects.filter(goal_id=goal_id).exclude(
                    pk=self.instance.pk
                )
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned_data = super().clean()
        # Optimistic check, as in the app: Milestone.save() bumps the version, so a
        # form rendered before someone else's save carries an older one.
        if (
            self.instance.pk is not None
            and self.has_changed()
            and cleaned_data.get("expected_version") != self.instance.version
        ):
            raise ValidationError(
                _(
                    "Someone else changed this milestone after you opened it. "
                    "Reload the page to see their change, then make yours again."
                ),
                code="stale_version",
            )
        return cleaned_data


def overdue_by_reporting_quarter() -> Q:
    """Overdue, each milestone by its goal's reporting quarter: one query for the goals'
    quarters, then a condition with a term per distinct quarter."""
    return per_goal_q(goals_by_quarter(with_reporting_quarter(Goal.objects.all())), overdue_q)


class OverdueFilter(admin.SimpleListFilter):
    """Overdue as the goal's pages say it: by each goal's reporting quarter."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        overdue = Milestone.objects.with_effective_due().filter(overdue_by_reporting_quarter())
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue.values("pk"))
        return queryset.exclude(pk__in=overdue.values("pk"))


class StatusUpdateInline(FiscalPeriodAsText, admin.TabularInline):
    # Read-only. Status updates are append-only, and the app's status-update service is
    # their one write path: it sets the milestone's status, revised due and version in
    # the same transaction, which an admin inline would bypass.
    model = StatusUpdate
    fields = [
        "created_at",
        "author_name",
        "period",
        "previous_status",
        "status",
        "revised_due",
        "comment",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]  # newest first, like every list of them
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Milestone)
class MilestoneAdmin(AuditedAdmin):
    form = MilestoneAdminForm
    list_display = [
        "title",
        "goal_name",
        "strategy_number",
        "due",
        "revised_due",
        "status",
        "owner",
        "overdue",
        "updated_at",
    ]
    list_filter = ["status", OverdueFilter, "goal", "strategy"]
    list_select_related = ["goal", "strategy"]
    search_fields = ["title", "owner", "comment", "goal__title", "goal__short_name"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "goal",
                    "strategy",
                    "position",
                    "title",
                    ("due", "revised_due"),
                    "status",
                    "owner",
                    "comment",
                    "depends_on",
                    "expected_version",
                ]
            },
        ),
        (_("Record"), {"fields": ["version", "created_at", "updated_at"]}),
    ]
    inlines = [StatusUpdateInline]

    @admin.display(description=_("goal"), ordering="goal__short_name")
    def goal_name(self, obj):
        return obj.goal.short_name or obj.goal.title

    @admin.display(description=_("strategy"), ordering="strategy__number")
    def strategy_number(self, obj):
        return obj.strategy.number if obj.strategy_id else None

    def get_queryset(self, request):
        # Each row's goal's last published quarter, for its reporting quarter without a
        # query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                goal_last_published_key=Subquery(
                    ProgressSummary.objects.published()
                    .filter(goal=OuterRef("goal"))
                    .values("goal")
                    .annotate(last=Max("period"))
                    .values("last")[:1]
                )
            )
        )

    @admin.display(description=_("overdue in the reporting quarter"), boolean=True)
    def overdue(self, obj):
        goal = obj.goal
        if hasattr(obj, "goal_last_published_key"):
            goal.last_published_key = obj.goal_last_published_key
        return obj.is_overdue_in(reporting_quarter(goal))

    def get_readonly_fields(self, request, obj=None):
        readonly = ["version", "created_at", "updated_at"]
        if obj is not None:
            # A milestone's strategy and dependency are of its goal; moving it to
            # another goal is not an edit the plan has.
            return ["goal", *readonly]
        return readonly


class MilestoneInlineFormSet(BaseInlineFormSet):
    """Offers the goal's strategies and milestones, read once for the whole formset
    (a queryset per form would be two queries per milestone row)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        goal = self.instance
        if goal.pk is None:
            self._strategies = Strategy.objects.none()
            self._milestones = Milestone.objects.none()
        else:
            self._strategies = Strategy.objects.filter(goal=goal)
            self._milestones = Milestone.objects.filter(goal=goal)
        self._strategy_choices = [(s.pk, str(s)) for s in self._strategies]
        self._milestone_choices = [(m.pk, str(m)) for m in self._milestones]

    def add_fields(self, form, index):
        super().add_fields(form, index)
        own_pk = form.instance.pk
        others = [choice for choice in self._milestone_choices if choice[0] != own_pk]
        for name, queryset, choices in [
            ("strategy", self._strategies, self._strategy_choices),
            ("depends_on", self._milestones.exclude(pk=own_pk), others),
        ]:
            field = form.fields.get(name)
            if field is None:
                continue
            field.queryset = queryset  # what validation accepts
            blank = [("", field.empty_label)] if field.empty_label is not None else []
            field.choices = blank + choices


class MilestoneInline(FiscalPeriodAsText, admin.TabularInline):
    model = Milestone
    form = MilestoneAdminForm
    formset = MilestoneInlineFormSet
    fields = [
        "position",
        "title",
        "strategy",
        "due",
        "revised_due",
        "status",
        "owner",
        "depends_on",
        "expected_version",
    ]
    extra = 0
    show_change_link = True


class ProgressSummaryInline(FiscalPeriodAsText, admin.StackedInline):
    model = ProgressSummary
    fields = ["period", "summary"]
    extra = 0

    def has_change_permission(self, request, obj=None):
        # ``obj`` is the goal: while any of its updates is in review (its quarter locked)
        # or published, the inline only shows them; each is edited on its own admin page.
        if obj is not None and obj.progress_summaries.exclude(review_state="draft").exists():
            return False
        return super().has_change_permission(request, obj)


@admin.register(StatusUpdate)
class StatusUpdateAdmin(AuditedAdmin):
    # Read-only, like the inline on the milestone page: updates are append-only and
    # made through the app's status-update service, which also updates the milestone.
    list_display = ["milestone", "goal_name", "period", "status", "author_name", "created_at"]
    list_filter = ["status", "milestone__goal"]
    list_select_related = ["milestone__goal"]
    search_fields = ["comment", "author_name", "milestone__title"]
    date_hierarchy = "created_at"

    @admin.display(description=_("goal"), ordering="milestone__goal__short_name")
    def goal_name(self, obj):
        return obj.milestone.goal.short_name or obj.milestone.goal.title

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProgressSummary)
class ProgressSummaryAdmin(AuditedAdmin):
    list_display = ["goal_name", "period", "risk", "published_at", "updated_at"]
    list_filter = ["goal", "risk"]
    readonly_fields = ["published_at", "published_by_name"]
    list_select_related = ["goal"]
    search_fields = ["summary", "goal__title", "goal__short_name"]

    def has_change_permission(self, request, obj=None):
        # In review its quarter is locked (milestones.review), published it is frozen: the
        # admin shows it, as the app does, and changes nothing.
        if obj is not None and (obj.is_in_review or obj.is_published):
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("goal"), ordering="goal__short_name")
    def goal_name(self, obj):
        return obj.goal.short_name or obj.goal.title


@admin.register(Goal)
class GoalWithMilestonesAdmin(GoalAdmin):
    """The goal's admin with its milestones and progress summaries inline: registered here,
    the layer that knows both, so no app order or patching is involved."""

    inlines = [*GoalAdmin.inlines, MilestoneInline, ProgressSummaryInline]
