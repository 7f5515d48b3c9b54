"""One cohesive module, the milestones app's models (Django's one models.py per app): key
milestones, the status updates that keep them current, and progress summaries."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Mod
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistoricalRecords
from strategies.models import Goal, Strategy, bump_version
from strategies.periods import (
    ONGOING_KEY,
    FiscalPeriod,
    FiscalPeriodField,
    fiscal_year_range,
    period_is_valid,
)


class Status(models.TextChoices):
    TBD = "tbd", _("TBD")
    NOT_STARTED = "not_started", _("Not started")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    DELAYED = "delayed", _("Delayed")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# A milestone in one of these is finished: it is never overdue.
CLOSED_STATUSES = (Status.COMPLETED, Status.CANCELLED)


class MilestoneQuerySet(models.QuerySet):
    def with_effective_due(self):
        """Annotate ``effective_due_key``: the revised due where set, else the due."""
        return self.annotate(effective_due_key=Coalesce("revised_due", "due"))

    def overdue(self, quarter: FiscalPeriod):
        """Open milestones whose effective due period ended before ``quarter`` (the
        goal's reporting quarter) began."""
        return self.with_effective_due().filter(overdue_q(quarter))

    def in_fiscal_year(self, fiscal_year: int):
        low, high = fiscal_year_range(fiscal_year)
        return self.with_effective_due().filter(effective_due_key__range=(low, high))


def overdue_q(quarter: FiscalPeriod, prefix: str = "") -> Q:
    """Condition for "overdue" on a query annotated with ``effective_due_key``: the
    effective due period ended before the reporting quarter ``quarter`` began (its key
    is below the quarter's), and the milestone is still open."""
    return Q(**{f"{prefix}effective_due_key__lt": quarter.key}) & ~Q(
        **{f"{prefix}status__in": CLOSED_STATUSES}
    )


def due_this_quarter_q(quarter: FiscalPeriod, prefix: str = "") -> Q:
    """Condition for "due this quarter": the effective due period ends within the
    reporting quarter ``quarter`` (the quarter itself, or its fiscal year when it is
    the year's Q4), and the milestone is still open."""
    keys = [quarter.key]
    if quarter.quarter == 4:
        keys.append(FiscalPeriod(quarter.fiscal_year).key)
    return Q(**{f"{prefix}effective_due_key__in": keys}) & ~Q(
        **{f"{prefix}status__in": CLOSED_STATUSES}
    )


def status_counts(prefix: str = "") -> dict[str, Count]:
    """Aggregates counting milestones by status, for ``annotate()``/``aggregate()``."""
    return {
        f"count_{status.value}": Count("pk", filter=Q(**{f"{prefix}status": status}))
        for status in Status
    }


class Milestone(models.Model):
    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("goal")
    )
    # RESTRICT, not PROTECT: a strategy with milestones cannot be deleted on its own,
    # yet the pair can go together when a whole plan is removed.
    strategy = models.ForeignKey(
        Strategy,
        on_delete=models.RESTRICT,
        related_name="milestones",
        null=True,
        blank=True,
        verbose_name=_("strategy alignment"),
    )
    position = models.PositiveIntegerField(
        _("position"), default=1, help_text=_("Order in the published plan.")
    )
    title = models.CharField(_("key milestone"), max_length=500)
    due = FiscalPeriodField(_("due"), null=True, blank=True)
    revised_due = FiscalPeriodField(
        _("revised due"),
        null=True,
        blank=True,
        help_text=_("Set when the milestone is delayed; the original due stays."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.TBD
    )
    owner = models.CharField(_("owner"), max_length=200, blank=True, help_text=_("e.g. OFAC"))
    comment = models.TextField(_("comment"), blank=True, help_text=_("The published comment."))
    # RESTRICT, not SET_NULL: SET_NULL clears dependents with a QuerySet.update(), which
    # writes no history. A milestone others depend on is kept until they move on.
    depends_on = models.ForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="dependents",
        verbose_name=_("depends on"),
    )
    # Optimistic concurrency: bumped on every save through the services; a form posted
    # from an older version is refused instead of overwriting someone else's change.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    history = AuditedHistoricalRecords()

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("key milestone")
        verbose_name_plural = _("key milestones")
        ordering = ["goal", "position", "id"]
        indexes = [models.Index(fields=["goal", "position"], name="milestone_goal_position")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="milestone_status_valid"
            ),
            models.CheckConstraint(condition=period_is_valid("due"), name="milestone_due_valid"),
            models.CheckConstraint(
                condition=period_is_valid("revised_due"), name="milestone_revised_due_valid"
            ),
            models.CheckConstraint(
                condition=~Q(depends_on=models.F("pk")), name="milestone_not_own_dependency"
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # Every save is a new version, whatever path it takes (app, admin, import), so a
        # form opened before it can tell it is stale.
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("milestone_detail", kwargs={"slug": self.goal.slug, "pk": self.pk})

    def clean(self):
        errors = {}
        if (
            self.strategy_id is not None
            and self.goal_id is not None
            and self.strategy.goal_id != self.goal_id
        ):
            errors["strategy"] = ValidationError(
                _("Strategy %(strategy)s belongs to another goal."),
                code="strategy_other_goal",
                params={"strategy": self.strategy.number},
            )
        if self.depends_on_id is not None:
            if self.pk is not None and self.depends_on_id == self.pk:
                errors["depends_on"] = ValidationError(
                    _("A milestone cannot depend on itself."), code="self_dependency"
                )
            elif self.goal_id is not None and self.depends_on.goal_id != self.goal_id:
                errors["depends_on"] = ValidationError(
                    _("A milestone can depend only on a milestone of the same goal."),
                    code="dependency_other_goal",
                )
        if errors:
            raise ValidationError(errors)

    @property
    def effective_due(self) -> FiscalPeriod | None:
        """The revised due where one is set, else the due."""
        return self.revised_due or self.due

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def is_overdue_in(self, quarter: FiscalPeriod) -> bool:
        """Overdue when the goal reports on ``quarter``: the effective due period ended
        before it began, and the milestone is still open."""
        due = self.effective_due
        return due is not None and not self.is_closed and due.key < quarter.key

    def is_due_in(self, quarter: FiscalPeriod) -> bool:
        """Due this quarter: the effective due period ends within ``quarter``, and the
        milestone is still open."""
        due = self.effective_due
        return (
            due is not None
            and not due.is_ongoing
            and not self.is_closed
            and due.last_quarter == quarter
        )


class StatusUpdate(models.Model):
    """One review of a milestone by a goal leader: append-only."""

    milestone = models.ForeignKey(
        Milestone,
        on_delete=models.PROTECT,
        related_name="status_updates",
        verbose_name=_("milestone"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    # Kept on the row so the record survives the author's account being removed.
    author_name = models.CharField(_("author's name"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    period = FiscalPeriodField(_("reporting period"))
    previous_status = models.CharField(
        _("previous status"), max_length=20, choices=Status.choices, blank=True
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    comment = models.TextField(_("comment"), blank=True)
    revised_due = FiscalPeriodField(_("revised due"), null=True, blank=True)
    # When the update was originally reported, as information: an update imported with
    # its plan keeps the day it was reported in its source; ``created_at`` (and history)
    # stay the true time it entered this system. Empty: the day of ``created_at``.
    reported_on = models.DateField(_("originally reported on"), null=True, blank=True)

    history = AuditedHistoricalRecords()

    class Meta:
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        ordering = ["milestone", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="update_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(previous_status="") | Q(previous_status__in=Status.values),
                name="update_previous_status_valid",
            ),
            models.CheckConstraint(
                condition=period_is_valid("period", quarters_only=False) & ~Q(period=ONGOING_KEY),
                name="update_period_valid",
            ),
            models.CheckConstraint(
                condition=period_is_valid("revised_due"), name="update_revised_due_valid"
            ),
        ]

    def __str__(self):
        return f"{self.milestone} — {self.get_status_display()} ({self.period})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Status updates are append-only; add a new one instead.")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.milestone.get_absolute_url()}#update-{self.pk}"


def updated_for_quarter(quarter) -> models.Exists:
    """Condition for "updated for the quarter", for ``annotate()``/``filter()`` on
    milestones: it has a status update whose period is ``quarter`` (a FiscalPeriod, or an
    expression such as ``OuterRef("reporting_key")`` for each goal's own quarter). An open
    milestone without one is still to update (My goals, the dashboard's work line)."""
    return models.Exists(
        StatusUpdate.objects.filter(milestone=models.OuterRef("pk"), period=quarter)
    )


class Risk(models.TextChoices):
    """How likely the goal is to miss its target (the statute asks agencies to say)."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Likelihood(models.TextChoices):
    LIKELY = "likely", _("Likely")
    UNCERTAIN = "uncertain", _("Uncertain")
    UNLIKELY = "unlikely", _("Unlikely")


# The data accuracy and reliability statement, in the order an action plan prints it.
DATA_STATEMENT_FIELDS = (
    "verification_validation",
    "data_sources",
    "data_accuracy",
    "data_limitations",
    "limitations_compensation",
)
# What a quarterly update holds besides its period: the form and the service edit these.
QUARTERLY_UPDATE_FIELDS = (
    "summary",
    "next_steps",
    "risk",
    "likelihood",
    "improvement_actions",
    *DATA_STATEMENT_FIELDS,
)


def improvement_actions_error(
    *, risk: str, improvement_actions: str, period: FiscalPeriod | None = None
) -> ValidationError | None:
    """The risk rule: a high risk needs improvement actions. The refusal (None if the
    rule holds); with ``period``, worded for publishing that quarter's update."""
    if risk != Risk.HIGH or improvement_actions.strip():
        return None
    if period is not None:
        message = _(
            "The risk is high: add the improvement actions to the %(period)s update first."
        ) % {"period": period}
    else:
        message = _(
            "Say what is being done about it: improvement actions are required when the "
            "risk is high."
        )
    return ValidationError(message, code="improvement_actions_required")


class ReviewState(models.TextChoices):
    """Where a quarterly update stands in its review chain (milestones.review): written by
    the goal team, submitted by its leader or deputy, approved by the agency's performance
    office, cleared by the OMB examiner, then published. A step the agency switched off
    is skipped; any reviewer may return the update to draft with a comment."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved by the agency")
    CLEARED = "cleared", _("Cleared by the examiner")
    PUBLISHED = "published", _("Published")


# While an update is in review its quarter's content is locked: status updates for the
# quarter, the update itself and indicator values for it; a change needs it returned.
REVIEW_LOCKED_STATES = (ReviewState.SUBMITTED, ReviewState.APPROVED, ReviewState.CLEARED)


class ProgressSummaryQuerySet(models.QuerySet):
    def published(self):
        """Quarterly updates that have been published (and so are frozen)."""
        return self.filter(published_at__isnull=False)


class ProgressSummary(models.Model):
    """A goal's quarterly update for one reporting period (quarter or fiscal year): the
    "Summary of Progress", next steps, risk and the data statement. Once published it is
    frozen, and the plan as it stood then is what its quarter's published plan shows."""

    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, related_name="progress_summaries", verbose_name=_("goal")
    )
    period = FiscalPeriodField(_("reporting period"))
    summary = models.TextField(_("summary of progress"), help_text=_("Markdown."))
    next_steps = models.TextField(_("next steps"), blank=True, help_text=_("Markdown."))
    # Blank while a draft: publishing requires one.
    risk = models.CharField(
        _("risk of not meeting the goal"), max_length=10, choices=Risk.choices, blank=True
    )
    likelihood = models.CharField(
        _("likelihood of meeting the target"),
        max_length=10,
        choices=Likelihood.choices,
        blank=True,
    )
    improvement_actions = models.TextField(
        _("improvement actions"),
        blank=True,
        help_text=_("Markdown. Required when the risk is high."),
    )
    verification_validation = models.TextField(
        _("how the data are verified and validated"), blank=True
    )
    data_sources = models.TextField(_("data sources"), blank=True)
    data_accuracy = models.TextField(_("level of accuracy required"), blank=True)
    data_limitations = models.TextField(_("limitations of the data"), blank=True)
    limitations_compensation = models.TextField(
        _("how the limitations are compensated for"), blank=True
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("published by"),
    )
    # Kept on the row so the record survives the publisher's account being removed.
    published_by_name = models.CharField(
        _("published by (name)"), max_length=150, blank=True, editable=False
    )
    # The day the update was published, as the plan states it: the day of
    # ``published_at`` when published here, the source's date when imported with its
    # plan (``published_at`` is then the import, the true time it entered the system).
    published_on = models.DateField(_("publication date"), null=True, blank=True, editable=False)
    # The review chain (milestones.review). Each transition is a recorded change of this
    # row, with who, when and the comment as its reason.
    review_state = models.CharField(
        _("review state"),
        max_length=12,
        choices=ReviewState.choices,
        default=ReviewState.DRAFT,
        editable=False,
    )
    # When the update entered its review state (what the Clearance page's "waiting since"
    # reads without a history query).
    review_state_at = models.DateTimeField(
        _("in this state since"), null=True, blank=True, editable=False
    )
    # The comment of the last return to draft, shown to the team on the update until it
    # is submitted again.
    returned_comment = models.TextField(_("returned with"), blank=True, editable=False)
    # Optimistic concurrency, as on Milestone: a form opened at an older version is
    # refused instead of overwriting someone else's save.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    history = AuditedHistoricalRecords()

    objects = ProgressSummaryQuerySet.as_manager()

    class Meta:
        verbose_name = _("progress summary")
        verbose_name_plural = _("progress summaries")
        ordering = ["goal", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "period"], name="progress_one_per_period"),
            models.CheckConstraint(
                condition=period_is_valid("period") & ~Q(period=ONGOING_KEY),
                name="progress_period_valid",
            ),
            models.CheckConstraint(
                condition=Q(risk="") | Q(risk__in=Risk.values), name="progress_risk_valid"
            ),
            models.CheckConstraint(
                condition=Q(likelihood="") | Q(likelihood__in=Likelihood.values),
                name="progress_likelihood_valid",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=ReviewState.values),
                name="progress_review_state_valid",
            ),
            # Published in the chain exactly when it has a publication time.
            models.CheckConstraint(
                condition=Q(review_state=ReviewState.PUBLISHED, published_at__isnull=False)
                | (~Q(review_state=ReviewState.PUBLISHED) & Q(published_at__isnull=True)),
                name="progress_review_state_published",
            ),
            # A published update states its risk; only a quarter is published.
            models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | (~Q(risk="") & Q(LessThanOrEqual(Mod("period", 10), 4))),
                name="progress_published_complete",
            ),
        ]

    def __str__(self):
        return f"{self.goal.short_name or self.goal} — {self.period}"

    def save(self, *args, **kwargs):
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.is_published:
            return f"{self.goal.get_plan_url()}?{urlencode({'quarter': str(self.period)})}"
        return f"{self.goal.get_plan_url()}#progress"

    def clean(self):
        refusal = improvement_actions_error(
            risk=self.risk, improvement_actions=self.improvement_actions
        )
        if refusal is not None:
            raise ValidationError({"improvement_actions": refusal})

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_in_review(self) -> bool:
        """Submitted, approved or cleared: its quarter's content is locked."""
        return self.review_state in REVIEW_LOCKED_STATES

    @property
    def published_label(self) -> str:
        """ "Q3 FY19 was published on 3 July 2019 by jdoe"; for an update imported with
        its plan, also when it entered this system."""
        published_at = timezone.localtime(self.published_at)
        values = {
            "period": self.period,
            "day": date_format(published_at, "j F Y, H:i"),
            "name": self.published_by_name or _("someone"),
        }
        if self.published_on is not None and self.published_on != published_at.date():
            values["day"] = date_format(self.published_on, "j F Y")
            values["entered"] = date_format(published_at, "j F Y, H:i")
            return (
                _("%(period)s was published on %(day)s by %(name)s (entered here on %(entered)s)")
                % values
            )
        return _("%(period)s was published on %(day)s by %(name)s") % values

    @property
    def data_statement(self) -> list[tuple[str, str]]:
        """The data accuracy and reliability statement: (heading, text) per part stated."""
        return [
            (self._meta.get_field(name).verbose_name, getattr(self, name))
            for name in DATA_STATEMENT_FIELDS
            if getattr(self, name).strip()
        ]


class ReminderLog(models.Model):
    """One reminder email sent to one person for one reporting quarter.

    Not tracked by simple-history: it is an operational log of emails, not plan data, and
    each row is itself the record (append-only). ``send_update_reminders`` skips whoever
    already has a row for the quarter unless ``--force``, which adds another row.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="update_reminders",
        verbose_name=_("user"),
    )
    period = FiscalPeriodField(_("reporting quarter"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    milestone_count = models.PositiveIntegerField(_("milestones listed"), default=0)

    class Meta:
        verbose_name = _("update reminder")
        verbose_name_plural = _("update reminders")
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["user", "period"], name="reminder_user_period")]
        constraints = [
            models.CheckConstraint(
                condition=period_is_valid("period", quarters_only=True),
                name="reminder_period_quarter",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.period}"
