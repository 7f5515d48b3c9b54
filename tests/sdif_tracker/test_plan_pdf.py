"""The plan's PDF as published: the plan alone (no site navigation, no downloader's
name), styled from the collected static files in production, tagged (PDF/UA) with its
title and language, on US Letter (A4 by a setting), numbered pages under a running
header, and a published quarter's PDF rendered once for any number of downloads."""

import io
import logging
import re
import runpy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from milestones.models import Risk
from milestones.services import publish_quarter
from sdif_tracker import exports
from strategies.models import Role, Sensitivity
from strategies.periods import FiscalPeriod
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StrategyFactory,
    UserFactory,
)
from tests.helpers import clear_quarter_for_publishing

pytestmark = pytest.mark.django_db

Q3_FY19 = FiscalPeriod(2019, 3)
LETTER = (612, 792)
A4 = (595, 842)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def pdf_url(goal, **params):
    url = reverse("goal_plan_pdf", kwargs={"slug": goal.slug})
    if params:
        url += "?" + "&".join(f"{k}={v.replace(' ', '+')}" for k, v in params.items())
    return url


def read(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def page_texts(reader: PdfReader) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def font_names(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            # Embedded subsets are named "ABCDEF+DejaVu-Sans".
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def size_of(page) -> tuple[int, int]:
    return round(float(page.mediabox.width)), round(float(page.mediabox.height))


@pytest.fixture
def public_goal():
    goal = GoalFactory(
        title="Safer Borders Through Shared Finance Data",
        short_name="SBFD",
        sensitivity=Sensitivity.PUBLIC,
        # Its plan is written while it reports on Q3 FY19: it belongs to that quarter.
        reporting_quarter_set=Q3_FY19,
    )
    strategies = [StrategyFactory(goal=goal, number=number) for number in (1, 2, 3)]
    for n in range(1, 41):
        MilestoneFactory(
            goal=goal,
            strategy=strategies[n % 3],
            position=n,
            title=f"Deliver item {n:02d}",
            comment=f"Note {n:02d}: "
            + "the work is on schedule and reviewed " * 4
            + f"end {n:02d}",
        )
    return goal


def publish(goal, leader=None):
    leader = leader or MembershipFactory(goal=goal, role=Role.LEADER).user
    ProgressSummaryFactory(goal=goal, period=Q3_FY19, risk=Risk.LOW, summary="- Done.")
    clear_quarter_for_publishing(goal, Q3_FY19)
    return publish_quarter(goal=goal, user=leader, period=Q3_FY19)


# -- production: DEBUG off, hashed static files ----------------------------------------


def test_in_production_the_pdf_is_styled_from_the_collected_static_files(
    client, public_goal, settings, tmp_path, caplog
):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    # The page names the hashed copies, which only STATIC_ROOT has.
    assert re.fullmatch(
        r"/static/css/plan-print\.[0-9a-f]{12}\.css", staticfiles_storage.url("css/plan-print.css")
    )
    leader = MembershipFactory(
        goal=public_goal,
        role=Role.LEADER,
        user__username="reviewer",
        user__first_name="Rita",
        user__last_name="Quill",
    ).user
    ProgressSummaryFactory(goal=public_goal, period=Q3_FY19, summary="- A draft.")
    client.force_login(leader)

    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        response = client.get(pdf_url(public_goal))

    assert response.status_code == 200
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    reader = read(response.content)
    texts = page_texts(reader)
    # plan-print.css numbers the pages; app.css sets the plan's kind in capitals.
    assert texts[0].count(f"Page 1 of {len(texts)}") == 1
    assert "AGENCY PRIORITY GOAL ACTION PLAN" in texts[0]
    # Without the stylesheets WeasyPrint falls back to its default serif font.
    assert font_names(reader) == {"DejaVu-Sans", "DejaVu-Sans-Bold"}
    assert {size_of(page) for page in reader.pages} == {LETTER}
    text = " ".join(texts)
    assert "Safer Borders Through Shared Finance Data" in text
    assert "Deliver item 01" in text
    assert "Deliver item 40" in text
    for absent in [
        "reviewer",
        "Rita",
        "Quill",
        "Signed in as",
        "Log out",
        "Skip to main content",
        "Change language",
        "Download PDF",
        "Back to the",
        # What a leader may do on the page is no part of the document.
        "Publish Q3 FY19",
        "Write a summary of progress",
        "Edit the",
    ]:
        assert absent not in text, absent


# -- tagged, titled, paged -------------------------------------------------------------


def test_the_pdf_is_tagged_with_the_plans_title_and_language_on_letter_pages(client, public_goal):
    publish(public_goal)

    response = client.get(pdf_url(public_goal, quarter="Q3 FY19"))

    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{public_goal.slug}-plan-q3-fy19.pdf"'
    )
    reader = read(response.content)
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert catalog["/MarkInfo"]["/Marked"]
    assert catalog["/Lang"] == "en"
    title = reader.metadata.title
    assert title.startswith("Safer Borders Through Shared Finance Data")
    assert "Q3 FY19 update, published" in title
    assert {size_of(page) for page in reader.pages} == {LETTER}
    spanish = client.get(pdf_url(public_goal, quarter="Q3 FY19"), HTTP_ACCEPT_LANGUAGE="es")
    assert read(spanish.content).trailer["/Root"]["/Lang"] == "es"


def test_every_page_has_its_number_and_the_plan_and_quarter_above(client, public_goal):
    publish(public_goal)

    reader = read(client.get(pdf_url(public_goal, quarter="Q3 FY19")).content)

    texts = page_texts(reader)
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert "SBFD · Q3 FY19 update, published" in text


def test_the_milestone_table_is_wide_enough_repeats_its_header_and_keeps_rows_whole(
    client, public_goal
):
    reader = read(client.get(pdf_url(public_goal)).content)
    texts = page_texts(reader)

    def page_of(words):
        pages = [i for i, text in enumerate(texts) if words in text]
        assert len(pages) == 1, (words, pages)
        return pages[0]

    # The milestone column is wide enough to read: at least 1.6 inches from the start of
    # a title to the due date beside it.
    starts = {}

    def visit(text, cm, tm, font, size):
        starts.setdefault(text.strip(), tm[4] * cm[0] + cm[4])

    reader.pages[texts.index(next(t for t in texts if "Deliver item 01" in t))].extract_text(
        visitor_text=visit
    )
    assert starts["Q4 FY19"] - starts["Deliver item 01"] >= 1.6 * 72

    pages = set()
    for n in range(1, 41):
        first = page_of(f"Deliver item {n:02d}")
        assert page_of(f"end {n:02d}") == first, n
        pages.add(first)
    assert len(pages) >= 2
    for page in pages:
        assert "Milestone Status" in texts[page]


def test_the_paper_is_us_letter_unless_the_setting_says_a4(client, public_goal, settings):
    letter = read(client.get(pdf_url(public_goal)).content)
    settings.PDF_PAGE_SIZE = "a4"
    a4 = read(client.get(pdf_url(public_goal)).content)

    assert {size_of(page) for page in letter.pages} == {LETTER}
    assert {size_of(page) for page in a4.pages} == {A4}


def load_settings(monkeypatch, **env):
    monkeypatch.setenv("SECRET_KEY", "settings-test")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(django_settings.BASE_DIR, "sdif_tracker", "settings.py")))


