"""The portfolio: every goal a user may see, active or closed, a page at a time, with its
milestones' status roll-up (overdue by each goal's reporting quarter) and a search. A
fixed number of queries whatever the number of goals."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import (
    Count,
    Max,
    Q,
)
from django.utils.translation import gettext_lazy as _

from milestones.models import (
    Milestone,
    Status,
    overdue_q,
    status_counts,
)
from milestones.quarters import (
    goals_by_quarter,
    per_goal_q,
    reporting_quarter,
    with_reporting_quarter,
)
from sdif_tracker import access
from sdif_tracker.pages.dashboard import status_breakdown
from sdif_tracker.pages.filters import ListFilterForm, SearchField
from strategies.models import Goal

PORTFOLIO_PAGE_SIZE = 50
PORTFOLIO_SEARCH_MAX = 200
ACTIVE, CLOSED = "active", "closed"


class PortfolioFilterForm(ListFilterForm):
    """The portfolio's search; an overlong one or one with control characters is
    ignored with a message."""

    problems_intro = ""  # each message says what was done instead
    label_problems = False

    q = SearchField(
        label=_("Find a goal (title, short name, agency)"),
        max_chars=PORTFOLIO_SEARCH_MAX,
        too_long=_("The search text is longer than %(max)s characters, so it was ignored."),
        control_characters=_("The search text contains control characters, so it was ignored."),
    )


@dataclass
class PortfolioPage:
    """One page of the portfolio: Django's page of goals (with their roll-up), the
    search form, and what was not understood."""

    page_obj: Page
    form: PortfolioFilterForm
    state: str  # ACTIVE or CLOSED: which goals are listed
    active_count: int  # of the goals matching the search
    closed_count: int

    @property
    def goals(self) -> list[Goal]:
        return self.page_obj.object_list

    @property
    def search(self) -> str:
        return self.form.value("q") or ""

    @property
    def search_param(self) -> str | None:
        """``q`` for the page links: the search in force, or None to drop an ignored one."""
        return self.search or None

    @property
    def problems(self) -> list[str]:
        return self.form.problems

    @property
    def showing_closed(self) -> bool:
        return self.state == CLOSED

    @property
    def state_param(self) -> str | None:
        """``state`` for the page links: only when it is not the default."""
        return CLOSED if self.showing_closed else None


def _page(paginator: Paginator, raw, form: ListFilterForm) -> Page:
    """``paginator.get_page(raw)``, but a page below the first shows the first, and
    either kind of bad number says so on the form."""
    try:
        return paginator.page(raw or 1)
    except PageNotAnInteger:
        shown = "".join(c for c in raw[:20] if c.isprintable()) + ("…" if len(raw) > 20 else "")
        form.add_problem(_("“%(page)s” is not a page number; showing page 1.") % {"page": shown})
        return paginator.page(1)
    except EmptyPage:
        number, last = int(raw), paginator.num_pages
        shown = min(max(number, 1), last)
        form.add_problem(
            _("There is no page %(page)s; showing page %(shown)s of %(pages)s.")
            % {"page": number, "shown": shown, "pages": last}
        )
        return paginator.page(shown)


def portfolio_page(user, params) -> PortfolioPage:
    """The active goals ``user`` may see (the closed ones with ``?state=closed``),
    ``PORTFOLIO_PAGE_SIZE`` a page in the goals' order, optionally narrowed by ``?q=``
    (title, short name, agency or slug), with their status roll-up and the count of
    active and closed goals: three queries (the counts, the page, its roll-up), whatever
    the number of goals and milestones.

    Each goal gets ``status_rollup`` (non-zero counts by status), ``milestone_count``,
    ``overdue_count`` (by its reporting quarter), ``reporting_on`` (that quarter) and
    ``last_updated`` (latest milestone change, else the goal's). A bad page or an
    overlong search gets a message in ``problems``, never an error.
    """
    form = PortfolioFilterForm(params)
    search = form.value("q") or ""
    state = CLOSED if params.get("state") == CLOSED else ACTIVE
    visible = access.visible_goals(user)
    if search:
        visible = visible.filter(
            Q(title__icontains=search)
            | Q(short_name__icontains=search)
            | Q(agency__name__icontains=search)
            | Q(slug__icontains=search)
        )
    counts = visible.aggregate(
        active=Count("pk", filter=Q(closed_at__isnull=True)),
        closed=Count("pk", filter=Q(closed_at__isnull=False)),
    )
    listed = visible.filter(closed_at__isnull=state == ACTIVE)
    paginator = Paginator(
        # The primary key last: goals with the same agency and title keep one order
        # from page to page, so none shows twice or never.
        with_reporting_quarter(listed.select_related("agency")).order_by(
            *Goal._meta.ordering, "pk"
        ),
        PORTFOLIO_PAGE_SIZE,
    )
    # Counted already: the paginator need not ask again.
    paginator.count = counts[state]
    page_obj = _page(paginator, params.get("page"), form)
    goals = page_obj.object_list = list(page_obj.object_list)
    _add_rollup(goals)
    return PortfolioPage(
        page_obj=page_obj,
        form=form,
        state=state,
        active_count=counts[ACTIVE],
        closed_count=counts[CLOSED],
    )


def _add_rollup(goals: list[Goal]) -> None:
    """Each goal's milestone counts by status, overdue by its reporting quarter, and last
    update: one query over the page's goals' milestones.

    The roll-up of the page's goals only, grouped over their milestones alone: one
    query whose cost follows the page, not the portfolio (aggregating over a join of
    every goal with its milestones took 2 s at 100,000 milestones). Goals report on
    different quarters: the overdue condition has one term per distinct quarter."""
    groups = goals_by_quarter(goals)
    rollup = {
        row["goal"]: row
        for row in Milestone.objects.filter(goal__in=[goal.pk for goal in goals])
        .with_effective_due()
        .order_by()
        .values("goal")
        .annotate(
            **status_counts(),
            milestone_count=Count("pk"),
            overdue_count=Count("pk", filter=per_goal_q(groups, overdue_q)),
            last_updated=Max("updated_at"),
        )
    }
    for goal in goals:
        row = rollup.get(goal.pk, {})
        goal.reporting_on = reporting_quarter(goal)
        goal.milestone_count = row.get("milestone_count", 0)
        goal.overdue_count = row.get("overdue_count", 0)
        goal.last_updated = row.get("last_updated") or goal.updated_at
        goal.status_rollup = status_breakdown(
            {status.value: row.get(f"count_{status.value}", 0) for status in Status}
        )
