"""The plan: agencies, goals with their narrative, strategies, memberships, key indicators."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistoricalRecords
from strategies.periods import ONGOING_KEY, FiscalPeriod, FiscalPeriodField, period_is_valid


def bump_version(instance, save_kwargs: dict) -> None:
    """Count a save of an existing row as a new ``version`` (``save_kwargs`` are those of
    ``save()``: an ``update_fields`` list gets the version added)."""
    if instance._state.adding:
        return
    instance.version += 1
    update_fields = save_kwargs.get("update_fields")
    if update_fields is not None:
        save_kwargs["update_fields"] = {*update_fields, "version"}


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")
    RESTRICTED = "restricted", _("Restricted")


class Role(models.TextChoices):
    LEADER = "leader", _("Goal leader")
    DEPUTY = "deputy", _("Deputy goal leader")
    CONTRIBUTOR = "contributor", _("Contributor")
    REVIEWER = "reviewer", _("Reviewer")


# Roles whose members keep a goal's milestones current.
EDITOR_ROLES = (Role.LEADER, Role.DEPUTY, Role.CONTRIBUTOR)


class AgencyRoleKind(models.TextChoices):
    """Roles held over a whole agency (``AgencyRole``), beside the per-goal ``Role``."""

    # Manages the goals, strategies and memberships of the agency, and nothing outside it.
    ADMIN = "admin", _("Agency administrator")
    # The Performance Improvement Officer's staff: reads every goal of the agency (history
    # and audit included) and approves or returns its quarterly updates.
    PERFORMANCE_OFFICE = "performance_office", _("Agency performance office")
    # An OMB examiner assigned to the agency: reads its goals, clears or returns updates.
    EXAMINER = "examiner", _("Examiner")


class Frequency(models.TextChoices):
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


# Contributing-program fields: one item per line, exported as YAML lists.
PROGRAM_FIELDS = ("organizations", "regulations", "policies", "other_federal_activities")
# Narrative sections, in the order of a published action plan.
SECTION_FIELDS = (
    "overview",
    "challenge",
    "opportunity",
    "key_external_factors",
    "history",
    "key_indicators",
    "strategic_alignment",
)

# What an admin edits on the goal form; the slug is not among them (URLs cite it).
GOAL_EDITABLE_FIELDS = (
    "title",
    "short_name",
    "statement",
    "target_date",
    "sensitivity",
    "leader_name",
    "leader_title",
    "deputy_name",
    "deputy_title",
    *SECTION_FIELDS,
    *PROGRAM_FIELDS,
    "continued_by",
)


class Agency(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    abbreviation = models.CharField(_("abbreviation"), max_length=30, blank=True)
    # The review chain of a quarterly update (milestones.review): the steps this agency
    # uses. A step switched off is skipped; every transition is recorded either way.
    agency_approval = models.BooleanField(
        _("the agency's performance office approves each update"), default=True
    )
    examiner_clearance = models.BooleanField(_("an OMB examiner clears each update"), default=True)

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Goal(models.Model):
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="goals", verbose_name=_("agency")
    )
    title = models.CharField(_("title"), max_length=300)
    short_name = models.CharField(
        _("short name"), max_length=40, help_text=_("e.g. SDIF"), blank=True
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True, help_text=_("Used in URLs."))
    statement = models.TextField(_("goal statement"))
    target_date = models.DateField(_("target date"), null=True, blank=True)
    first_fiscal_year = models.PositiveSmallIntegerField(_("first fiscal year"))
    last_fiscal_year = models.PositiveSmallIntegerField(_("last fiscal year"))
    sensitivity = models.CharField(
        _("sensitivity"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.INTERNAL
    )
    leader_name = models.CharField(_("goal leader"), max_length=200, blank=True)
    leader_title = models.CharField(_("goal leader's title"), max_length=300, blank=True)
    deputy_name = models.CharField(_("deputy goal leader"), max_length=200, blank=True)
    deputy_title = models.CharField(_("deputy goal leader's title"), max_length=300, blank=True)

    overview = models.TextField(_("overview"), blank=True, help_text=_("Markdown."))
    challenge = models.TextField(_("challenge"), blank=True, help_text=_("Markdown."))
    opportunity = models.TextField(_("opportunity"), blank=True, help_text=_("Markdown."))
    key_external_factors = models.TextField(
        _("key external factors"), blank=True, help_text=_("Markdown.")
    )
    history = models.TextField(_("history"), blank=True, help_text=_("Markdown."))
    key_indicators = models.TextField(
        _("key indicators note"),
        blank=True,
        help_text=_("Markdown. Shown in place of indicators, e.g. why none are published."),
    )
    strategic_alignment = models.TextField(
        _("alignment to strategic objectives"), blank=True, help_text=_("Markdown.")
    )

    organizations = models.TextField(
        _("contributing organizations"), blank=True, help_text=_("One per line.")
    )
    regulations = models.TextField(_("regulations"), blank=True, help_text=_("One per line."))
    policies = models.TextField(_("policies"), blank=True, help_text=_("One per line."))
    other_federal_activities = models.TextField(
        _("other federal activities"), blank=True, help_text=_("One per line.")
    )

    # Optimistic concurrency, as on Milestone: bumped on every save, so a form opened
    # at an older version is refused instead of overwriting someone else's change.
    # The lifecycle: active while ``closed_at`` is empty. A closed goal is read-only
    # (sdif_tracker.access); closing and reopening are recorded changes with a reason
    # (milestones.lifecycle).
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    # The goal that continues this one in the next cycle ("Continued in FY 2020–21 as …").
    continued_by = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="continues",
        verbose_name=_("continued by"),
        help_text=_("The goal that continues this one in the next cycle."),
    )
    # Set by an admin to hold the goal on a reporting quarter; empty: the quarter after
    # the last published one (milestones.quarters.reporting_quarter).
    reporting_quarter_set = FiscalPeriodField(
        _("reporting quarter (set by an admin)"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Empty: the quarter after the last published one."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    # The model has a narrative field called "history", so the history manager is named
    # "changes" here (and only here); audit.history.history_of(model) finds either name.
    changes = AuditedHistoricalRecords()
    # Its history rows belong to the goal itself (audit.history.goal_id_of).
    history_goal_is_self = True

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["agency__name", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sensitivity__in=Sensitivity.values), name="goal_sensitivity_valid"
            ),
            models.CheckConstraint(
                condition=Q(first_fiscal_year__lte=models.F("last_fiscal_year")),
                name="goal_fiscal_years_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.short_name}: {self.title}" if self.short_name else self.title

    def save(self, *args, **kwargs):
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("goal_dashboard", kwargs={"slug": self.slug})

    def get_plan_url(self):
        return reverse("goal_plan", kwargs={"slug": self.slug})

    @property
    def fiscal_years(self) -> list[int]:
        return list(range(self.first_fiscal_year, self.last_fiscal_year + 1))

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def first_quarter(self) -> FiscalPeriod:
        """The first quarter of the goal's period (Q1 of its first fiscal year)."""
        return FiscalPeriod(self.first_fiscal_year, 1)

    @property
    def last_quarter(self) -> FiscalPeriod:
        """The last quarter of the goal's period (Q4 of its last fiscal year)."""
        return FiscalPeriod(self.last_fiscal_year, 4)

    @property
    def cycle_label(self) -> str:
        """ "FY 2020–21", "FY 2019": the cycle, as the continuation links name it."""
        if self.first_fiscal_year == self.last_fiscal_year:
            return f"FY {self.first_fiscal_year}"
        last = self.last_fiscal_year
        tail = f"{last % 100:02d}" if last // 100 == self.first_fiscal_year // 100 else str(last)
        return f"FY {self.first_fiscal_year}–{tail}"

    def program_list(self, field: str) -> list[str]:
        return [line.strip() for line in getattr(self, field).splitlines() if line.strip()]

    @property
    def programs(self) -> dict[str, list[str]]:
        return {field: self.program_list(field) for field in PROGRAM_FIELDS}


