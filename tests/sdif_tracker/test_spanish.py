"""The UI in Spanish: Accept-Language and the switcher pick it, the catalogue is complete
and safe, and the pages a leader walks show no English UI string — while the plan's own
content (titles, comments) stays as entered."""

import datetime
import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from milestones.models import Milestone, Risk, Status
from strategies.models import Role
from strategies.periods import FiscalPeriod, check_day, parse_day
from tests.factories import (
    GoalFactory,
    MembershipFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    UserFactory,
)
from tests.spanish_catalogue import stand_in_spanish

PO = Path(settings.BASE_DIR, "locale", "es", "LC_MESSAGES", "django.po")
MO = PO.with_suffix(".mo")
# Msgids whose Spanish is the same text: names, formats and words shared by both
# languages. Any other msgstr equal to its msgid is an entry left in English.
SAME_IN_BOTH = {
    "SDIF Tracker",
    "Markdown.",
    "slug",
    "Total",
    "Excel (XLSX)",
    "%(old)s → %(new)s",
    "%(status)s (%(period)s)",
    "%(role)s: %(user)s",
    "%(filter)s: %(error)s",
    "%(field)s %(old)s → %(new)s",
    "%(object)s: %(change)s",
    "%(field)s (%(kinds)s)",
    "— SDIF Tracker",
    "%(value)s (%(period)s)",
    "%(name)s: %(source)s",
    # Issue 16: technical words Spanish uses as they are.
    "Error",
    "URL",
    "Webhooks",
    "Webhook %(url)s",
    "Webhooks · %(owner)s",
    "%(ms)s ms",
}
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")


def _unquote(text):
    return text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def catalogue():
    """Entries of the Spanish .po: dicts with msgid, msgid_plural, msgstr (a list) and flags."""
    entries, entry, field = [], None, None
    for line in PO.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"msgid": "", "msgid_plural": None, "msgstr": [], "flags": set()}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += _unquote(line)
            else:
                entry[field] += _unquote(line)
        else:
            keyword, _, value = line.partition(" ")
            field = "msgstr" if keyword.startswith("msgstr") else keyword
            if field == "msgstr":
                entry["msgstr"].append(_unquote(value))
            else:
                entry[field] = _unquote(value)
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


class _TextNodes(HTMLParser):
    """Each run of text between tags, and the human-facing attributes, whitespace-normalized."""

    ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

    def __init__(self):
        super().__init__()
        self.nodes = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.nodes.append(" ".join(value.split()))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def text_nodes(html):
    parser = _TextNodes()
    parser.feed(html)
    return parser.nodes


def as_pattern(msgid):
    """The msgid as it appears rendered: placeholders stand for short values."""
    parts = PLACEHOLDER.split(msgid)
    return re.compile(r".{1,80}?".join(re.escape(part) for part in parts))


def ui_msgids():
    """Msgids worth looking for: their Spanish differs, and they are more than a
    placeholder or markup."""
    found = []
    for entry in catalogue():
        if entry["msgid_plural"] is not None or "<" in entry["msgid"]:
            continue
        if entry["msgid"] in SAME_IN_BOTH:
            continue
        if not re.search(r"[A-Za-z]{2}", PLACEHOLDER.sub("", entry["msgid"])):
            continue
        found.append(entry["msgid"])
    return found


@pytest.fixture
def sdif_leader(sdif_goal):
    user = UserFactory(username="lider", first_name="Ana", last_name="Ruiz")
    MembershipFactory(user=user, goal=sdif_goal, role=Role.LEADER)
    return user


def leader_pages(client, goal):
    milestone = Milestone.objects.filter(goal=goal).order_by("position").first()
    dashboard = reverse("goal_dashboard", kwargs={"slug": goal.slug})
    return [
        dashboard,
        f"{dashboard}?group=quarter",
        reverse("goal_plan", kwargs={"slug": goal.slug}),
        reverse("milestone_detail", kwargs={"slug": goal.slug, "pk": milestone.pk}),
        reverse("my_goals"),
    ]


