"""Issue 13, Spanish as a first-class language: Spanish runs about a third longer than
English, and no page may pay for it with text that overlaps, is clipped or breaks in the
middle of a word. On the main pages, as an admin who also leads the goal, in English and
in Spanish, on a laptop (1366×900) and a phone (390×844), every table cell's content
fits its box and no word is split across lines.

One browser context per language and size, signed in once; every page is measured (its
folded rows unfolded), then one assertion lists every offending cell with its text."""

import pytest

from milestones import services
from milestones.models import Milestone, Status
from strategies.models import Role
from strategies.periods import FiscalPeriod
from tests.e2e.helpers import log_in

SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}

# Every table cell a reader sees (not a visually hidden header): its content wider than
# its box (overlapping the next cell, or clipped), a style that cuts every word anywhere
# (word-break: break-all), or a word of a natural language (2 to 20 letters; a long
# address or id may wrap where it must) whose letters sit on two lines. An
# ``overflow-wrap: anywhere`` kept for long addresses passes as long as no word splits.
MEASURE = """
() => {
  for (const details of document.querySelectorAll("main details")) details.open = true;
  const hidden = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const box = node.getBoundingClientRect();
      if (box.width <= 1 && getComputedStyle(node).overflow === "hidden") return true;
    }
    return !el.getClientRects().length;
  };
  const found = [];
  const range = document.createRange();
  const shown = (el) => el.innerText.trim().replace(/\\s+/g, " ").slice(0, 70);
  for (const cell of document.querySelectorAll("main td, main th")) {
    if (hidden(cell)) continue;
    if (cell.scrollWidth > cell.clientWidth + 1) {
      const sizes = `${cell.scrollWidth} > ${cell.clientWidth} px`;
      found.push(`overflows its cell (${sizes}): ${shown(cell)}`);
    }
    if (getComputedStyle(cell).wordBreak === "break-all") {
      found.push(`cuts every word anywhere (word-break: break-all): ${shown(cell)}`);
    }
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[\\p{L}\\p{N}]{2,20}/gu)) {
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()]
          .filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
        if (lines.size > 1) found.push(`splits the word "${match[0]}": ${shown(cell)}`);
      }
    }
  }
  return found;
}
"""


@pytest.fixture
def pages(sdif_goal, sdif_admin):
    """The main pages (the plan has revised dues: "FY19 (originally Q3 FY18)"), with a
    Spanish comment and the history it leaves, as an admin who also leads the goal."""
    sdif_goal.memberships.create(user=sdif_admin, role=Role.LEADER)
    milestones = Milestone.objects.filter(goal=sdif_goal).order_by("position", "pk")
    first = milestones.first()
    services.record_status_update(
        milestone=first,
        user=sdif_admin,
        status=Status.AT_RISK,
        comment="La contraparte mexicana reprogramó la reunión interinstitucional; "
        "responsabilidades redistribuidas.",
        period=FiscalPeriod(2019, 4),
        expected_version=first.version,
    )
    assert milestones.exclude(revised_due=None).exists()
    return {
        "portfolio": "/",
        "dashboard": sdif_goal.get_absolute_url(),
        "milestone page": Milestone.objects.get(pk=first.pk).get_absolute_url(),
        "plan": sdif_goal.get_plan_url(),
        "My goals": "/my/",
        "history": f"{sdif_goal.get_absolute_url()}history/",
        "audit log": "/audit/",
    }


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["en", "es"])
def test_no_table_cell_overflows_or_splits_a_word(new_page, sdif_admin, pages, language, size):
    page = new_page(viewport=SIZES[size])
    log_in(page, sdif_admin.username)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    found, measured = [], 0
    for name, path in pages.items():
        response = page.goto(path)
        assert response.status == 200, f"{name} ({path}): HTTP {response.status}"
        assert page.locator("html").get_attribute("lang") == language
        cells = page.locator("main td, main th").count()
        measured += cells
        found += [f"{name} ({path}): {problem}" for problem in page.evaluate(MEASURE)]
    assert measured > 50  # the pages really have tables to measure
    assert not found, f"{language} at {size}:\n" + "\n".join(found)


def test_the_check_sees_a_cell_that_overflows_and_a_word_cut_in_two(new_page, live_server):
    """The measure can fail: a too-narrow cell and a word broken anywhere are found."""
    page = new_page(viewport=SIZES["laptop"])
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.insertAdjacentHTML("beforeend",
            "<table class='fixed-narrow'><tr><th>Responsabilidad</th>" +
            "<td>originalmente</td></tr></table>");
          const table = main.querySelector("table.fixed-narrow");
          table.style.tableLayout = "fixed";
          table.style.width = "80px";
          table.querySelector("th").style.whiteSpace = "nowrap";
          table.querySelector("td").style.wordBreak = "break-all";
        }"""
    )
    found = page.evaluate(MEASURE)
    assert len(found) >= 3, found
    assert any(p.startswith("overflows its cell") and "Responsabilidad" in p for p in found), found
    assert any(p.startswith("cuts every word anywhere") for p in found)
    assert any(p.startswith('splits the word "originalmente"') for p in found)
