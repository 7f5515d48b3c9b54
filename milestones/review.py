"""The review chain of a quarterly update: draft → submitted → approved by the agency →
cleared by the examiner → published, and back to draft with a comment from any reviewer.

This module holds the one rule every write of a quarter's content obeys (an update in
review locks its quarter) and the chain's transitions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.history import recorded_change
from audit.reasons import PREFIX, encode
from milestones import reasons
from milestones.management.commands.send_update_reminders import email_language
from milestones.models import ProgressSummary, ReviewState, improvement_actions_error
from milestones.quarters import reporting_quarter
from milestones.tasks import enqueue_email
from strategies.models import Agency, AgencyRole, AgencyRoleKind, Goal, Membership, Role
from strategies.periods import FiscalPeriod
from strategies.services import StaleEditError, lock_for_edit, refuse_if_closed

# A review comment is read on the update, in the trail and in an email: a paragraph or
# two, not a document.
COMMENT_MAX_LENGTH = 2000


class UpdateInReviewError(Exception):
    """A write to a quarter whose update is in review (submitted, approved or cleared):
    refused, nothing written. The update must be returned to draft first."""

    def __init__(self, summary: ProgressSummary):
        self.summary = summary
        super().__init__(
            _(
                "The %(period)s update is %(state)s: its status updates, progress summary "
                "and indicator values are locked while it is in review. A reviewer must "
                "return it to draft before anything for %(period)s changes."
            )
            % {"period": summary.period, "state": summary.get_review_state_display().lower()}
        )


def update_in_review(goal: Goal, period: FiscalPeriod | None) -> ProgressSummary | None:
    """The goal's update for ``period`` if it is in review (its quarter locked), else None.
    A fiscal year's content is locked by none: only quarters are reviewed."""
    if period is None:
        return None
    summary = ProgressSummary.objects.filter(goal=goal, period=period).first()
    return summary if summary is not None and summary.is_in_review else None


def refuse_if_in_review(goal: Goal, period: FiscalPeriod | None) -> None:
    """Raise ``UpdateInReviewError`` if ``period``'s update of ``goal`` is in review. Every
    service writing a quarter's content calls it inside its transaction; the update's row
    is locked until that transaction ends, so a submission cannot slip in between this
    check and the write (it waits, and then sees the write)."""
    if period is None:
        return
    summary = ProgressSummary.objects.select_for_update().filter(goal=goal, period=period).first()
    if summary is not None and summary.is_in_review:
        raise UpdateInReviewError(summary)


# -- the chain ----------------------------------------------------------------------------

# The states in the order an update passes them; a step switched off is skipped.
_ORDER = {state: index for index, state in enumerate(ReviewState.values)}


class Action(enum.StrEnum):
    """What can be done to an update in the chain (the review page's ``action`` field)."""

    SUBMIT = "submit"
    APPROVE = "approve"
    CLEAR = "clear"
    PUBLISH = "publish"
    RETURN = "return"
    WITHDRAW = "withdraw"


class Actor(enum.StrEnum):
    """Who takes a step: the goal team (leaders, deputies, administrators), the agency's
    performance office, or the examiner."""

    TEAM = "team"
    PERFORMANCE_OFFICE = "performance_office"
    EXAMINER = "examiner"


@dataclass(frozen=True)
class Step:
    """One step of an agency's chain: ``actor`` takes the update from ``before`` to
    ``after`` by ``action``."""

    action: Action
    actor: Actor
    before: str
    after: str

    @property
    def waiting_label(self) -> str:
        """What the update waits for, in a sentence's words."""
        return {
            Action.SUBMIT: _("submission by a goal leader or deputy"),
            Action.APPROVE: _("approval by the agency's performance office"),
            Action.CLEAR: _("clearance by the examiner"),
            Action.PUBLISH: _("publication by a goal leader or deputy"),
        }[self.action]


