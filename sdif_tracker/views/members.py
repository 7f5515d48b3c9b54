"""Who works on a goal (its members page) and an agency's own page (the review steps it
uses, who holds its agency-wide roles). Parse → ``sdif_tracker.access`` → a
``strategies.services`` call → redirect with a message; or the page again with the
form's errors (400), or with what changed since it was opened (409)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from sdif_tracker import access
from sdif_tracker.pages.members import agency_record, agency_roles_of, member_rows, with_record
from strategies import services
from strategies.forms import add_service_errors
from strategies.membership_forms import (
    AgencyRoleAddForm,
    AgencyRoleRemoveForm,
    MemberAddForm,
    MemberChangeForm,
    MemberRemoveForm,
    ReviewStepsForm,
)
from strategies.models import AgencyRole, AgencyRoleKind, Goal
from strategies.services import StaleRecordError

FORM_METHODS = ["GET", "HEAD", "POST"]


def _stale_heading(stale: StaleRecordError, *, gone: str, changed: str) -> str:
    """What happened since the page was opened; nothing was saved."""
    if stale.obj is None:
        return gone
    last = stale.versions[-1]
    return changed % {
        "user": last.history_username or _("someone"),
        "when": formats.date_format(timezone.localtime(last.history_date), "DATETIME_FORMAT"),
    }


def _requested_id(request) -> int | None:
    """The ``?remove=`` id of the confirmation asked for (None: none, or not a number)."""
    text = request.GET.get("remove", "")
    return int(text) if text.isdigit() and len(text) < 10 else None


# -- a goal's members ----------------------------------------------------------------------


def _members_goal(request, slug) -> Goal:
    """The goal, for a user who may manage its members: 404 if they may not see it,
    else 403."""
    return access.get_goal_for_user(request.user, slug, need=access.Need.MANAGE_MEMBERS)


def _members_url(goal: Goal, membership_pk: int | None = None) -> str:
    url = reverse("goal_members", kwargs={"slug": goal.slug})
    return f"{url}#member-{membership_pk}" if membership_pk else url


def _render_members(
    request, goal, *, add_form=None, posted=None, conflict=None, problems=(), status=200
):
    rows = member_rows(goal, posted=posted)
    asked = _requested_id(request) if request.method != "POST" else None
    removing = next((row for row in rows if row.membership.pk == asked), None)
    if asked is not None and removing is None:
        messages.warning(request, _("That person is not a member of this goal (any more)."))
    context = {
        "goal": goal,
        "perms_goal": access.permissions_for(request.user, goal),
        "rows": rows,
        "add_form": add_form or MemberAddForm(),
        "removing": removing,
        "conflict": conflict,
        "problems": problems,
    }
    return render(request, "strategies/goal_members.html", context, status=status)


@require_http_methods(FORM_METHODS)
@login_required
def goal_members(request, slug):
    """The goal's members (GET; ``?remove=<id>`` asks to confirm a removal), and adding
    one (POST)."""
    goal = _members_goal(request, slug)
    if request.method != "POST":
        return _render_members(request, goal)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = services.add_member(
                goal=goal,
                user=request.user,
                member=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                reports_indicators=form.cleaned_data["reports_indicators"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Added %(user)s as %(role)s.")
                % {"user": membership.user.get_username(), "role": membership.get_role_display()},
            )
            return redirect(_members_url(goal, membership.pk))
    return _render_members(request, goal, add_form=form, status=400)


def _gone_or_changed(stale: StaleRecordError) -> str:
    return _stale_heading(
        stale,
        gone=_(
            "That person was removed from this goal after you opened this page. Nothing was saved."
        ),
        changed=_(
            "%(user)s changed this membership at %(when)s after you opened this page. "
            "Nothing was saved; check it as it is now, then try again."
        ),
    )


@require_POST
@login_required
def member_change(request, slug):
    """Change one member's role or indicator capability."""
    goal = _members_goal(request, slug)
    form = MemberChangeForm(request.POST)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return _render_members(request, goal, posted=form, problems=problems, status=400)
    membership = goal.memberships.filter(pk=form.cleaned_data["member"]).first()
    try:
        if membership is None:
            raise StaleRecordError(None, [])
        saved = services.change_member(
            membership=membership,
            user=request.user,
            role=form.cleaned_data["role"],
            reports_indicators=form.cleaned_data["reports_indicators"],
            expected_record=form.cleaned_data["record"],
        )
    except StaleRecordError as stale:
        conflict = {"heading": _gone_or_changed(stale), "entries": stale.entries()}
        return _render_members(request, goal, conflict=conflict, status=409)
    except ValidationError as error:
        problems = error.messages
        return _render_members(request, goal, posted=form, problems=problems, status=400)
    messages.success(
        request,
        _("Saved the membership of %(user)s: %(role)s.")
        % {"user": saved.user.get_username(), "role": saved.get_role_display()},
    )
    return redirect(_members_url(goal, saved.pk))