def get(client, url, language):
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200, (url, language, response.status_code)
    return response.content.decode()


def test_the_compiled_catalogue_is_built_from_the_current_po():
    assert MO.exists(), "locale/es/LC_MESSAGES/django.mo is missing: run `make messages`"
    assert MO.stat().st_mtime >= PO.stat().st_mtime, "django.mo is stale: run `make messages`"


@pytest.mark.django_db
def test_accept_language_es_shows_the_sdif_dashboard_in_spanish(client, sdif_goal, sdif_leader):
    client.force_login(sdif_leader)
    html = get(
        client, reverse("goal_dashboard", kwargs={"slug": sdif_goal.slug}), "es-MX,es;q=0.9"
    )

    assert '<html lang="es">' in html
    nodes = text_nodes(html)
    count = Milestone.objects.filter(goal=sdif_goal).count()
    assert f"{count} hitos clave" in nodes  # the list's heading, with its plural
    assert "Hito clave" in nodes and "Plazo revisado" in nodes  # the table's headers
    assert "Filtrar hitos clave" in nodes  # the filter card's heading
    assert "<legend" in html and re.search(r"<legend[^>]*>\s*Estado\s*</legend>", html)
    assert "Agrupar hitos clave" in nodes  # the group toggle's label
    assert "Por estrategia" in nodes and "Por trimestre del plazo" in nodes
    on_track = Milestone.objects.filter(goal=sdif_goal, status=Status.ON_TRACK).count()
    assert on_track > 0
    badges = re.findall(
        r'data-status="on_track"><span class="visually-hidden">([^<]*)</span>'
        r'<svg [^>]*>.*?</svg><span class="status-label">([^<]*)<',
        html,
    )
    assert len(badges) >= on_track
    assert all(label.strip() == "Estado:" and text == "En tiempo" for label, text in badges)
    assert "On track" not in nodes
    # Plan content stays as entered: a milestone's English title is shown unchanged.
    title = Milestone.objects.filter(goal=sdif_goal).order_by("position").first().title
    assert " ".join(title.split()) in nodes


@pytest.mark.django_db
def test_english_stays_the_default(client, sdif_goal, sdif_leader):
    client.force_login(sdif_leader)
    html = get(client, reverse("goal_dashboard", kwargs={"slug": sdif_goal.slug}), "en-US")
    assert '<html lang="en">' in html
    assert "Filter key milestones" in text_nodes(html)


@pytest.mark.django_db
def test_no_untranslated_ui_string_on_the_pages_a_leader_walks(client, sdif_goal, sdif_leader):
    client.force_login(sdif_leader)
    patterns = {msgid: as_pattern(msgid) for msgid in ui_msgids()}
    seen_in_english, untranslated = set(), {}
    for url in leader_pages(client, sdif_goal):
        english = text_nodes(get(client, url, "en"))
        spanish = text_nodes(get(client, url, "es"))
        # Plan content is the same in both renderings; UI text is not, so a UI string
        # left in English shows up as a node common to both that matches a msgid.
        common = set(english) & set(spanish)
        for msgid, pattern in patterns.items():
            if any(pattern.fullmatch(node) for node in english):
                seen_in_english.add(msgid)
                leftovers = [node for node in common if pattern.fullmatch(node)]
                if leftovers:
                    untranslated.setdefault(msgid, []).append((url, leftovers[:3]))
    # The walk really covers the UI: dozens of the app's strings are on these pages.
    assert len(seen_in_english) >= 60, sorted(seen_in_english)
    assert not untranslated, untranslated