def chain(agency: Agency) -> list[Step]:
    """The steps of ``agency``'s chain, in order: submit, approve (if the agency uses its
    performance office's approval), clear (if it uses the examiner's clearance), publish."""
    steps = [Step(Action.SUBMIT, Actor.TEAM, ReviewState.DRAFT, ReviewState.SUBMITTED)]
    state = ReviewState.SUBMITTED
    if agency.agency_approval:
        steps.append(Step(Action.APPROVE, Actor.PERFORMANCE_OFFICE, state, ReviewState.APPROVED))
        state = ReviewState.APPROVED
    if agency.examiner_clearance:
        steps.append(Step(Action.CLEAR, Actor.EXAMINER, state, ReviewState.CLEARED))
        state = ReviewState.CLEARED
    steps.append(Step(Action.PUBLISH, Actor.TEAM, state, ReviewState.PUBLISHED))
    return steps


def ready_to_publish_state(agency: Agency) -> str:
    """The state in which ``agency``'s updates may be published: cleared, approved or
    submitted, as its chain has the examiner's and the agency's steps."""
    return chain(agency)[-1].before


def next_step(summary: ProgressSummary, agency: Agency | None = None) -> Step | None:
    """The step ``summary`` waits for (None once published): the first step of its
    agency's chain that takes it further. The one rule every page and service reads for
    "who acts next". An update left at a state whose step the agency has since switched
    off goes on from there (approved, with approval off: the examiner clears it)."""
    agency = agency or summary.goal.agency
    here = _ORDER[summary.review_state]
    return next((step for step in chain(agency) if _ORDER[step.after] > here), None)


def _step_of(actor: Actor, agency: Agency) -> Step | None:
    return next((s for s in chain(agency) if s.actor == actor and s.action != Action.SUBMIT), None)


def _may_return_as(actor: Actor, summary: ProgressSummary, agency: Agency) -> bool:
    """A reviewer returns an update that waits for their step, or that they have just
    taken (until the next reviewer acts)."""
    step = _step_of(actor, agency)
    coming = next_step(summary, agency)
    return (
        summary.is_in_review
        and step is not None
        and (coming == step or step.after == summary.review_state)
    )


def actions_for(summary: ProgressSummary, permissions, agency: Agency | None = None) -> list:
    """The chain's actions ``permissions`` (``access.permissions_for``: ``submit_update``,
    ``approve_update``, ``clear_update``) allow on ``summary`` as it stands now (publishing
    excepted: the publish page offers it)."""
    agency = agency or summary.goal.agency
    state = summary.review_state
    coming = next_step(summary, agency)
    actions = []
    if state == ReviewState.DRAFT and permissions.submit_update:
        actions.append(Action.SUBMIT)
    if coming is not None and coming.action == Action.APPROVE and permissions.approve_update:
        actions.append(Action.APPROVE)
    if coming is not None and coming.action == Action.CLEAR and permissions.clear_update:
        actions.append(Action.CLEAR)
    if (
        permissions.approve_update and _may_return_as(Actor.PERFORMANCE_OFFICE, summary, agency)
    ) or (permissions.clear_update and _may_return_as(Actor.EXAMINER, summary, agency)):
        actions.append(Action.RETURN)
    if state == ReviewState.SUBMITTED and permissions.submit_update:
        actions.append(Action.WITHDRAW)
    return actions


def step_refusal(summary: ProgressSummary, agency: Agency | None = None) -> ValidationError | None:
    """Why ``summary`` may not be published yet as far as its review goes (the step it
    still waits for), or None when it stands at its agency's ready-to-publish state."""
    coming = next_step(summary, agency)
    if coming is None or coming.action == Action.PUBLISH:
        return None
    messages = {
        Action.SUBMIT: _(
            "The %(period)s update must be submitted for review before it is published."
        ),
        Action.APPROVE: _(
            "The %(period)s update must be approved by the agency's performance office "
            "before it is published."
        ),
        Action.CLEAR: _(
            "The %(period)s update must be cleared by the examiner before it is published."
        ),
    }
    return ValidationError(
        messages[coming.action] % {"period": summary.period}, code=f"needs_{coming.action}"
    )