def test_the_paper_setting_is_letter_unless_a4_and_refuses_anything_else(monkeypatch):
    monkeypatch.delenv("PDF_PAGE_SIZE", raising=False)
    assert load_settings(monkeypatch)["PDF_PAGE_SIZE"] == "letter"
    assert load_settings(monkeypatch, PDF_PAGE_SIZE=" A4 ")["PDF_PAGE_SIZE"] == "a4"
    with pytest.raises(ImproperlyConfigured, match="PDF_PAGE_SIZE must be letter or a4"):
        load_settings(monkeypatch, PDF_PAGE_SIZE="legal")


# -- a published quarter's PDF is rendered once ----------------------------------------


@pytest.fixture
def renders(monkeypatch):
    """How many times a PDF was rendered."""
    calls = []
    real = exports.html_to_pdf

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(exports, "html_to_pdf", counting)
    return calls


def test_a_burst_of_anonymous_downloads_of_a_published_quarter_renders_it_once(
    client, public_goal, renders, django_assert_max_num_queries
):
    publish(public_goal)
    url = pdf_url(public_goal, quarter="Q3 FY19")
    first = client.get(url)

    again = []
    for _ in range(5):
        # A copy from the cache: the goal and the quarter are looked up, nothing rebuilt.
        with django_assert_max_num_queries(2):
            again.append(client.get(url))

    assert len(renders) == 1
    assert [r.status_code for r in again] == [200] * 5
    assert {r.content for r in again} == {first.content}
    # Another language is another document, rendered once too.
    spanish = [client.get(url, HTTP_ACCEPT_LANGUAGE="es") for _ in range(2)]
    assert len(renders) == 2
    assert spanish[0].content == spanish[1].content != first.content
    # The current plan is rendered on each request, so that an edit shows at once.
    milestone = public_goal.milestones.get(position=1)
    milestone.title = "Deliver item 01, renamed"
    milestone.save()
    current = [client.get(pdf_url(public_goal)) for _ in range(2)]
    assert len(renders) == 4
    assert "Deliver item 01, renamed" in " ".join(page_texts(read(current[1].content)))
    assert "renamed" not in " ".join(page_texts(read(client.get(url).content)))


def test_a_cached_pdf_is_still_only_for_those_who_may_see_the_goal(client, public_goal, renders):
    publish(public_goal)
    member = MembershipFactory(goal=public_goal, role=Role.CONTRIBUTOR).user
    client.force_login(member)
    assert client.get(pdf_url(public_goal, quarter="Q3 FY19")).status_code == 200
    public_goal.sensitivity = Sensitivity.RESTRICTED
    public_goal.save()

    anonymous = client.__class__().get(pdf_url(public_goal, quarter="Q3 FY19"))
    outsider = client.__class__()
    outsider.force_login(UserFactory())

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert outsider.get(pdf_url(public_goal, quarter="Q3 FY19")).status_code == 404
    assert client.get(pdf_url(public_goal, quarter="Q3 FY19")).status_code == 200
    assert len(renders) == 1