@require_POST
@login_required
def member_remove(request, slug):
    """Remove a member, from the confirmation the members page shows (``?remove=``)."""
    goal = _members_goal(request, slug)
    form = MemberRemoveForm(request.POST)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return _render_members(request, goal, problems=problems, status=400)
    membership = goal.memberships.select_related("user").filter(pk=form.cleaned_data["member"])
    membership = membership.first()
    try:
        if membership is None:
            raise StaleRecordError(None, [])
        services.remove_member(
            membership=membership,
            user=request.user,
            expected_record=form.cleaned_data["record"],
        )
    except StaleRecordError as stale:
        conflict = {"heading": _gone_or_changed(stale), "entries": stale.entries()}
        return _render_members(request, goal, conflict=conflict, status=409)
    except ValidationError as error:
        return _render_members(request, goal, problems=error.messages, status=400)
    messages.success(
        request,
        _("Removed %(user)s from this goal. The goal's history keeps the membership.")
        % {"user": membership.user.get_username()},
    )
    return redirect(_members_url(goal))


# -- an agency -------------------------------------------------------------------------------


def _render_agency(
    request,
    agency,
    perms,
    *,
    steps_form=None,
    role_form=None,
    conflict=None,
    problems=(),
    status=200,
):
    roles = agency_roles_of(agency)
    for agency_role in roles:
        agency_role.removable = agency_role.role in perms.assign_roles
    asked = _requested_id(request) if request.method != "POST" else None
    removing = next((r for r in roles if r.pk == asked and r.removable), None)
    if asked is not None and removing is None:
        messages.warning(request, _("That role is not one you can take away here (any more)."))
    if steps_form is None and perms.edit_steps:
        steps_form = ReviewStepsForm(
            initial={
                "agency_approval": agency.agency_approval,
                "examiner_clearance": agency.examiner_clearance,
                "record": agency_record(agency),
            }
        )
    if role_form is None and perms.assign_roles:
        role_form = AgencyRoleAddForm(roles=perms.assign_roles)
    context = {
        "agency": agency,
        "perms_agency": perms,
        "roles": roles,
        "removing": removing,
        "steps_form": steps_form,
        "role_form": role_form,
        "goals": access.visible_goals(request.user).filter(agency=agency).order_by("title"),
        "conflict": conflict,
        "problems": problems,
        "examiners_by_site_admins": AgencyRoleKind.EXAMINER not in perms.assign_roles,
    }
    return render(request, "strategies/agency_detail.html", context, status=status)


@require_safe
@login_required
def agency_detail(request, pk):
    """The agency's review steps and agency-wide roles; ``?remove=<id>`` asks to confirm
    taking a role away."""
    agency, perms = access.get_agency_for_user(request.user, pk)
    return _render_agency(request, agency, perms)