def content_refusal(
    goal: Goal, period: FiscalPeriod | None, summary: ProgressSummary | None
) -> ValidationError | None:
    """Why the update ``summary`` of ``goal`` for ``period`` (None: none written) cannot
    go to review or be published, whatever its review: not a quarter, a quarter after the
    one being reported on, no update, one already published, no risk category, a high
    risk without improvement actions. Submission and publishing both ask it."""
    if period is None or not period.is_quarter:
        return ValidationError(
            _("Only a quarter's update is published (e.g. Q3 FY19); choose a quarter."),
            code="not_a_quarter",
        )
    current = reporting_quarter(goal)
    if period > current:
        return ValidationError(
            _(
                "%(period)s is after the quarter being reported on, %(current)s: publish "
                "%(current)s first."
            )
            % {"period": period, "current": current},
            code="future_quarter",
        )
    if summary is None:
        return ValidationError(
            _("There is no update for %(period)s to publish: write its summary of progress first.")
            % {"period": period},
            code="no_update",
        )
    if summary.is_published:
        return ValidationError(
            _("Already published: %(published)s. A published update does not change.")
            % {"published": summary.published_label},
            code="already_published",
        )
    if not summary.risk:
        return ValidationError(
            _("Choose the risk category (low, medium or high) of the %(period)s update first.")
            % {"period": period},
            code="risk_required",
        )
    return improvement_actions_error(
        risk=summary.risk, improvement_actions=summary.improvement_actions, period=period
    )


# -- the transitions ----------------------------------------------------------------------


class StaleReviewError(StaleEditError):
    """The update changed (was saved, or moved along its chain) since the page was
    opened; nothing was written."""

    @property
    def summary(self) -> ProgressSummary:
        return self.obj


class ReviewNotAllowed(PermissionDenied):
    """The user's role does not take this action on this update (views: 403)."""


_NOT_ALLOWED = {
    Action.SUBMIT: gettext_lazy(
        "Only the goal's leader, deputy or an administrator submits its update."
    ),
    Action.APPROVE: gettext_lazy("Only the agency's performance office approves an update."),
    Action.CLEAR: gettext_lazy("Only an examiner assigned to the agency clears an update."),
    Action.RETURN: gettext_lazy(
        "Only the agency's performance office or its examiner returns an update."
    ),
    Action.WITHDRAW: gettext_lazy(
        "Only the goal's leader, deputy or an administrator withdraws its update."
    ),
}


def _allowed(action: Action, permissions) -> bool:
    if action in (Action.SUBMIT, Action.WITHDRAW):
        return permissions.submit_update
    if action == Action.APPROVE:
        return permissions.approve_update
    if action == Action.CLEAR:
        return permissions.clear_update
    return permissions.approve_update or permissions.clear_update


def _wrong_state(action: Action, summary: ProgressSummary, agency: Agency) -> ValidationError:
    coming = next_step(summary, agency)
    values = {
        "period": summary.period,
        "state": summary.get_review_state_display().lower(),
        "waiting": coming.waiting_label if coming else "",
    }
    if summary.is_published:
        text = _("The %(period)s update is published: it does not change.")
    elif action == Action.RETURN and summary.review_state == ReviewState.DRAFT:
        text = _("The %(period)s update is already a draft: there is nothing to return.")
    elif action == Action.RETURN:
        text = _(
            "The %(period)s update is %(state)s and waits for %(waiting)s: you may return "
            "it only while it waits for your step or just after you took it."
        )
    elif action == Action.WITHDRAW:
        text = _(
            "The %(period)s update is %(state)s: it can be withdrawn only while it is "
            "submitted, before a reviewer acts. Ask a reviewer to return it."
        )
    else:
        text = _("The %(period)s update is %(state)s: it waits for %(waiting)s.")
    return ValidationError(text % values, code="wrong_state")


