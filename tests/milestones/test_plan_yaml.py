"""The action-plan YAML format: import, export, round trips, errors and the commands."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import execute_from_command_line
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.history import get_system_user
from audit.reasons import describe
from milestones.forms import COMMENT_MAX_LENGTH, SUMMARY_MAX_LENGTH
from milestones.models import Milestone, ProgressSummary, Status
from milestones.plan_yaml import IMPORT_REASON, PlanError, export_plan, import_plan
from strategies.forms import (
    DESCRIPTION_MAX_LENGTH,
    PROGRAM_LINE_MAX_LENGTH,
    SECTION_MAX_LENGTH,
    STATEMENT_MAX_LENGTH,
)
from strategies.models import Agency, Goal, Indicator, Strategy
from strategies.periods import MAX_FISCAL_YEAR, MIN_FISCAL_YEAR, FiscalPeriod
from tests.factories import (
    GoalFactory,
    IndicatorFactory,
    IndicatorValueFactory,
    MilestoneFactory,
    ProgressSummaryFactory,
    StatusUpdateFactory,
    StrategyFactory,
)

SDIF_PATH = settings.BASE_DIR / "plans" / "sdif-fy19.yaml"
# The SDIF plan as format 1 wrote it (what plans/ shipped before format 2): these tests
# of the format's first version also prove that a format 1 file imports as it did.
# The shipped format 2 file, with its history, is tested in test_plan_history_yaml.py.
SDIF_V1_PATH = settings.BASE_DIR / "tests" / "milestones" / "sdif_fy19_v1.yaml"
SDIF = SDIF_V1_PATH.read_text(encoding="utf-8")

MINIMAL = """\
format: apg-action-plan/1
agency: {name: Department of Examples}
goal:
  title: Reduce paperwork
  statement: By 2020, halve the forms.
  fiscal_years: [2020]
strategies: []
milestones: []
"""

# Every optional part of the format, with values that are awkward to write back out.
EVERYTHING = """\
format: apg-action-plan/1
agency: {name: Department of Examples, abbreviation: DoE}
goal:
  title: 'Reduce paperwork: phase #2'
  short_name: "2020"
  slug: paperwork
  statement: |-
    By 2020, halve the forms.
      An indented line, and a blank one:

    Done.
  target_date: 2020-09-30
  fiscal_years: [2019, 2020]
  sensitivity: restricted
  leader: {name: Ana Núñez, title: "Director – Forms"}
  deputy: {title: Acting deputy}
  sections:
    overview: "yes"
    challenge: "trailing space \\nnext line"
    history: |
      Ends with a newline.
  contributing_programs:
    organizations: [Forms Office, "null"]
    policies: ["Policy 7: less paper"]
strategies:
  - number: 2
    title: Cut forms
    description: |-
      - one
      - two
  - {number: 5, title: Merge forms}
milestones:
  - title: Publish the inventory
    status: Not started
    depends_on: 2
  - title: Retire ten forms
    due: Q2 FY 2020
    revised_due: FY20
    strategy: 5
    status: at risk
    owner: Forms Office
    comment: "'Ten' is the target."
progress:
  - {period: Q1 FY20, summary: Started.}
  - {period: FY19, summary: Planned.}
indicators:
  - name: Forms retired
    unit: forms
    values:
      - {period: Q1 FY20, target: 5, actual: 3}
      - {period: Q2 FY20, target: 10.5}
  - name: Hours spent
    direction: lower