@require_POST
@login_required
def agency_steps(request, pk):
    """Switch the agency's review steps on or off."""
    agency, perms = access.get_agency_for_user(request.user, pk, write=True)
    if not perms.edit_steps:
        raise PermissionDenied(_("Only the agency's administrators change its review steps."))
    form = ReviewStepsForm(request.POST)
    if not form.is_valid():
        return _render_agency(request, agency, perms, steps_form=form, status=400)
    if (
        agency.examiner_clearance
        and not form.cleaned_data["examiner_clearance"]
        and not perms.edit_clearance_step
    ):
        raise PermissionDenied(
            _(
                "The examiner's clearance is OMB's check on the agency: only a site "
                "administrator switches it off. Nothing was saved."
            )
        )
    try:
        services.set_review_steps(
            agency=agency,
            user=request.user,
            agency_approval=form.cleaned_data["agency_approval"],
            examiner_clearance=form.cleaned_data["examiner_clearance"],
            expected_record=form.cleaned_data["record"],
        )
    except StaleRecordError as stale:
        heading = _stale_heading(
            stale,
            gone="",
            changed=_(
                "%(user)s changed this agency at %(when)s after you opened this page. Nothing "
                "was saved; check its review steps as they are now, then try again."
            ),
        )
        conflict = {"heading": heading, "entries": stale.entries()}
        return _render_agency(request, stale.obj, perms, conflict=conflict, status=409)
    messages.success(request, _("Saved the review steps of %(agency)s.") % {"agency": agency})
    return redirect("agency_detail", pk=agency.pk)


def _refuse_role(perms, role: str) -> None:
    """403 with the reason for a role this user may not give or take away."""
    if role in perms.assign_roles:
        return
    if role == AgencyRoleKind.EXAMINER:
        raise PermissionDenied(
            _("Examiners are OMB staff: only a site administrator assigns or removes them.")
        )
    raise PermissionDenied(_("Only the agency's administrators manage its roles."))


@require_POST
@login_required
def agency_role_add(request, pk):
    """Give someone an agency-wide role over the agency."""
    agency, perms = access.get_agency_for_user(request.user, pk, write=True)
    if request.POST.get("role") in AgencyRoleKind.values:
        _refuse_role(perms, request.POST["role"])
    elif not perms.assign_roles:
        raise PermissionDenied(_("Only the agency's administrators manage its roles."))
    form = AgencyRoleAddForm(request.POST, roles=perms.assign_roles)
    if form.is_valid() and not access.can_assign_agency_role(
        request.user, agency.pk, form.cleaned_data["role"], holder=form.cleaned_data["username"]
    ):
        raise PermissionDenied(
            _(
                "You cannot make yourself the agency's performance office: you submit its "
                "updates, and the one who approves them must be someone else. Nothing was saved."
            )
        )
    if form.is_valid():
        try:
            given = services.give_agency_role(
                agency=agency,
                user=request.user,
                holder=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(user)s is now %(role)s of %(agency)s.")
                % {
                    "user": given.user.get_username(),
                    "role": given.get_role_display(),
                    "agency": agency,
                },
            )
            return redirect("agency_detail", pk=agency.pk)
    return _render_agency(request, agency, perms, role_form=form, status=400)


@require_POST
@login_required
def agency_role_remove(request, pk):
    """Take an agency-wide role away, from the confirmation the agency page shows."""
    agency, perms = access.get_agency_for_user(request.user, pk, write=True)
    form = AgencyRoleRemoveForm(request.POST)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return _render_agency(request, agency, perms, problems=problems, status=400)
    agency_role = (
        with_record(AgencyRole.objects.filter(agency=agency, pk=form.cleaned_data["agency_role"]))
        .select_related("user")
        .first()
    )
    if agency_role is not None:
        _refuse_role(perms, agency_role.role)
    try:
        if agency_role is None:
            raise StaleRecordError(None, [])
        services.take_agency_role(
            agency_role=agency_role,
            user=request.user,
            expected_record=form.cleaned_data["record"],
        )
    except StaleRecordError:
        heading = _(
            "That role was taken away or changed after you opened this page. Nothing was saved."
        )
        return _render_agency(request, agency, perms, conflict={"heading": heading}, status=409)
    messages.success(
        request,
        _("%(user)s is no longer %(role)s of %(agency)s. The history keeps the role.")
        % {
            "user": agency_role.user.get_username(),
            "role": agency_role.get_role_display(),
            "agency": agency,
        },
    )
    return redirect("agency_detail", pk=agency.pk)