@transaction.atomic
def _transition(
    *,
    action: Action,
    summary: ProgressSummary,
    user,
    permissions,
    expected_version: int,
    comment: str = "",
) -> ProgressSummary:
    """Take ``summary`` one step along (or back down) its chain as ``user``: refuses
    (nothing written) a role that does not take ``action`` (``ReviewNotAllowed``), a
    stale page (``StaleReviewError``), a closed goal or a wrong state
    (``ValidationError``); records the change and emails whoever acts next, once the
    transaction commits."""
    goal = summary.goal
    if not _allowed(action, permissions):
        raise ReviewNotAllowed(_NOT_ALLOWED[action])
    # Not joined: FOR UPDATE would lock the goal's and agency's rows too.
    locked = lock_for_edit(
        ProgressSummary.objects.all(),
        pk=summary.pk,
        expected_version=expected_version,
        error=StaleReviewError,
    )
    locked.goal = goal
    refuse_if_closed(goal)
    agency = goal.agency
    comment = (comment or "").strip()
    try:  # a NUL cannot be stored (PostgreSQL refuses it): a clear refusal, not a 500
        ProhibitNullCharactersValidator()(comment)
        MaxLengthValidator(
            COMMENT_MAX_LENGTH,
            _(
                "Keep the comment to %(limit_value)d characters (it has %(show_value)d): "
                "say what must change; attach long notes elsewhere."
            ),
        )(comment)
    except ValidationError as error:
        raise ValidationError({"comment": error}) from None
    if action not in actions_for(locked, permissions, agency):
        raise _wrong_state(action, locked, agency)
    if action in (Action.APPROVE, Action.CLEAR) and _submitter_id(locked) == user.pk:
        # Separation of duties: whoever submitted an update does not approve or clear it.
        raise ReviewNotAllowed(
            _("You submitted this update: someone else must approve or clear it.")
        )
    period = str(locked.period)
    if action == Action.SUBMIT:
        refusal = content_refusal(goal, locked.period, locked)
        if refusal is not None:
            raise refusal
        state, reason = ReviewState.SUBMITTED, encode(reasons.UPDATE_SUBMITTED, period=period)
    elif action == Action.APPROVE:
        state, reason = ReviewState.APPROVED, encode(reasons.UPDATE_APPROVED, period=period)
    elif action == Action.CLEAR:
        state, reason = ReviewState.CLEARED, encode(reasons.UPDATE_CLEARED, period=period)
    elif action == Action.RETURN:
        if not comment:
            raise ValidationError(
                {
                    "comment": ValidationError(
                        _("Say what the team must change: a return needs a comment."),
                        code="comment_required",
                    )
                }
            )
        state = ReviewState.DRAFT
        reason = encode(reasons.UPDATE_RETURNED, period=period, comment=comment)
    else:
        state = ReviewState.DRAFT
        reason = (
            encode(reasons.UPDATE_WITHDRAWN_SAYING, period=period, comment=comment)
            if comment
            else encode(reasons.UPDATE_WITHDRAWN, period=period)
        )
    recipients = _recipients(locked, after=state, returned=action == Action.RETURN, actor=user)
    locked.review_state = state
    locked.review_state_at = timezone.now()
    # Shown to the team on the draft until it is submitted again.
    locked.returned_comment = comment if action == Action.RETURN else ""
    with recorded_change(user=user, reason=reason, quarter=locked.period):
        locked.full_clean()
        locked.save()
    if recipients:
        mail = _Mail(action=action, summary=locked, actor=user, comment=comment)
        transaction.on_commit(partial(mail.send, recipients))
    return locked


def submit_update(*, summary, user, permissions, expected_version) -> ProgressSummary:
    """Submit a draft update for review (the goal's leader, deputy or an administrator);
    refused while it lacks what publishing needs (a risk category, …)."""
    return _transition(
        action=Action.SUBMIT,
        summary=summary,
        user=user,
        permissions=permissions,
        expected_version=expected_version,
    )