"""


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not unique in the text"
    return text.replace(old, new)


def _line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} is not unique in the text"
    return text[: text.index(needle)].count("\n") + 1


def _tracked_models():
    models = [
        model
        for label in ("auth", "strategies", "milestones")
        for model in apps.get_app_config(label).get_models()
    ]
    names = {model.__name__ for model in models}
    # The history tables are part of "nothing changed".
    assert {"HistoricalGoal", "HistoricalMilestone", "HistoricalIndicatorValue"} <= names
    return models


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in _tracked_models()}


def _history_count() -> int:
    return sum(
        count for label, count in _row_counts().items() if label.split(".")[1].startswith("Hist")
    )


def _fields(obj, *exclude: str) -> dict:
    skip = {"id", "created_at", "updated_at", "version", *exclude}
    return {f.name: getattr(obj, f.name) for f in obj._meta.concrete_fields if f.name not in skip}


def _snapshot(slug: str) -> dict:
    """Every field of a plan, with references by number/position instead of ids."""
    goal = Goal.objects.select_related("agency").get(slug=slug)
    milestones = list(goal.milestones.order_by("position", "id"))
    return {
        "agency": _fields(goal.agency),
        "goal": _fields(goal, "agency"),
        "strategies": [_fields(s, "goal") for s in goal.strategies.order_by("number")],
        "milestones": [
            {
                **_fields(m, "goal", "strategy", "depends_on"),
                "strategy": m.strategy.number if m.strategy else None,
                "depends_on": milestones.index(m.depends_on) + 1 if m.depends_on else None,
            }
            for m in milestones
        ],
        "progress": [_fields(p, "goal") for p in goal.progress_summaries.order_by("period")],
        "indicators": [
            {
                **_fields(i, "goal"),
                "values": [_fields(v, "indicator") for v in i.values.order_by("period")],
            }
            for i in goal.indicators.order_by("position")
        ],
    }


def _delete_plan(slug: str) -> None:
    goal = Goal.objects.get(slug=slug)
    for milestone in goal.milestones.filter(depends_on__isnull=False):
        milestone.depends_on = None
        milestone.save()
    for milestone in goal.milestones.all():
        milestone.delete()
    for related in (goal.strategies, goal.progress_summaries, goal.indicators):
        for obj in related.all():
            obj.delete()
    agency = goal.agency
    goal.delete()
    agency.delete()


@pytest.fixture
def sdif(db) -> Goal:
    return import_plan(SDIF)


# -- the SDIF plan ------------------------------------------------------------------------


def test_the_sdif_plan_imports_every_part_of_the_published_plan(sdif):
    assert sdif.slug == "sdif"
    assert sdif.agency.name == "Department of the Treasury"
    assert sdif.agency.abbreviation == "Treasury"
    assert (sdif.first_fiscal_year, sdif.last_fiscal_year) == (2018, 2019)
    assert (sdif.leader_name, sdif.deputy_name) == ("Marshall Billingslea", "Daniel Moger")
    assert sdif.deputy_title.startswith("Principal Deputy Assistant Secretary, TFI")
    assert sdif.key_indicators.startswith("Due to the sensitive nature of this goal")
    assert sdif.programs["organizations"][0] == "Department of the Treasury"
    assert sdif.programs["regulations"] == ["Bank Secrecy Act"]
    assert len(sdif.programs["policies"]) == len(sdif.programs["other_federal_activities"]) == 1
    assert list(sdif.strategies.values_list("number", flat=True)) == [1, 2, 3, 4]

    milestones = list(sdif.milestones.select_related("strategy", "depends_on"))
    assert [m.position for m in milestones] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert milestones[0].title == "Assist with U.S./Mexico domestic sanctions reforms"
    assert [m.strategy.number for m in milestones] == [3, 4, 3, 3, 1, 2, 1, 2]
    fifth, sixth, seventh = milestones[4:7]
    assert (fifth.status, fifth.due, fifth.revised_due) == (
        Status.DELAYED,
        FiscalPeriod.parse("Q3 FY18"),
        FiscalPeriod.parse("FY19"),
    )
    assert (sixth.status, sixth.due, sixth.revised_due) == (
        Status.DELAYED,
        FiscalPeriod.parse("Q4 FY18"),
        FiscalPeriod.parse("FY19"),
    )
    assert seventh.depends_on == fifth
    assert milestones[0].due.is_ongoing and milestones[0].status == Status.ON_TRACK

    progress = sdif.progress_summaries.get()
    assert str(progress.period) == "FY19"
    assert progress.summary.startswith("- Progress slowed due to Mexico's loss")


def test_an_import_is_recorded_as_the_system_user_with_the_reason(sdif):
    for milestone in sdif.milestones.all():
        record = milestone.history.get()
        assert record.history_type == "+"
        assert record.history_user == get_system_user()
        assert record.history_change_reason == IMPORT_REASON
        assert record.history_source == "import"


# -- round trips -------------------------------------------------------------------------


def test_an_export_reimports_over_itself_to_the_same_text_and_writes_nothing(sdif):
    exported = export_plan(sdif)
    history = _history_count()

    import_plan(exported, replace=True)

    assert export_plan(sdif) == exported
    assert _history_count() == history


def test_importing_an_export_into_an_empty_database_gives_the_same_plan(sdif):
    before = _snapshot("sdif")
    exported = export_plan(sdif)
    _delete_plan("sdif")
    assert not Goal.objects.exists()

    goal = import_plan(exported)

    assert _snapshot("sdif") == before
    assert export_plan(goal) == exported


@pytest.mark.django_db
def test_every_part_of_the_format_round_trips_exactly():
    goal = import_plan(EVERYTHING)
    before = _snapshot("paperwork")
    exported = export_plan(goal)
    _delete_plan("paperwork")

    again = import_plan(exported)

    assert _snapshot("paperwork") == before
    assert export_plan(again) == exported


@pytest.mark.django_db
def test_the_optional_parts_are_read_as_written():
    goal = import_plan(EVERYTHING)

    assert (goal.title, goal.short_name, goal.sensitivity) == (
        "Reduce paperwork: phase #2",
        "2020",
        "restricted",
    )
    assert goal.statement == (
        "By 2020, halve the forms.\n  An indented line, and a blank one:\n\nDone."
    )
    assert (goal.overview, goal.challenge, goal.history) == (
        "yes",
        "trailing space \nnext line",
        "Ends with a newline.\n",
    )
    assert goal.programs["organizations"] == ["Forms Office", "null"]
    assert (goal.deputy_name, goal.deputy_title) == ("", "Acting deputy")
    assert goal.strategies.get(number=2).description == "- one\n- two"
    first, second = goal.milestones.order_by("position")
    assert first.depends_on == second  # a reference to a later milestone
    assert (first.status, first.due, first.strategy) == (Status.NOT_STARTED, None, None)
    assert (second.status, str(second.due), str(second.revised_due)) == (
        Status.AT_RISK,
        "Q2 FY20",
        "FY20",
    )
    forms, hours = goal.indicators.order_by("position")
    assert [(str(v.period), v.target, v.actual) for v in forms.values.order_by("period")] == [
        ("Q1 FY20", Decimal("5"), Decimal("3")),
        ("Q2 FY20", Decimal("10.5"), None),
    ]
    assert hours.direction == "lower"


def test_the_export_writes_the_format_in_the_documented_order(sdif):
    exported = export_plan(sdif)

    top_level = [line.split(":")[0] for line in exported.splitlines() if line[:1].isalpha()]
    assert top_level == ["format", "agency", "goal", "strategies", "milestones", "progress"]
    assert "  fiscal_years: [2018, 2019]\n" in exported
    assert "    status: On track\n" in exported
    assert "    revised_due: FY19\n" in exported
    assert "    challenge: |-\n      - Mexico's loss" in exported
    assert "Secretaría de Hacienda y Crédito Público" in exported  # not \\u escapes


@pytest.mark.django_db
def test_an_empty_plan_exports_empty_lists_and_no_optional_keys():
    goal = import_plan(MINIMAL)

    assert export_plan(goal) == (
        "format: apg-action-plan/2\n"
        "agency:\n"
        "  name: Department of Examples\n"
        "goal:\n"
        "  title: Reduce paperwork\n"
        "  slug: reduce-paperwork\n"
        "  statement: By 2020, halve the forms.\n"
        "  fiscal_years: [2020]\n"
        "  sensitivity: internal\n"
        "strategies: []\n"
        "milestones: []\n"
    )


@pytest.mark.django_db
def test_the_slug_comes_from_the_short_name_when_not_given():
    text = _edit(
        MINIMAL,
        "  title: Reduce paperwork\n",
        "  title: Reduce paperwork\n  short_name: PW 2020\n",
    )

    assert import_plan(text).slug == "pw-2020"


def _plan_of_size(milestones: int) -> Goal:
    goal = GoalFactory()
    strategies = [StrategyFactory(goal=goal) for _ in range(3)]
    rows = [
        MilestoneFactory(goal=goal, strategy=strategies[index % 3], position=index + 1)
        for index in range(milestones)
    ]
    rows[-1].depends_on = rows[0]
    rows[-1].save()
    ProgressSummaryFactory(goal=goal)
    for indicator in range(milestones // 5):
        indicator = IndicatorFactory(goal=goal)
        for quarter in (1, 2, 3, 4):
            IndicatorValueFactory(indicator=indicator, period=FiscalPeriod(2019, quarter))
    return Goal.objects.get(pk=goal.pk)


@pytest.mark.django_db
def test_the_export_runs_the_same_number_of_queries_for_any_size_of_plan():
    small, large = _plan_of_size(5), _plan_of_size(60)

    with CaptureQueriesContext(connection) as small_queries:
        export_plan(small)
    with CaptureQueriesContext(connection) as large_queries:
        exported = export_plan(large)

    assert exported.count("  - title: Milestone") == 60
    assert len(small_queries) == len(large_queries) <= 7


# -- replacing -----------------------------------------------------------------------------


def test_reimporting_the_same_file_with_replace_writes_no_history(sdif):
    history = _row_counts()

    import_plan(SDIF, replace=True)

    assert _row_counts() == history


def test_changing_one_status_writes_exactly_one_history_row(sdif):
    history = _history_count()
    text = _edit(
        SDIF,
        "    due: Q4 FY19\n    strategy: 2\n    status: TBD\n",
        "    due: Q4 FY19\n    strategy: 2\n    status: On track\n",
    )

    import_plan(text, replace=True)

    assert _history_count() == history + 1
    eighth = sdif.milestones.get(position=8)
    assert eighth.status == Status.ON_TRACK
    change = eighth.history.first()
    assert change.history_type == "~"
    assert change.history_user == get_system_user()
    assert change.history_change_reason == IMPORT_REASON
    assert change.prev_record.status == Status.TBD


def test_a_replace_updates_in_place_and_deletes_what_the_file_leaves_out(sdif):
    ids = list(sdif.milestones.order_by("position").values_list("id", flat=True))
    eighth = SDIF[SDIF.index("  - title: >-\n      Confirm mutual understanding of FY 2019") :]
    eighth = eighth[: eighth.index("progress:")]
    text = SDIF[: SDIF.index("progress:")].replace(eighth, "")
    text = _edit(
        text, "  - number: 4\n    title: Share operational", "  - number: 5\n    title: Share"
    )
    text = _edit(text, "    strategy: 4\n", "    strategy: 5\n")
    text = _edit(
        text,
        "  title: U.S.-Mexico Strategic Dialogue on Illicit Finance\n",
        "  title: U.S.-Mexico Strategic Dialogue on Illicit Finance (revised)\n",
    )

    goal = import_plan(text, replace=True)

    assert goal.pk == sdif.pk
    assert goal.title.endswith("(revised)")
    assert list(goal.milestones.order_by("position").values_list("id", flat=True)) == ids[:7]
    assert list(goal.strategies.values_list("number", flat=True)) == [1, 2, 3, 5]
    assert goal.milestones.get(position=2).strategy.number == 5
    assert not goal.progress_summaries.exists()
    gone = Milestone.history.filter(id=ids[7]).latest()
    assert (gone.history_type, gone.history_user) == ("-", get_system_user())
    assert Strategy.history.filter(goal_id=goal.pk, number=4, history_type="-").exists()
    assert ProgressSummary.history.filter(goal_id=goal.pk, history_type="-").exists()
    assert goal.changes.first().history_type == "~"


def test_a_replace_adds_milestones_that_depend_on_later_new_ones(sdif):
    text = _edit(
        SDIF,
        "progress:\n",
        "  - {title: Ninth, due: FY20, depends_on: 10}\n"
        "  - {title: Tenth, due: FY20}\n"
        "progress:\n",
    )

    goal = import_plan(text, replace=True)

    ninth, tenth = goal.milestones.filter(position__gte=9).order_by("position")
    assert (ninth.title, ninth.depends_on, tenth.title) == ("Ninth", tenth, "Tenth")


def test_a_replace_removes_milestones_that_depend_on_each_other(sdif):
    with_two_more = _edit(
        SDIF,
        "progress:\n",
        "  - {title: Ninth, due: FY20, depends_on: 10}\n"
        "  - {title: Tenth, due: FY20, depends_on: 9}\n"
        "progress:\n",
    )
    import_plan(with_two_more, replace=True)
    ninth, tenth = sdif.milestones.filter(position__gte=9).order_by("position")

    goal = import_plan(SDIF, replace=True)

    assert goal.milestones.count() == 8
    for gone in (ninth, tenth):
        assert Milestone.history.filter(id=gone.pk).latest().history_type == "-"


@pytest.mark.django_db
def test_a_replace_matches_indicators_by_name_and_values_by_period():
    goal = import_plan(EVERYTHING)
    forms = goal.indicators.get(name="Forms retired")
    text = _edit(EVERYTHING, "      - {period: Q2 FY20, target: 10.5}\n", "")
    text = _edit(text, "  - name: Hours spent\n    direction: lower\n", "")
    text = _edit(text, "target: 5, actual: 3}", "target: 5, actual: 4}")

    import_plan(text, replace=True)

    assert list(goal.indicators.all()) == [forms]
    assert [(str(v.period), v.actual) for v in forms.values.all()] == [("Q1 FY20", 4)]
    assert not Indicator.objects.filter(name="Hours spent").exists()


def test_an_existing_slug_is_refused_without_replace(sdif):
    before, exported = _row_counts(), export_plan(sdif)

    with pytest.raises(PlanError) as error:
        import_plan(SDIF)

    assert error.value.errors == [
        f'line {_line_of(SDIF, "  slug: sdif")}: goal.slug: a goal with slug "sdif" exists '
        "already; import with --replace (replace=True) to replace it"
    ]
    assert _row_counts() == before
    assert export_plan(sdif) == exported


def test_a_milestone_with_status_updates_cannot_be_left_out_and_nothing_changes(sdif):
    eighth = sdif.milestones.get(position=8)
    StatusUpdateFactory(milestone=eighth)
    before, exported = _row_counts(), export_plan(sdif)
    # The goal's title changes too: it is written before the milestones, then rolled back.
    text = SDIF[: SDIF.index("  - title: >-\n      Confirm mutual understanding of FY 2019")]
    text = _edit(text, "  short_name: SDIF\n", "  short_name: SDIF2\n")

    with pytest.raises(PlanError) as error:
        import_plan(text + "indicators: []\n", replace=True)

    assert error.value.errors == [
        f"line {_line_of(text, 'milestones:')}: milestones: milestone 8 "
        f'("{eighth.title}") has 1 status update(s) and cannot be removed: keep it in the '
        "file (it may be Cancelled)"
    ]
    assert _row_counts() == before
    assert export_plan(sdif) == exported


# -- errors --------------------------------------------------------------------------------


@dataclass
class Bad:
    """A broken variant of the SDIF file and the error it must give."""

    id: str
    old: str | None  # None: ``new`` is the whole file
    new: str
    path: str
    message: str
    at: str | None = None  # the text on the error's line (default: ``new``)
    line: int | None = None  # or the line itself

    def text(self) -> str:
        return self.new if self.old is None else _edit(SDIF, self.old, self.new)

    def expected_line(self, text: str) -> int:
        return self.line or _line_of(text, self.at or self.new.strip("\n"))


BAD_FILES = [
    Bad("empty file", None, "", "(document)", "the file is empty", line=1),
    Bad("top level is a list", None, "- format: apg-action-plan/1\n", "(document)",
        "expected a mapping starting with format", line=1),
    Bad("control character", "  short_name: SDIF\n", "  short_name: SD\x07IF\n", "(document)",
        "not valid YAML: the character #x0007 is not allowed"),
    Bad("malformed yaml", "  short_name: SDIF\n", "  short_name: SDIF: x\n", "(document)",
        "not valid YAML: mapping values are not allowed here"),
    Bad("unsafe tag", "  short_name: SDIF\n", "  short_name: !!python/name:os.system ''\n",
        "goal.short_name", "not allowed: could not determine a constructor"),
    Bad("wrong format", "format: apg-action-plan/1", "format: apg-action-plan/3", "format",
        "expected \"apg-action-plan/2\", not 'apg-action-plan/3'"),
    Bad("unknown top-level key", "progress:\n", "owner: OFAC\nprogress:\n", "owner",
        "unknown key (expected one of: format, agency,", at="owner: OFAC"),
    Bad("unknown key in the deputy", "    name: Daniel Moger\n",
        "    name: Daniel Moger\n    email: dm@example.gov\n", "goal.deputy.email",
        "unknown key (expected one of: name, title)", at="email:"),
    Bad("unknown key in a milestone", "    depends_on: 5\n",
        "    depends_on: 5\n    priority: high\n", "milestones[6].priority", "unknown key",
        at="priority:"),
    Bad("duplicate key", "  short_name: SDIF\n", "  short_name: SDIF\n  short_name: SDIF2\n",
        "goal.short_name", "duplicate key (first given on line 14)", at="short_name: SDIF2"),
    Bad("missing agency name", "  name: Department of the Treasury\n", "", "agency.name",
        "is required", at="agency:"),
    Bad("missing milestone title",
        "  - title: Participate in annual SDIF senior level meetings.\n    due: Q4 FY19\n",
        "  - due: Q4 FY19\n", "milestones[2].title", "is required"),
    Bad("number for text", "  title: U.S.-Mexico Strategic Dialogue on Illicit Finance\n",
        "  title: 12345\n", "goal.title", "expected text, not a number (12345) (quote it)"),
    Bad("target date is no date", "  target_date: 2019-09-30", "  target_date: September 2019",
        "goal.target_date", "'September 2019' is not a date (write e.g. 2019-09-30)"),
    Bad("target date is impossible", "  target_date: 2019-09-30", "  target_date: 2019-13-45",
        "goal.target_date", "'2019-13-45' is not a date"),
    Bad("fiscal years with a gap", "  fiscal_years: [2018, 2019]", "  fiscal_years: [2018, 2020]",
        "goal.fiscal_years", "must be consecutive years in increasing order"),
    Bad("fiscal years not a list", "  fiscal_years: [2018, 2019]", "  fiscal_years: 2019",
        "goal.fiscal_years", "expected a list of fiscal years, e.g. [2018, 2019], not a number"),
    Bad("fiscal year not a number", "  fiscal_years: [2018, 2019]",
        "  fiscal_years: [2018, FY19]", "goal.fiscal_years[1]",
        "expected a whole number, not text"),
    Bad("bad sensitivity", "  sensitivity: internal", "  sensitivity: secret", "goal.sensitivity",
        "'secret' is not a sensitivity (write public | internal | restricted)"),
    Bad("bad slug", "  slug: sdif\n", "  slug: sdif fy19\n", "goal.slug", "is not a slug"),
    Bad("text too long", "    name: Daniel Moger\n", f"    name: {'D' * 201}\n",
        "goal.deputy.name", "is 201 characters long; at most 200 are allowed"),
    Bad("empty program item", "      - Bank Secrecy Act\n",
        "      - Bank Secrecy Act\n      - ''\n", "goal.contributing_programs.regulations[1]",
        "must not be empty", at="- ''"),
    Bad("program item on two lines", "      - Bank Secrecy Act\n",
        '      - "Bank Secrecy\\nAct"\n', "goal.contributing_programs.regulations[0]",
        "must be a single line"),
    Bad("duplicate strategy number", "  - number: 4\n", "  - number: 3\n",
        "strategies[3].number", "strategy 3 is given twice (first on line",
        at="number: 3\n    title: Share operational"),
    Bad("strategy number not a number", "  - number: 4\n", "  - number: four\n",
        "strategies[3].number", "expected a whole number, not text"),
    Bad("milestone strategy the plan lacks", "    strategy: 4\n", "    strategy: 7\n",
        "milestones[1].strategy", "the plan has no strategy 7 (its strategies: 1, 2, 3, 4)"),
    Bad("bad period", "    due: Q3 FY18\n", "    due: Q5 FY19\n", "milestones[4].due",
        '"Q5 FY19" is not a fiscal period'),
    Bad("period written as a number", "    due: Q4 FY18\n", "    due: 2018\n",
        "milestones[5].due", "2018 is a number, not a fiscal period"),
    Bad("period written as a date", "    due: Q3 FY18\n    revised_due: FY19\n",
        "    due: Q3 FY18\n    revised_due: 2019-09-30\n", "milestones[4].revised_due",
        "2019-09-30 is a date, not a fiscal period", at="revised_due: 2019-09-30"),
    Bad("bad status", "    strategy: 1\n    status: Delayed\n",
        "    strategy: 1\n    status: Delayed for FY 19\n", "milestones[4].status",
        "'Delayed for FY 19' is not a status (write one of: TBD, Not started, On track,",
        at="status: Delayed for FY 19"),
    Bad("dependency out of range", "    depends_on: 5\n", "    depends_on: 9\n",
        "milestones[6].depends_on", "there is no milestone 9: the plan has 8"),
    Bad("dependency on itself", "    depends_on: 5\n", "    depends_on: 7\n",
        "milestones[6].depends_on", "a milestone cannot depend on itself"),
    Bad("milestone not a mapping", "milestones:\n", "milestones:\n  - Just a title\n",
        "milestones[0]", "expected a mapping of keys to values, not text", at="- Just a title"),
    Bad("milestones not a list", "milestones:\n", "milestones: none\nx_milestones:\n",
        "milestones", "expected a list (write [] for none), not text", at="milestones: none"),
    Bad("progress period given twice", "progress:\n",
        "progress:\n  - {period: FY 2019, summary: Again.}\n", "progress[1].period",
        "FY19 has a summary already (line", at="  - period: FY19"),
    Bad("progress period ongoing", "  - period: FY19\n", "  - period: Ongoing\n",
        "progress[0].period", "Ongoing is not allowed here"),
    Bad("indicator value with a bad period", "progress:\n",
        "indicators:\n  - name: Cases\n    values:\n      - {period: Q9 FY19, target: 1}\n"
        "progress:\n", "indicators[0].values[0].period",
        '"Q9 FY19" is not a fiscal period: a quarter is Q1 to Q4', at="{period: Q9 FY19"),
    Bad("indicator value not a number", "progress:\n",
        "indicators:\n  - name: Cases\n    values:\n      - {period: Q1 FY19, target: ten}\n"
        "progress:\n", "indicators[0].values[0].target", "expected a number, not text",
        at="{period: Q1 FY19"),
    # The web forms' limits and characters, field by field.
    Bad("comment longer than the status form takes",
        "    comment: Treasury has scheduled a meeting for July 2019\n",
        f"    comment: {'c' * (COMMENT_MAX_LENGTH + 1)}\n", "milestones[2].comment",
        f"is {COMMENT_MAX_LENGTH + 1:,} characters long; at most {COMMENT_MAX_LENGTH:,} are"),
    Bad("statement longer than the goal form takes", "  statement: >-\n",
        f"  statement: {'s' * (STATEMENT_MAX_LENGTH + 1)}\n  x_statement: >-\n",
        "goal.statement", f"at most {STATEMENT_MAX_LENGTH:,} are allowed", at="  statement: s"),
    Bad("section longer than the goal form takes", "  sections:\n",
        f"  sections:\n    history: {'h' * (SECTION_MAX_LENGTH + 1)}\n",
        "goal.sections.history", f"at most {SECTION_MAX_LENGTH:,} are allowed",
        at="    history: h"),
    Bad("program item longer than the goal form takes", "      - Bank Secrecy Act\n",
        f"      - {'p' * (PROGRAM_LINE_MAX_LENGTH + 1)}\n",
        "goal.contributing_programs.regulations[0]",
        f"at most {PROGRAM_LINE_MAX_LENGTH:,} are allowed"),
    Bad("strategy description longer than the strategy form takes", "  - number: 1\n",
        f"  - number: 9\n    title: T\n    description: {'d' * (DESCRIPTION_MAX_LENGTH + 1)}\n"
        "  - number: 1\n", "strategies[0].description",
        f"at most {DESCRIPTION_MAX_LENGTH:,} are allowed", at="    description: d"),
    Bad("strategy number beyond the strategy form's", "  - number: 4\n", "  - number: 1000\n",
        "strategies[3].number", "1000 is out of range (1 to 999)"),
    Bad("progress summary longer than the progress form takes", "  - period: FY19\n",
        f"  - period: FY18\n    summary: {'p' * (SUMMARY_MAX_LENGTH + 1)}\n  - period: FY19\n",
        "progress[0].summary", f"at most {SUMMARY_MAX_LENGTH:,} are allowed",
        at="    summary: p"),
    Bad("NUL in the short name", "  short_name: SDIF\n", '  short_name: "SD\\0IF"\n',
        "goal.short_name", "contains the control character U+0000 (character 3)"),
    Bad("control character in a comment", "    comment: See fifth milestone above.\n",
        '    comment: "See the\\vfifth milestone above."\n', "milestones[6].comment",
        "contains the control character U+000B (character 8)"),
    Bad("line break in a one-line field", "  short_name: SDIF\n", '  short_name: "SD\\nIF"\n',
        "goal.short_name", "must be a single line (no line breaks or tabs)"),
    Bad("tab in a milestone title",
        "  - title: Participate in annual SDIF senior level meetings.\n",
        '  - title: "Participate in\\tannual SDIF senior level meetings."\n',
        "milestones[2].title", "must be a single line (no line breaks or tabs)"),
    Bad("fiscal year before the pages' range", "  fiscal_years: [2018, 2019]",
        f"  fiscal_years: [{MIN_FISCAL_YEAR - 1}, {MIN_FISCAL_YEAR}]", "goal.fiscal_years[0]",
        f"{MIN_FISCAL_YEAR - 1} is out of range ({MIN_FISCAL_YEAR} to {MAX_FISCAL_YEAR})"),
    Bad("fiscal year after the pages' range", "  fiscal_years: [2018, 2019]",
        f"  fiscal_years: [{MAX_FISCAL_YEAR}, {MAX_FISCAL_YEAR + 1}]", "goal.fiscal_years[1]",
        f"{MAX_FISCAL_YEAR + 1} is out of range ({MIN_FISCAL_YEAR} to {MAX_FISCAL_YEAR})"),
    Bad("lists nested deeper than a plan", "progress:\n",
        f"indicators: {'[' * 900}{']' * 900}\nprogress:\n", "(document)",
        "lists and mappings are nested over 20 levels deep", at="indicators: [[["),
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_FILES, ids=[bad.id for bad in BAD_FILES])
def test_a_bad_file_names_the_field_and_line_and_changes_nothing(sdif, bad):
    text = bad.text()
    before, exported = _row_counts(), export_plan(sdif)

    with pytest.raises(PlanError) as error:
        import_plan(text, replace=True)

    prefix = f"line {bad.expected_line(text)}: {bad.path}: "
    assert any(e.startswith(prefix) and bad.message in e for e in error.value.errors), (
        f"no error {prefix}...{bad.message}... in:\n{error.value}"
    )
    assert _row_counts() == before
    assert export_plan(sdif) == exported


@pytest.mark.django_db
def test_a_bad_file_changes_nothing_in_an_empty_database_either():
    before = _row_counts()

    with pytest.raises(PlanError):
        import_plan(_edit(SDIF, "    due: Q3 FY18\n", "    due: Q5 FY19\n"))

    assert _row_counts() == before
    assert before["auth.User"] == 0  # not even the system user is made


@pytest.mark.django_db
def test_every_error_in_a_file_is_reported_at_once():
    text = _edit(SDIF, "    due: Q3 FY18\n", "    due: Q5 FY19\n")
    text = _edit(text, "  sensitivity: internal", "  sensitivity: secret")
    text = _edit(text, "    strategy: 4\n", "    strategy: 7\n")

    with pytest.raises(PlanError) as error:
        import_plan(text)

    assert [e.split(": ")[:2] for e in error.value.errors] == [
        [f"line {_line_of(text, 'sensitivity: secret')}", "goal.sensitivity"],
        [f"line {_line_of(text, 'strategy: 7')}", "milestones[1].strategy"],
        [f"line {_line_of(text, 'due: Q5 FY19')}", "milestones[4].due"],
    ]
    assert str(error.value) == "\n".join(error.value.errors)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("On track", Status.ON_TRACK),
        ("On Track", Status.ON_TRACK),
        ("on_track", Status.ON_TRACK),
        ("TBD", Status.TBD),
        ("Not started", Status.NOT_STARTED),
        ("At risk", Status.AT_RISK),
        ("Delayed", Status.DELAYED),
        ("Completed", Status.COMPLETED),
        ("cancelled", Status.CANCELLED),
    ],
)
def test_statuses_are_read_from_their_labels_in_any_case(written, status):
    text = _edit(
        MINIMAL, "milestones: []\n", f"milestones:\n  - {{title: M, status: {written}}}\n"
    )

    goal = import_plan(text)

    assert goal.milestones.get().status == status


# -- bounds: size, depth, the web forms' rules ---------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(sdif, settings):
    settings.PLAN_IMPORT_MAX_BYTES = len(SDIF.encode())
    before, exported = _row_counts(), export_plan(sdif)
    # Not YAML at all: the size is the only error, so the text was never parsed.
    oversized = "{" + "x" * settings.PLAN_IMPORT_MAX_BYTES

    with pytest.raises(PlanError) as error:
        import_plan(oversized, replace=True)

    limit = f"{settings.PLAN_IMPORT_MAX_BYTES:,}"
    assert error.value.errors == [
        f"line 1: (document): the file is over {limit} bytes, the most an import reads "
        "(PLAN_IMPORT_MAX_BYTES)"
    ]
    assert _row_counts() == before
    assert export_plan(sdif) == exported


def test_the_size_limit_counts_bytes_and_a_file_at_the_limit_imports(db, settings):
    settings.PLAN_IMPORT_MAX_BYTES = len(SDIF.encode()) + 2
    # Two characters, four bytes in UTF-8: one byte over.
    with pytest.raises(PlanError, match="the file is over"):
        import_plan(_edit(SDIF, "  short_name: SDIF\n", "  short_name: SDIFéé\n"))
    assert not Goal.objects.exists()

    assert import_plan(_edit(SDIF, "  short_name: SDIF\n", "  short_name: SDIFé\n")).slug == "sdif"


@pytest.mark.django_db
def test_aliases_nested_deeper_than_a_plan_are_refused_with_a_line():
    # Each alias nests the one before: written two levels deep, expanded 400.
    chain = "".join(f"  - &a{n} [*a{n - 1}]\n" for n in range(1, 400))
    text = _edit(SDIF, "progress:\n", f"indicators:\n  - &a0 [x]\n{chain}progress:\n")

    with pytest.raises(PlanError) as error:
        import_plan(text)

    assert len(error.value.errors) == 1
    assert error.value.errors[0].startswith("line ")
    assert error.value.errors[0].endswith("lists and mappings are nested over 20 levels deep")
    assert not Goal.objects.exists()


@pytest.mark.django_db
def test_text_at_each_web_form_limit_imports_with_its_line_breaks_and_tabs():
    comment = ("Line one,\tthen a tab.\n" * COMMENT_MAX_LENGTH)[:COMMENT_MAX_LENGTH]
    programs = "p" * PROGRAM_LINE_MAX_LENGTH
    text = _edit(
        EVERYTHING,
        "  - title: Publish the inventory\n",
        f"  - title: Publish the inventory\n    comment: {_yaml_quoted(comment)}\n",
    )
    text = _edit(text, '    policies: ["Policy 7: less paper"]\n', f"    policies: [{programs}]\n")
    text = _edit(text, "  - {number: 5, title: Merge forms}", "  - {number: 999, title: Merge}")
    text = _edit(text, "    strategy: 5\n", "    strategy: 999\n")

    goal = import_plan(text)

    assert goal.milestones.get(position=1).comment == comment
    assert goal.policies == programs
    assert goal.strategies.filter(number=999).exists()


def _yaml_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") + '"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    ["plain", "two\nlines", "a\ttab", "CRLF\r\nline", "NUL\x00", "bell\x07", "DEL\x7f",
     "C1\x85.", "sep\u2028.", "émoji 🙂"],
)  # fmt: skip
def test_the_comment_form_and_the_importer_refuse_the_same_characters(value):
    from milestones.forms import StatusUpdateForm

    form = StatusUpdateForm(
        {
            "m1-status": Status.ON_TRACK,
            "m1-comment": value,
            "m1-period": "Q1 FY20",
            "m1-version": 1,
        },
        milestone=Milestone(pk=1),
    )
    quoted = value.encode("unicode_escape").decode().replace('"', '\\"')
    plan = _edit(
        MINIMAL, "milestones: []\n", f'milestones:\n  - {{title: M, comment: "{quoted}"}}\n'
    )
    try:
        import_plan(plan)
        imported = True
    except PlanError as error:
        assert error.errors[0].startswith("line 9: milestones[0].comment: "), error.errors
        imported = False

    assert form.is_valid() == imported, form.errors


@pytest.mark.parametrize("years", [(MIN_FISCAL_YEAR, MIN_FISCAL_YEAR + 1),
                                   (MAX_FISCAL_YEAR - 1, MAX_FISCAL_YEAR)])  # fmt: skip
def test_a_goal_imported_at_either_end_of_the_fiscal_years_shows_its_pages(
    client, admin_user, years
):
    text = _edit(MINIMAL, "  fiscal_years: [2020]", f"  fiscal_years: [{years[0]}, {years[1]}]")
    text = _edit(text, "milestones: []\n", f"milestones:\n  - {{title: M, due: FY{years[0]}}}\n")
    goal = import_plan(text)
    client.force_login(admin_user)

    for name in ("goal_dashboard", "goal_plan", "goal_history"):
        response = client.get(reverse(name, kwargs={"slug": goal.slug}))
        assert response.status_code == 200, name


# -- the commands ---------------------------------------------------------------------------


@pytest.fixture
def manage(monkeypatch):
    """Run ``manage.py ARGS`` in this process: its real argument parsing and exit codes."""
    # A command run from the command line closes every connection when it ends, which
    # would close the test database under the test.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)

    def run(*args: str) -> None:
        execute_from_command_line(["manage.py", *args])

    return run


@pytest.mark.django_db
def test_the_import_command_loads_a_plan_as_the_system_user(capsys, manage):
    manage("import_plan", str(SDIF_PATH))

    assert 'Imported the plan "sdif"' in capsys.readouterr().out
    record = Goal.objects.get(slug="sdif").changes.get()
    assert (record.history_user, record.history_source) == (
        get_system_user(),
        "command:import_plan",
    )
    assert (
        describe(record.history_change_reason) == "Imported from action-plan YAML (sdif-fy19.yaml)"
    )


@pytest.mark.django_db
def test_the_import_command_with_if_absent_loads_once_and_then_does_nothing(capsys, manage):
    manage("import_plan", str(SDIF_PATH), "--if-absent")
    assert Goal.objects.filter(slug="sdif").exists()
    before = _row_counts()

    manage("import_plan", str(SDIF_PATH), "--if-absent")

    assert 'The plan "sdif" is already loaded; nothing changed.' in capsys.readouterr().out
    assert _row_counts() == before


def test_the_import_command_refuses_an_existing_slug_without_replace(sdif, capsys, manage):
    before = _row_counts()

    with pytest.raises(SystemExit) as exit_:
        manage("import_plan", str(SDIF_PATH))

    assert exit_.value.code == 1
    assert "--replace" in capsys.readouterr().err
    assert _row_counts() == before


def test_the_import_command_replaces_with_replace(sdif, tmp_path, manage):
    path = tmp_path / "plan.yaml"
    path.write_text(SDIF.replace("status: Delayed", "status: Completed"), encoding="utf-8")

    manage("import_plan", str(path), "--replace")

    assert sdif.milestones.filter(status=Status.COMPLETED).count() == 2


@pytest.mark.django_db
def test_the_import_command_prints_every_error_and_exits_non_zero(tmp_path, capsys, manage):
    path = tmp_path / "bad.yaml"
    text = _edit(SDIF, "    due: Q3 FY18\n", "    due: Q5 FY19\n")
    path.write_text(_edit(text, "  sensitivity: internal", "  sensitivity: secret"), "utf-8")

    with pytest.raises(SystemExit) as exit_:
        manage("import_plan", str(path))

    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "not imported, nothing changed (2 errors)" in err
    assert f"line {_line_of(text, 'due: Q5 FY19')}: milestones[4].due:" in err
    assert "goal.sensitivity: 'secret' is not a sensitivity" in err
    assert not Goal.objects.exists()


REFUSED_BY_THE_COMMAND = {
    "a bad period": (
        _edit(MINIMAL, "milestones: []", "milestones: [{title: M, due: Q5 FY19}]"),
        'line 8: milestones[0].due: "Q5 FY19" is not a fiscal period',
    ),
    "over the size limit": (
        "x" * 101,
        "line 1: (document): the file is over 100 bytes, the most an import reads",
    ),
    "nested brackets": (
        _edit(MINIMAL, "strategies: []", f"strategies: {'[' * 900}{']' * 900}"),
        "line 7: (document): lists and mappings are nested over 20 levels deep",
    ),
    "NUL in the short name": (
        _edit(
            MINIMAL,
            "  title: Reduce paperwork\n",
            '  title: Reduce paperwork\n  short_name: "S\\0"\n',
        ),
        "line 5: goal.short_name: contains the control character U+0000 (character 2)",
    ),
    "a comment over the form's limit": (
        _edit(MINIMAL, "milestones: []", f"milestones: [{{title: M, comment: {'c' * 4001}}}]"),
        "line 8: milestones[0].comment: is 4,001 characters long; at most 4,000 are allowed",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", REFUSED_BY_THE_COMMAND)
def test_the_import_command_refuses_with_a_line_and_leaves_a_fresh_database_empty(
    case, tmp_path, capsys, manage, settings
):
    text, message = REFUSED_BY_THE_COMMAND[case]
    settings.PLAN_IMPORT_MAX_BYTES = 100 if case == "over the size limit" else 5_000_000
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    before = _row_counts()

    with pytest.raises(SystemExit) as exit_:
        manage("import_plan", str(path))

    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert f"{path}: not imported, nothing changed (1 error):\n{message}" in err
    assert "Traceback" not in err
    # Nothing at all: not even the system user the import would have acted as.
    assert _row_counts() == before
    assert before["auth.User"] == 0


@pytest.mark.django_db
def test_the_import_command_says_when_it_cannot_read_the_file(tmp_path, capsys, manage):
    with pytest.raises(SystemExit) as exit_:
        manage("import_plan", str(tmp_path / "missing.yaml"))

    assert exit_.value.code == 1
    assert f"Cannot read {tmp_path / 'missing.yaml'}" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_import_command_takes_replace_or_if_absent_not_both(capsys, manage):
    with pytest.raises(SystemExit) as exit_:
        manage("import_plan", str(SDIF_PATH), "--replace", "--if-absent")

    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert not Goal.objects.exists()


def test_the_export_command_writes_to_stdout(sdif, capsys, manage):
    manage("export_plan", "sdif")

    assert capsys.readouterr().out == export_plan(sdif)


def test_the_export_command_writes_to_a_file(sdif, tmp_path, manage):
    path = tmp_path / "out.yaml"

    manage("export_plan", "sdif", "-o", str(path))

    assert path.read_text(encoding="utf-8") == export_plan(sdif)


@pytest.mark.django_db
def test_the_export_command_refuses_an_unknown_slug(capsys, manage):
    with pytest.raises(SystemExit) as exit_:
        manage("export_plan", "nope")

    assert exit_.value.code == 1
    assert 'No goal with slug "nope".' in capsys.readouterr().err


def test_the_agency_abbreviation_is_updated_by_a_replace(sdif):
    import_plan(SDIF.replace("abbreviation: Treasury", "abbreviation: USDT"), replace=True)

    assert Agency.objects.get().abbreviation == "USDT"


# -- milestones matched by id (export_plan --with-ids) -------------------------------------


def _milestone_blocks(text: str) -> tuple[str, list[str], str]:
    """(before the milestones, each milestone's lines, from progress on)."""
    head, rest = text.split("milestones:\n", 1)
    body, tail = rest.split("progress:", 1)
    blocks = ["  - " + block for block in body.split("  - ")[1:]]
    return head + "milestones:\n", blocks, "progress:" + tail


def test_an_export_with_ids_reimports_over_itself_and_writes_nothing(sdif):
    text = export_plan(sdif, with_ids=True)
    first = sdif.milestones.order_by("position").first()
    history = _row_counts()

    import_plan(text, replace=True)

    assert f"  - id: {first.pk}\n    title: " in text
    assert _row_counts() == history
    assert export_plan(sdif, with_ids=True) == text


def test_with_ids_removing_a_middle_milestone_removes_that_one_and_keeps_the_others(sdif):
    before = list(sdif.milestones.order_by("position"))
    head, blocks, tail = _milestone_blocks(export_plan(sdif, with_ids=True))
    third = before[2]
    assert f"id: {third.pk}\n" in blocks[2]
    dependant = next(m for m in before if m.depends_on_id)
    text = head + "".join(blocks[:2] + blocks[3:]) + tail
    assert f"depends_on_id: {dependant.depends_on_id}\n" in text

    import_plan(text, replace=True)

    after = list(sdif.milestones.order_by("position"))
    # The dependency names its milestone by id: still the same one, though it moved up.
    dependant.refresh_from_db()
    assert dependant.depends_on_id == before[4].pk
    assert [m.pk for m in after] == [m.pk for m in before if m.pk != third.pk]
    # Each kept milestone is the same one: its title did not move to its neighbour.
    assert [m.title for m in after] == [m.title for m in before if m.pk != third.pk]
    assert [m.position for m in after] == list(range(1, len(after) + 1))
    assert Milestone.history.filter(id=third.pk).latest().history_type == "-"
    # Only positions changed on the later ones: no title or comment change recorded.
    for milestone in after[2:]:
        change = milestone.history.latest()
        assert change.prev_record.title == milestone.title
        assert change.prev_record.comment == milestone.comment


def test_with_ids_a_reordered_file_moves_milestones_and_a_new_one_is_added(sdif):
    before = list(sdif.milestones.order_by("position"))
    head, blocks, tail = _milestone_blocks(export_plan(sdif, with_ids=True))
    new = "  - title: A milestone added by hand\n    due: FY19\n    status: Not started\n"
    text = head + blocks[1] + blocks[0] + "".join(blocks[2:]) + new + tail

    import_plan(text, replace=True)

    after = list(sdif.milestones.order_by("position"))
    assert [m.pk for m in after[:2]] == [before[1].pk, before[0].pk]
    assert after[-1].title == "A milestone added by hand"
    assert after[-1].pk not in {m.pk for m in before}
    assert len(after) == len(before) + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("foreign", "is not a key milestone of goal sdif"),
        ("duplicate", "each milestone's id appears once"),
        ("text", "expected a whole number"),
        ("list", "expected a whole number"),
        ("dependency", "no milestone in this file has id 999999"),
        ("both", "not both"),
    ],
)
def test_a_bad_milestone_id_is_refused_and_changes_nothing(sdif, change, message):
    other = MilestoneFactory()  # another goal's milestone
    text = export_plan(sdif, with_ids=True)
    first, second = sdif.milestones.order_by("position")[:2]
    replacement = {
        "foreign": f"  - id: {other.pk}\n",
        "duplicate": f"  - id: {first.pk}\n",
        "text": "  - id: seven\n",
        "list": "  - id: [1, 2]\n",
        "dependency": f"  - id: {second.pk}\n    depends_on_id: 999999\n",
        "both": f"  - id: {second.pk}\n    depends_on: 1\n    depends_on_id: {first.pk}\n",
    }[change]
    text = text.replace(f"  - id: {second.pk}\n", replacement)
    history = _row_counts()

    with pytest.raises(PlanError) as raised:
        import_plan(text, replace=True)

    assert message in str(raised.value)
    assert "milestones[1]." in str(raised.value)  # the entry, by its path
    assert _row_counts() == history


def test_ids_in_a_file_for_a_new_goal_are_ignored(sdif):
    text = export_plan(sdif, with_ids=True)
    plain = export_plan(sdif)
    _delete_plan("sdif")

    goal = import_plan(text)

    assert goal.milestones.count() == text.count("  - id: ")
    assert export_plan(goal) == plain


def test_the_export_command_writes_ids_when_asked(sdif, capsys):
    from django.core.management import call_command

    call_command("export_plan", "sdif", "--with-ids")
    with_ids = capsys.readouterr().out
    call_command("export_plan", "sdif")
    without = capsys.readouterr().out

    assert with_ids.count("  - id: ") == sdif.milestones.count()
    assert "depends_on_id: " in with_ids and "depends_on: " not in with_ids
    assert "  - id: " not in without and "depends_on: 5" in without
