"""Exports: the Key Milestones as CSV and XLSX (one goal, or every goal a user may see),
formula-injection safe; the YAML plan for admins."""

import csv
import io

import pytest
import yaml
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from milestones.models import Milestone
from milestones.plan_yaml import parse_plan
from sdif_tracker.exports import safe_cell
from strategies.models import Role, Sensitivity
from tests.factories import GoalFactory, MembershipFactory, MilestoneFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "Key Milestone",
    "Milestone Due Date",
    "Strategy Alignment",
    "Milestone Status",
    "Comments",
    "Owner",
    "Goal",
    "Goal ID",
    "Milestone ID",
    "Last Updated",
]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell if cell is not None else "" for cell in row] for row in sheet.values]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_sdif_milestones_export_has_the_plans_rows_in_order(sdif_goal, fmt):
    client = client_for(UserFactory())
    response = client.get(reverse(f"goal_milestones_{fmt}", kwargs={"slug": "sdif"}))

    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

    assert rows[0] == HEADER
    milestones = list(Milestone.objects.filter(goal=sdif_goal).order_by("position"))
    assert len(rows) == 1 + len(milestones) == 9
    assert [row[0] for row in rows[1:]] == [m.title for m in milestones]
    number = str if fmt == "csv" else int  # XLSX keeps numbers as numbers
    fifth = rows[5]
    assert fifth[:4] == [
        "Develop requirements for data matching and regulatory harmonization project.",
        "FY19 (originally Q3 FY18)",
        number(1),
        "Delayed",
    ]
    assert fifth[6:9] == ["SDIF", "sdif", number(milestones[4].pk)]
    assert rows[7][4] == "See fifth milestone above."
    assert response["Content-Disposition"].startswith('attachment; filename="sdif-milestones-')


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_cells_that_would_run_as_formulas_are_written_as_text(goal, fmt):
    MilestoneFactory(goal=goal, title='=HYPERLINK("http://evil")', comment="+1", owner="@ofac")
    MilestoneFactory(goal=goal, title="-2+3", comment="\tTAB", owner="\rCR")

    response = client_for(UserFactory()).get(
        reverse(f"goal_milestones_{fmt}", kwargs={"slug": goal.slug})
    )
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [
        ('\'=HYPERLINK("http://evil")', "'+1", "'@ofac"),
        # XML turns a carriage return into a line feed; the apostrophe stays first.
        ("'-2+3", "'\tTAB", "'\rCR" if fmt == "csv" else "'\nCR"),
    ]
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formulas_behind_spaces_line_breaks_or_in_full_width_are_written_as_text(goal, fmt):
    MilestoneFactory(
        goal=goal, title=' =HYPERLINK("http://evil")', comment="\n=1+2", owner="＝1+2"
    )
    MilestoneFactory(goal=goal, title="\u200b-2+3", comment="  ＋1", owner="＠ofac")

    response = client_for(UserFactory()).get(
        reverse(f"goal_milestones_{fmt}", kwargs={"slug": goal.slug})
    )
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [
        ('\' =HYPERLINK("http://evil")', "'\n=1+2", "'＝1+2"),
        ("'\u200b-2+3", "'  ＋1", "'＠ofac"),
    ]


def test_safe_cell_leaves_ordinary_values_alone():
    assert safe_cell("Assist with reforms") == "Assist with reforms"
    assert safe_cell(3) == 3
    assert safe_cell(None) == ""
    assert safe_cell("a=b") == "a=b"
    assert safe_cell("  Q3 review — 5 = 5") == "  Q3 review — 5 = 5"
    assert safe_cell("") == ""


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_all_goals_export_has_only_the_goals_the_user_may_see(fmt):
    member = UserFactory()
    seen = GoalFactory(title="A internal goal", sensitivity=Sensitivity.INTERNAL)
    mine = GoalFactory(title="B restricted, mine", sensitivity=Sensitivity.RESTRICTED)
    hidden = GoalFactory(title="C restricted, not mine", sensitivity=Sensitivity.RESTRICTED)
    MembershipFactory(goal=mine, user=member, role=Role.CONTRIBUTOR)
    for goal in (seen, mine, hidden):
        MilestoneFactory(goal=goal, title=f"Milestone of {goal.title}")

    response = client_for(member).get(reverse(f"milestones_{fmt}"))
    rows = csv_rows(response) if fmt == "csv" else xlsx_rows(response)

    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == [
        "Milestone of A internal goal",
        "Milestone of B restricted, mine",
    ]


def test_exports_of_a_goal_one_may_not_see_are_404(goal):
    goal.sensitivity = Sensitivity.RESTRICTED
    goal.save()
    client = client_for(UserFactory())
    for name in ("goal_milestones_csv", "goal_milestones_xlsx"):
        assert client.get(reverse(name, kwargs={"slug": goal.slug})).status_code == 404
    assert client.get(reverse("goal_milestones_csv", kwargs={"slug": "nope"})).status_code == 404


def test_admins_download_the_plan_as_yaml_that_reads_back(sdif_goal, admin_user):
    response = client_for(admin_user).get(reverse("goal_plan_yaml", kwargs={"slug": "sdif"}))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="sdif-plan.yaml"'
    text = response.content.decode()
    assert yaml.safe_load(text)["goal"]["short_name"] == "SDIF"
    assert len(parse_plan(text).milestones) == 8


def test_leaders_may_not_download_the_yaml(goal, leader):
    response = client_for(leader).get(reverse("goal_plan_yaml", kwargs={"slug": goal.slug}))
    assert response.status_code == 403