def approve_update(*, summary, user, permissions, expected_version) -> ProgressSummary:
    """Approve a submitted update for the agency (its performance office)."""
    return _transition(
        action=Action.APPROVE,
        summary=summary,
        user=user,
        permissions=permissions,
        expected_version=expected_version,
    )


def clear_update(*, summary, user, permissions, expected_version) -> ProgressSummary:
    """Clear an update (the examiner): it is then ready to publish."""
    return _transition(
        action=Action.CLEAR,
        summary=summary,
        user=user,
        permissions=permissions,
        expected_version=expected_version,
    )


def return_update(*, summary, user, permissions, comment, expected_version) -> ProgressSummary:
    """Return an update to draft with a comment the team sees (a reviewer whose step it
    waits for, or who has just taken theirs); the comment is required."""
    return _transition(
        action=Action.RETURN,
        summary=summary,
        user=user,
        permissions=permissions,
        comment=comment,
        expected_version=expected_version,
    )


def withdraw_update(
    *, summary, user, permissions, expected_version, comment: str = ""
) -> ProgressSummary:
    """Take a submitted update back to draft before any reviewer acts (the goal's leader,
    deputy or an administrator), with an optional comment."""
    return _transition(
        action=Action.WITHDRAW,
        summary=summary,
        user=user,
        permissions=permissions,
        comment=comment,
        expected_version=expected_version,
    )


TRANSITIONS = {
    Action.SUBMIT: submit_update,
    Action.APPROVE: approve_update,
    Action.CLEAR: clear_update,
    Action.RETURN: return_update,
    Action.WITHDRAW: withdraw_update,
}


# -- who hears of it ----------------------------------------------------------------------

REVIEW_REASON_PREFIXES = {
    Action.SUBMIT: f"{PREFIX}{reasons.UPDATE_SUBMITTED}:",
    Action.APPROVE: f"{PREFIX}{reasons.UPDATE_APPROVED}:",
    Action.CLEAR: f"{PREFIX}{reasons.UPDATE_CLEARED}:",
    Action.RETURN: f"{PREFIX}{reasons.UPDATE_RETURNED}:",
    Action.WITHDRAW: f"{PREFIX}{reasons.UPDATE_WITHDRAWN}:",
    "withdraw_saying": f"{PREFIX}{reasons.UPDATE_WITHDRAWN_SAYING}:",
}


def review_action_of(reason: str | None) -> Action | None:
    """The chain's action a history row's reason records, or None (an edit, an import)."""
    if not reason:
        return None
    if reason.startswith(REVIEW_REASON_PREFIXES["withdraw_saying"]):
        return Action.WITHDRAW
    return next(
        (
            action
            for action, prefix in REVIEW_REASON_PREFIXES.items()
            if isinstance(action, Action) and reason.startswith(prefix)
        ),
        None,
    )


def _submissions(summary: ProgressSummary):
    """The update's history rows recording a submission, the latest first."""
    return summary.history.filter(
        history_change_reason__startswith=REVIEW_REASON_PREFIXES[Action.SUBMIT]
    ).order_by("-history_date", "-history_id")


def _submitter_id(summary: ProgressSummary) -> int | None:
    """The id of the user who submitted the update last (None: never, or unknown)."""
    row = _submissions(summary).values("history_user").first()
    return row["history_user"] if row else None