@pytest.mark.django_db
def test_the_switcher_sets_the_language_cookie_and_the_next_page_is_spanish(
    client, sdif_goal, sdif_leader
):
    client.force_login(sdif_leader)
    dashboard = reverse("goal_dashboard", kwargs={"slug": sdif_goal.slug})
    page = get(client, dashboard, "en")
    assert f'action="{reverse("set_language")}"' in page
    assert '<label class="visually-hidden" for="language-select">Language</label>' in page

    response = client.post(reverse("set_language"), {"language": "es", "next": dashboard})

    assert response.status_code == 302
    assert response["Location"] == dashboard
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    # The cookie wins over the browser's English Accept-Language.
    html = get(client, dashboard, "en")
    assert '<html lang="es">' in html
    assert "Filtrar hitos clave" in text_nodes(html)
    assert '<option value="es" lang="es" selected>Español</option>' in html


@pytest.mark.django_db
def test_the_switcher_ignores_an_unknown_language_and_an_outside_next(client, sdif_leader):
    client.force_login(sdif_leader)
    response = client.post(
        reverse("set_language"), {"language": "xx", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_every_msgid_has_a_translation_and_none_is_fuzzy():
    entries = catalogue()
    assert len(entries) > 300
    assert not [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not [e["msgid"] for e in entries if not all(s.strip() for s in e["msgstr"])]
    left_in_english = {e["msgid"] for e in entries if e["msgstr"][0] == e["msgid"]}
    assert left_in_english <= SAME_IN_BOTH, left_in_english - SAME_IN_BOTH
    plurals = [e for e in entries if e["msgid_plural"] is not None]
    assert plurals and all(len(e["msgstr"]) == 2 for e in plurals)
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in PO.read_text(encoding="utf-8")


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    mismatched = []
    for entry in catalogue():
        for msgid in filter(None, (entry["msgid"], entry["msgid_plural"])):
            expected = sorted(PLACEHOLDER.findall(msgid))
            for msgstr in entry["msgstr"]:
                if sorted(PLACEHOLDER.findall(msgstr)) != expected:
                    mismatched.append((msgid, msgstr))
    assert not mismatched, mismatched


def test_status_and_role_labels_read_as_agreed():
    from strategies.models import Role as Roles

    with translation.override("es"):
        statuses = {str(s.label) for s in Status}
        roles = {str(r.label) for r in Roles}
    assert statuses == {
        "Por definir",
        "No iniciado",
        "En tiempo",
        "En riesgo",
        "Retrasado",
        "Completado",
        "Cancelado",
    }
    assert {"Líder de la meta", "Líder adjunto de la meta", "Colaborador", "Revisor"} <= roles


# -- messages the app writes itself ----------------------------------------------------------


def _status_post(milestone, **values):
    data = {"status": "on_track", "comment": "", "period": "Q3 FY19", "revised_due": ""}
    data.update(values, version=milestone.version)
    return {f"m{milestone.pk}-{key}": value for key, value in data.items()}


@pytest.mark.django_db
def test_a_validation_error_reads_in_spanish_on_a_spanish_page(client, sdif_goal, sdif_leader):
    milestone = sdif_goal.milestones.exclude(status=Status.DELAYED).filter(revised_due=None)[0]
    client.force_login(sdif_leader)
    url = reverse("milestone_update", kwargs={"slug": sdif_goal.slug, "pk": milestone.pk})
    posted = _status_post(milestone, status="delayed", comment="Vendor slipped.", period="Q4 FY19")

    spanish = unescape(client.post(url, posted, HTTP_ACCEPT_LANGUAGE="es").content.decode())
    english = unescape(client.post(url, posted, HTTP_ACCEPT_LANGUAGE="en").content.decode())

    assert "Un hito retrasado necesita un plazo revisado, p. ej. FY19." in spanish
    assert "A delayed milestone needs a revised due period" not in spanish
    assert "A delayed milestone needs a revised due period, e.g. FY19." in english


@pytest.mark.django_db
def test_a_fiscal_period_error_is_read_in_the_pages_language(client, sdif_goal, sdif_leader):
    """The period parser's messages are looked up in the reader's language when raised."""
    milestone = sdif_goal.milestones.order_by("position")[0]
    client.force_login(sdif_leader)
    url = reverse("milestone_update", kwargs={"slug": sdif_goal.slug, "pk": milestone.pk})
    posted = _status_post(milestone, period="Q5 FY19")
    msgid = '"%(text)s" is not a fiscal period: a quarter is Q1 to Q4.'

    with stand_in_spanish(msgid):
        spanish = unescape(client.post(url, posted, HTTP_ACCEPT_LANGUAGE="es").content.decode())
    english = unescape(client.post(url, posted, HTTP_ACCEPT_LANGUAGE="en").content.decode())

    assert '[es] "Q5 FY19" is not a fiscal period: a quarter is Q1 to Q4.' in spanish
    assert '"Q5 FY19" is not a fiscal period: a quarter is Q1 to Q4.' in english
    assert "[es]" not in english


def test_the_period_parsers_messages_follow_the_active_language():

    def refusal(call, *args):
        with pytest.raises(ValueError) as raised:
            call(*args)
        return str(raised.value)

    msgids = [
        '"%(text)s" is not a fiscal period (write e.g. Q3 FY19, FY19 or Ongoing).',
        '"%(text)s" is not a fiscal period: the year must have 2 or 4 digits.',
        '"%(text)s" is not a fiscal period: year %(year)d is out of range.',
        "“%(text)s” is not a date (write e.g. 2019-06-30).",
        "%(day)s is out of range: dates run from %(first)s to %(last)s (fiscal years "
        "%(first_year)d to %(last_year)d).",
    ]
    cases = [
        (FiscalPeriod.parse, "banana"),
        (FiscalPeriod.parse, "FY123"),
        (FiscalPeriod.parse, "FY1800"),
        (parse_day, "30/06/2019"),
        (check_day, datetime.date(1800, 1, 1)),
    ]
    with stand_in_spanish(*msgids), translation.override("es"):
        spanish = [refusal(call, value) for call, value in cases]
    with translation.override("en"):
        english = [refusal(call, value) for call, value in cases]

    assert all(text.startswith("[es] ") for text in spanish), spanish
    assert [text.removeprefix("[es] ") for text in spanish] == english
    assert english[0] == '"banana" is not a fiscal period (write e.g. Q3 FY19, FY19 or Ongoing).'


@pytest.mark.django_db
def test_reminder_emails_are_written_in_the_sites_language(
    settings, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    """Users store no language: the email is in settings.LANGUAGE_CODE, whatever the
    language the command runs in."""
    moment = datetime.datetime(2019, 7, 21, 9, tzinfo=timezone.get_default_timezone())
    monkeypatch.setattr(timezone, "now", lambda: moment)
    goal = GoalFactory(reporting_quarter_set=None, short_name="SDIF")
    ProgressSummaryFactory(
        goal=goal, period=FiscalPeriod(2019, 2), risk=Risk.LOW, published_at=moment
    )
    MembershipFactory(goal=goal, role=Role.LEADER, user__username="lee", user__first_name="Lee")
    MilestoneFactory(goal=goal, title="Stale one", due=FiscalPeriod(2019, 4))
    settings.LANGUAGE_CODE = "es"
    msgids = [
        "Hello %(name)s,",
        "These key milestones of your goals need a status update for %(quarter)s:",
        "not updated in %(quarter)s",
        "Your list for the quarter: %(url)s",
        "— SDIF Tracker",
    ]

    with (
        stand_in_spanish(*msgids),
        translation.override("en"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("send_update_reminders", stdout=io.StringIO())

    (mail,) = mailoutbox
    assert mail.body.startswith("[es] Hello Lee")
    assert "[es] These key milestones of your goals need a status update for Q3 FY19:" in (
        mail.body
    )
    assert "Stale one [[es] not updated in Q3 FY19]" in mail.body
    assert "[es] — SDIF Tracker" in mail.body