class Strategy(models.Model):
    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, related_name="strategies", verbose_name=_("goal")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    # Optimistic concurrency, as on Milestone: bumped on every save, so a form opened
    # at an older version is refused instead of overwriting someone else's change.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")
        ordering = ["goal", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "number"], name="strategy_number_unique_in_goal"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="strategy_number_positive"),
        ]

    def __str__(self):
        return f"Strategy {self.number}: {self.title}"

    def save(self, *args, **kwargs):
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.goal.get_absolute_url()}#strategy-{self.number}"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    goal = models.ForeignKey(
        Goal, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("goal")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # Contributors enter indicator actuals only when given this; leaders and deputies
    # always may (sdif_tracker.access).
    reports_indicators = models.BooleanField(
        _("reports indicator actuals"),
        default=False,
        help_text=_(
            "Lets a contributor enter indicator actuals; leaders and deputies always can."
        ),
    )

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["goal", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "goal"], name="membership_one_role_per_goal"),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} of {self.goal.short_name or self.goal}"

    def get_absolute_url(self):
        return self.goal.get_absolute_url()


class AgencyRole(models.Model):
    """A role over every goal of one agency: agency administrator, performance office or
    examiner (an examiner holds one row per agency assigned to them)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agency_roles",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="roles", verbose_name=_("agency")
    )
    role = models.CharField(_("role"), max_length=20, choices=AgencyRoleKind.choices)

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("agency role")
        verbose_name_plural = _("agency roles")
        ordering = ["agency", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="agency_role_unique"),
            models.CheckConstraint(
                condition=Q(role__in=AgencyRoleKind.values), name="agency_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}, {self.agency}"


class Indicator(models.Model):
    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("goal")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    name = models.CharField(_("name"), max_length=300)
    unit = models.CharField(_("unit"), max_length=60, blank=True)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    definition = models.TextField(_("definition"), blank=True)
    data_source = models.TextField(
        _("data source"), blank=True, help_text=_("Named in the data accuracy statement.")
    )
    frequency = models.CharField(
        _("reporting frequency"),
        max_length=10,
        choices=Frequency.choices,
        default=Frequency.QUARTERLY,
    )
    baseline_value = models.DecimalField(
        _("baseline"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    baseline_period = FiscalPeriodField(_("baseline period"), null=True, blank=True)
    # Sensitive indicators stay internal: only a published one is on the published plan.
    is_published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Shown on the published plan; leave off for sensitive indicators."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("key indicator")
        verbose_name_plural = _("key indicators")
        ordering = ["goal", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "name"], name="indicator_name_unique_in_goal"),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="indicator_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="indicator_frequency_valid"
            ),
            models.CheckConstraint(
                condition=Q(baseline_period__isnull=True)
                | (period_is_valid("baseline_period") & ~Q(baseline_period=ONGOING_KEY)),
                name="indicator_baseline_period_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.goal.get_plan_url()}#indicators"


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name=_("indicator")
    )
    period = FiscalPeriodField(_("period"))
    target = models.DecimalField(
        _("target"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    actual = models.DecimalField(
        _("actual"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True, help_text=_("About the actual, if needed."))
    # Optimistic concurrency, as on Milestone: an actual entered on a stale form is refused.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True, null=True)

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["indicator", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period"], name="indicator_value_one_per_period"
            ),
            models.CheckConstraint(
                condition=period_is_valid("period") & ~Q(period=ONGOING_KEY),
                name="indicator_value_period_valid",
            ),
        ]

    def __str__(self):
        return f"{self.indicator}: {self.period}"

    def save(self, *args, **kwargs):
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return self.indicator.get_absolute_url()

    def clean(self):
        if self.period is not None and self.period.is_ongoing:
            raise ValidationError(
                {"period": _("An indicator value belongs to a quarter or a fiscal year.")},
                code="ongoing_indicator",
            )