def _recipients(summary: ProgressSummary, *, after: str, returned: bool, actor) -> list:
    """Whoever acts next on ``summary`` once it stands at ``after``, and the submitter of
    a returned update: active users with an address, each address once, not ``actor``."""
    goal = summary.goal
    moved = ProgressSummary(goal=goal, period=summary.period, review_state=after)
    coming = next_step(moved, goal.agency)
    users = get_user_model()._default_manager.filter(is_active=True).exclude(email="")
    wanted = Q(pk__in=[])
    if coming is not None and coming.actor == Actor.TEAM:
        wanted = Q(
            pk__in=Membership.objects.filter(
                goal=goal, role__in=[Role.LEADER, Role.DEPUTY]
            ).values("user")
        )
    elif coming is not None:
        kind = (
            AgencyRoleKind.PERFORMANCE_OFFICE
            if coming.actor == Actor.PERFORMANCE_OFFICE
            else AgencyRoleKind.EXAMINER
        )
        wanted = Q(
            pk__in=AgencyRole.objects.filter(agency=goal.agency_id, role=kind).values("user")
        )
    if returned:
        wanted |= Q(pk__in=_submissions(summary).values("history_user")[:1])
    found, seen = [], set()
    for user in users.filter(wanted).exclude(pk=actor.pk).order_by("username"):
        address = user.email.strip().lower()
        if address not in seen:
            seen.add(address)
            found.append(user)
    return found


def review_url(goal: Goal, period: FiscalPeriod) -> str:
    """The update's review page (path only)."""
    path = reverse("update_review", kwargs={"slug": goal.slug})
    return f"{path}?{urlencode({'period': str(period)})}"


@dataclass
class _Mail:
    """The email of one transition, written in each recipient's email language (the
    site's, as the reminders are) and sent through the same mail settings."""

    action: Action
    summary: ProgressSummary
    actor: object
    comment: str

    def subject(self) -> str:
        values = {
            "goal": self.summary.goal.short_name or self.summary.goal.title,
            "period": self.summary.period,
        }
        return {
            Action.SUBMIT: _("[SDIF Tracker] %(goal)s: the %(period)s update was submitted"),
            Action.APPROVE: _(
                "[SDIF Tracker] %(goal)s: the %(period)s update was approved by the agency"
            ),
            Action.CLEAR: _(
                "[SDIF Tracker] %(goal)s: the %(period)s update was cleared by the examiner"
            ),
            Action.RETURN: _("[SDIF Tracker] %(goal)s: the %(period)s update was returned"),
            Action.WITHDRAW: _(
                "[SDIF Tracker] %(goal)s: the %(period)s update was withdrawn from review"
            ),
        }[self.action] % values

    def body(self, user) -> str:
        goal, summary = self.summary.goal, self.summary
        values = {
            "name": user.get_full_name() or user.get_username(),
            "actor": self.actor.get_full_name() or self.actor.get_username(),
            "period": summary.period,
            "goal": goal.title,
        }
        done = {
            Action.SUBMIT: _(
                "%(actor)s submitted the %(period)s update of “%(goal)s” for review."
            ),
            Action.APPROVE: _(
                "%(actor)s approved the %(period)s update of “%(goal)s” for the agency."
            ),
            Action.CLEAR: _("%(actor)s cleared the %(period)s update of “%(goal)s”."),
            Action.RETURN: _("%(actor)s returned the %(period)s update of “%(goal)s” to draft."),
            Action.WITHDRAW: _(
                "%(actor)s withdrew the %(period)s update of “%(goal)s” from review."
            ),
        }[self.action]
        lines = [_("Hello %(name)s,") % values, "", done % values]
        if self.comment:
            lines += ["", _("Their comment:"), self.comment]
        coming = next_step(summary, goal.agency)
        if coming is not None:
            lines += ["", _("It now waits for %(step)s.") % {"step": coming.waiting_label}]
        lines += [
            "",
            _("Open the update: %(url)s")
            % {"url": f"{settings.SITE_URL}{review_url(goal, summary.period)}"},
            "",
            _("— SDIF Tracker"),
        ]
        return "\n".join(lines) + "\n"

    def send(self, recipients) -> None:
        """Written now, sent by the worker (``milestones.tasks``): a slow mail server
        does not hold the request that moved the update."""
        for user in recipients:
            with translation.override(email_language(user)):
                subject, body = self.subject(), self.body(user)
            enqueue_email(subject=subject, body=body, to=[user.email])
