"""What the members page (who works on a goal) and the agency page (its review steps and
agency-wide roles) show: each row with the history record it was read at, so a change
made from a stale page is refused (``strategies.services.lock_at_record``). One query
per list, whatever its length."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from audit.history import history_of
from strategies.membership_forms import MemberChangeForm
from strategies.models import Agency, AgencyRole, Goal, Membership


def with_record(queryset: QuerySet) -> QuerySet:
    """``queryset`` with each row's latest history record id as ``record``."""
    history = history_of(queryset.model).filter(id=OuterRef("pk")).order_by("-history_id")
    return queryset.annotate(record=Subquery(history.values("history_id")[:1]))


def agency_record(agency: Agency) -> int | None:
    """The agency's latest history record id (what its review steps form carries)."""
    return (
        history_of(Agency)
        .filter(id=agency.pk)
        .order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class MemberRow:
    """One member on the members page, with the form that changes them."""

    membership: Membership
    form: MemberChangeForm

    @property
    def record(self) -> int | None:
        return self.membership.record


def member_rows(goal: Goal, *, posted: MemberChangeForm | None = None) -> list[MemberRow]:
    """The goal's members by role then username (one query), each with its change form:
    ``posted`` (a form just refused) for the member it names."""
    memberships = with_record(goal.memberships.select_related("user")).order_by(
        "role", "user__username"
    )
    rows = []
    for membership in memberships:
        membership.goal = goal
        if posted is not None and str(posted.data.get("member")) == str(membership.pk):
            form = posted
        else:
            form = MemberChangeForm(
                initial={
                    "member": membership.pk,
                    "role": membership.role,
                    "reports_indicators": membership.reports_indicators,
                    "record": membership.record,
                }
            )
        rows.append(MemberRow(membership=membership, form=form))
    return rows


def agency_roles_of(agency: Agency) -> list[AgencyRole]:
    """The agency's agency-wide roles by role then username, each with ``record``: one
    query."""
    return list(
        with_record(AgencyRole.objects.filter(agency=agency).select_related("user")).order_by(
            "role", "user__username"
        )
    )
