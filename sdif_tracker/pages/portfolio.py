"""The portfolio: every goal a user may see, a page at a time, with its milestones'
status roll-up and a search. A fixed number of queries whatever the number of goals."""

from __future__ import annotations

from dataclasses import dataclass, field

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
from sdif_tracker.pages.dashboard import status_breakdown
from strategies.models import Goal

PORTFOLIO_PAGE_SIZE = 50
PORTFOLIO_SEARCH_MAX = 200


@dataclass
class PortfolioPage:
    """One page of the portfolio: its goals with their roll-up, and where it stands."""

    goals: list[Goal]
    number: int
    num_pages: int
    total: int
    start: int  # 1-based position of the first goal shown (0 when none)
    end: int
    search: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def search_param(self) -> str | None:
        """``q`` for the page links: the search in force, or None to drop an ignored one."""
        return self.search or None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def _page_number(raw, num_pages: int, problems: list[str]) -> int:
    if raw in (None, ""):
        return 1
    try:
        number = int(raw)
    except (TypeError, ValueError):
        shown = "".join(c for c in raw[:20] if c.isprintable()) + ("…" if len(raw) > 20 else "")
        problems.append(_("“%(page)s” is not a page number; showing page 1.") % {"page": shown})
        return 1
    if number < 1 or number > num_pages:
        last = max(num_pages, 1)
        problems.append(
            _("There is no page %(page)s; showing page %(shown)s of %(pages)s.")
            % {"page": number, "shown": min(max(number, 1), last), "pages": last}
        )
        return min(max(number, 1), last)
    return number


def portfolio_page(user, params) -> PortfolioPage:
    """The goals ``user`` may see, ``PORTFOLIO_PAGE_SIZE`` a page in the goals' order,
    optionally narrowed by ``?q=`` (title, short name, agency or slug), with their
    status roll-up: three queries (the count, the page, its roll-up), whatever the number
    of goals and milestones.

    Each goal gets ``status_rollup`` (non-zero counts by status), ``milestone_count``,
    ``overdue_count`` and ``last_updated`` (latest milestone change, else the goal's).
    A bad page or an overlong search gets a message in ``problems``, never an error.
    """
    problems: list[str] = []
    search = (params.get("q") or "").strip()
    if len(search) > PORTFOLIO_SEARCH_MAX:
        problems.append(
            _("The search text is longer than %(max)s characters, so it was ignored.")
            % {"max": PORTFOLIO_SEARCH_MAX}
        )
        search = ""
    elif not search.isprintable():
        # Control characters match no title, and PostgreSQL refuses a NUL outright.
        problems.append(_("The search text contains control characters, so it was ignored."))
        search = ""
    visible = Goal.objects.visible_to(user)
    if search:
        visible = visible.filter(
            Q(title__icontains=search)
            | Q(short_name__icontains=search)
            | Q(agency__name__icontains=search)
            | Q(slug__icontains=search)
        )
    total = visible.count()
    num_pages = max(-(-total // PORTFOLIO_PAGE_SIZE), 1)
    number = _page_number(params.get("page"), num_pages, problems)
    offset = (number - 1) * PORTFOLIO_PAGE_SIZE
    goals = list(
        # The primary key last: goals with the same agency and title keep one order
        # from page to page, so none shows twice or never.
        visible.select_related("agency").order_by(*Goal._meta.ordering, "pk")[
            offset : offset + PORTFOLIO_PAGE_SIZE
        ]
    )
    # The roll-up of the page's goals only, grouped over their milestones alone: one
    # query whose cost follows the page, not the portfolio (aggregating over a join
    # of every goal with its milestones took 2 s at 100,000 milestones).
    rollup = {
        row["goal"]: row
        for row in Milestone.objects.filter(goal__in=[goal.pk for goal in goals])
        .with_effective_due()
        .order_by()
        .values("goal")
        .annotate(
            **status_counts(),
            milestone_count=Count("pk"),
            overdue_count=Count("pk", filter=overdue_q()),
            last_updated=Max("updated_at"),
        )
    }
    for goal in goals:
        row = rollup.get(goal.pk, {})
        goal.milestone_count = row.get("milestone_count", 0)
        goal.overdue_count = row.get("overdue_count", 0)
        goal.last_updated = row.get("last_updated") or goal.updated_at
        goal.status_rollup = status_breakdown(
            {status.value: row.get(f"count_{status.value}", 0) for status in Status}
        )
    return PortfolioPage(
        goals=goals,
        number=number,
        num_pages=num_pages,
        total=total,
        start=offset + 1 if goals else 0,
        end=offset + len(goals),
        search=search,
        problems=problems,
    )
