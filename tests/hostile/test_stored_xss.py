"""Script payloads stored in every text field of a plan render inert on every HTML page:
the app's pages, the admin's changelists and change pages, and forms re-shown with
errors. Each page must show the payload (escaped) at least once, so the test cannot pass
because the field was simply not shown."""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import NoReverseMatch, reverse

from milestones import services
from milestones.models import Likelihood, Risk, Status
from milestones.services import publish_quarter
from strategies.models import PROGRAM_FIELDS, SECTION_FIELDS, Role
from strategies.periods import FiscalPeriod
from tests.factories import (
    AgencyFactory,
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
)
from tests.helpers import clear_quarter_for_publishing

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT} {IMG} javascript:alert(1) {{{{ 7*7 }}}} </textarea><script>x</script>"
# Markdown fields also get a link and raw HTML Markdown would pass through.
MARKDOWN = f'{PAYLOAD}\n\n- [click](javascript:alert(1))\n- <a href="javascript:alert(1)">a</a>'

# What must never reach a browser as markup: the raw payloads in the source...
RAW = [SCRIPT, "<script>x</script>", "<img src=x onerror"]


class _ActiveContent(HTMLParser):
    """...and, parsed as a browser would, no element, handler or URL that would run it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") and "alert" in value:
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and value.startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if self.in_script and ("alert(1)" in data or data.strip() == "x"):
            self.found.append(f"<script>{data[:80]}")


# The payload as it shows when escaped: in HTML, or inside a JSON <script> block.
ESCAPED = ["&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003Cscript\\u003Ealert(1)"]


@pytest.fixture
def plan(db):
    agency = AgencyFactory(name=PAYLOAD, abbreviation=SCRIPT)
    goal = GoalFactory(
        agency=agency,
        slug="xss",
        title=PAYLOAD,
        short_name=SCRIPT,
        statement=PAYLOAD,
        leader_name=PAYLOAD,
        leader_title=PAYLOAD,
        deputy_name=PAYLOAD,
        deputy_title=PAYLOAD,
        **dict.fromkeys(SECTION_FIELDS, MARKDOWN),
        **dict.fromkeys(PROGRAM_FIELDS, f"{PAYLOAD}\n{SCRIPT}"),
    )
    root = get_user_model().objects.create_superuser(SCRIPT, "root@example.gov", "pw")
    leader = MembershipFactory(goal=goal, role=Role.LEADER, user__username=IMG).user
    strategy = StrategyFactory(goal=goal, number=1, title=PAYLOAD, description=MARKDOWN)
    milestone = MilestoneFactory(
        goal=goal, strategy=strategy, title=PAYLOAD, owner=PAYLOAD, comment=PAYLOAD
    )
    services.record_status_update(
        milestone=milestone,
        user=leader,
        status=Status.AT_RISK,
        comment=PAYLOAD,
        period=FiscalPeriod(2019, 4),
        expected_version=milestone.version,
    )
    quarterly = {
        "summary": MARKDOWN,
        "next_steps": MARKDOWN,
        "risk": Risk.HIGH,
        "likelihood": Likelihood.values[-1],
        "improvement_actions": MARKDOWN,
        "verification_validation": PAYLOAD,
        "data_sources": PAYLOAD,
        "data_accuracy": PAYLOAD,
        "data_limitations": PAYLOAD,
        "limitations_compensation": PAYLOAD,
    }
    published = FiscalPeriod(2019, 3)
    summary = ProgressSummaryFactory(goal=goal, period=published, **quarterly)
    clear_quarter_for_publishing(goal, published)
    publish_quarter(goal=goal, user=root, period=published)
    ProgressSummaryFactory(goal=goal, period=FiscalPeriod(2019, 4), **quarterly)
    indicator = IndicatorFactory(goal=goal, name=PAYLOAD, unit=IMG)
    IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, 1))
    client = Client()
    client.force_login(root)
    return {
        "goal": goal,
        "strategy": strategy,
        "milestone": milestone,
        "summary": summary,
        "published": published,
        "indicator": indicator,
        "client": client,
    }


def assert_inert(response, *, must_show=True, statuses=(200, 400)):
    assert response.status_code in statuses, (response.request["PATH_INFO"], response.status_code)
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    path = response.request["PATH_INFO"]
    for raw in RAW:
        assert raw not in html, (path, raw)
    parser = _ActiveContent()
    parser.feed(html)
    assert parser.found == [], (path, parser.found)
    if must_show:
        assert any(form in html for form in ESCAPED), response.request["PATH_INFO"]


def app_pages(plan):
    goal, slug = plan["goal"], "xss"
    milestone, strategy = plan["milestone"], plan["strategy"]
    pk = {"slug": slug, "pk": milestone.pk}
    return [
        reverse("portfolio"),
        reverse("my_goals"),
        reverse("goal_dashboard", kwargs={"slug": slug}),
        reverse("goal_dashboard", kwargs={"slug": slug}) + "?group=quarter",
        reverse("goal_dashboard", kwargs={"slug": slug}) + "?as_of=2999-01-01",
        reverse("goal_plan", kwargs={"slug": slug}),
        reverse("goal_plan", kwargs={"slug": slug}) + f"?quarter={plan['published']}",
        reverse("goal_plan", kwargs={"slug": slug}) + "?as_of=2999-01-01",
        reverse("goal_compare", kwargs={"slug": slug}),
        reverse("milestone_detail", kwargs=pk),
        reverse("milestone_history", kwargs=pk),
        reverse("goal_history", kwargs={"slug": slug}),
        reverse("strategy_history", kwargs={"slug": slug, "pk": strategy.pk}),
        reverse("progress_history", kwargs={"slug": slug, "pk": plan["summary"].pk}),
        reverse("indicator_history", kwargs={"slug": slug, "pk": plan["indicator"].pk}),
        reverse("audit_log"),
        reverse("progress_edit", kwargs={"slug": slug}),
        reverse("goal_edit", kwargs={"slug": slug}),
        reverse("strategy_list", kwargs={"slug": slug}),
        reverse("strategy_add", kwargs={"slug": slug}),
        reverse("strategy_edit", kwargs={"slug": slug, "pk": strategy.pk}),
        reverse("indicator_list", kwargs={"slug": slug}),
        reverse("indicator_edit", kwargs={"slug": slug, "pk": plan["indicator"].pk}),
        reverse(
            "milestone_revert",
            kwargs={**pk, "history_id": milestone.history.order_by("history_id").first().pk},
        ),
        reverse(
            "goal_revert",
            kwargs={"slug": slug, "history_id": goal.changes.order_by("history_id").first().pk},
        ),
    ]


def test_every_app_page_renders_the_payloads_inert(plan):
    for url in app_pages(plan):
        assert_inert(plan["client"].get(url))


def test_htmx_fragments_render_the_payloads_inert(plan):
    pk = {"slug": "xss", "pk": plan["milestone"].pk}
    url = reverse("milestone_update", kwargs=pk)
    assert_inert(plan["client"].get(url, headers={"HX-Request": "true"}))


def admin_pages():
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield model, reverse("admin:{}_{}_changelist".format(*info)), None
        for obj in model._default_manager.all()[:3]:
            for view in ("change", "history", "delete"):
                try:
                    url = reverse("admin:{}_{}_{}".format(*info, view), args=[obj.pk])
                except NoReverseMatch:
                    continue
                yield model, url, obj


# The admin pages of these models show no field of the plan.
NO_PLAN_TEXT = {"auth.Group", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}


def test_every_admin_page_renders_the_payloads_inert(plan):
    seen = 0
    for model, url, _obj in admin_pages():
        response = plan["client"].get(url)
        if url.endswith("/delete/") and response.status_code == 403:
            # Append-only records (status updates, published summaries) refuse deletion.
            assert_inert(response, must_show=False, statuses=(403,))
        else:
            assert_inert(response, must_show=model._meta.label not in NO_PLAN_TEXT)
        seen += 1
    assert seen > 20  # changelists and object pages of every registered model


def test_forms_shown_again_with_errors_keep_the_payload_inert(plan):
    client, slug = plan["client"], "xss"
    milestone = plan["milestone"]
    prefix = f"m{milestone.pk}"
    posts = [
        (
            reverse("milestone_update", kwargs={"slug": slug, "pk": milestone.pk}),
            {
                f"{prefix}-status": "bogus",
                f"{prefix}-comment": PAYLOAD,
                f"{prefix}-period": PAYLOAD,
            },
        ),
        (
            reverse("strategy_add", kwargs={"slug": slug}),
            {"number": PAYLOAD, "title": PAYLOAD, "description": PAYLOAD},
        ),
        (
            reverse("goal_edit", kwargs={"slug": slug}),
            {
                "title": PAYLOAD,
                "statement": PAYLOAD,
                "target_date": PAYLOAD,
                "version": PAYLOAD,
            },
        ),
        (reverse("progress_edit", kwargs={"slug": slug}), {"period": PAYLOAD, "summary": PAYLOAD}),
        (
            reverse("indicator_list", kwargs={"slug": slug}),
            {"name": PAYLOAD, "direction": PAYLOAD},
        ),
        (
            reverse("milestone_move", kwargs={"slug": slug, "pk": milestone.pk}),
            {f"move{milestone.pk}-strategy": PAYLOAD, f"move{milestone.pk}-version": PAYLOAD},
        ),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 400, url
        assert_inert(response)
        # The typed text comes back escaped inside the form, not as markup.
        assert "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;" in response.content.decode()


def test_messages_quoting_the_input_are_escaped(plan):
    """Query parameters echoed in warnings (?as_of=, ?quarter=, ?from=) stay text."""
    base = reverse("goal_plan", kwargs={"slug": "xss"})
    for query in (f"?quarter={SCRIPT}", f"?as_of={SCRIPT}"):
        assert_inert(plan["client"].get(base + query, {}))
    compare = reverse("goal_compare", kwargs={"slug": "xss"})
    assert_inert(plan["client"].get(compare, {"from": IMG, "to": SCRIPT}))
