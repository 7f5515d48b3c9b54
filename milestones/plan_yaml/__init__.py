"""The action-plan interchange format (DESIGN.md, "Action plan interchange format").

``parse_plan`` reads and checks a YAML action plan without touching the database;
``import_plan`` writes it in one transaction as a recorded change; ``export_plan``
writes a goal back out. Importing an export gives the same plan, and exporting that
again gives the same text.

Every error names the YAML line (1-based) and the field path, e.g.
``line 57: milestones[4].due: "Q5 FY19" is not a fiscal period: a quarter is Q1 to Q4.``
List indexes in paths are **0-based**, as in JSON paths: ``milestones[4]`` is the fifth
milestone. Positions *in* the format — ``depends_on`` — and milestone numbers in
messages are 1-based, as a published plan counts them ("See fifth milestone above").

Format 2 (``apg-action-plan/2``, what an export writes) also carries the plan's past:
each milestone's status updates and the goal's quarterly updates with their published
state, imported as history stamped with their reporting quarters (``replay.py``); a
format 1 file imports as before. See docs/action-plan-format.md.

Beyond DESIGN.md's example the format carries the model fields it would otherwise lose:
``strategies[].description`` and every field of an indicator (``direction``,
``definition``, ``data_source``, ``frequency``, ``baseline``, ``published``, and each
value's ``note``; docs/action-plan-format.md, "Key indicators").
An export omits optional keys that are empty (null, "" or []); ``strategies`` and
``milestones`` are always written, ``[]`` when there are none.

It lives in ``milestones`` because it spans both apps; ``strategies`` never imports it.
"""

from milestones.plan_yaml.data import FORMAT, IMPORT_REASON, PlanData, PlanError
from milestones.plan_yaml.exporter import export_plan
from milestones.plan_yaml.loader import check_size
from milestones.plan_yaml.reader import parse_plan
from milestones.plan_yaml.writer import import_plan

__all__ = [
    "FORMAT",
    "IMPORT_REASON",
    "PlanData",
    "PlanError",
    "check_size",
    "export_plan",
    "import_plan",
    "parse_plan",
]
