"""No write that bypasses django-simple-history: the project's code is scanned for them.

``QuerySet.update()``, ``bulk_create()`` and ``bulk_update()`` write rows without saving
models, so no history row, user or reason is recorded; an ``F()`` expression assigned to
a field saves fine but leaves the history row holding the expression, not the value.

The rules, checked with ``ast`` on every module of the apps (not tests, not migrations):

- any call of ``bulk_create`` or ``bulk_update``, whatever it is called on, except in a
  function listed in ``BULK_HISTORY_WRITERS``: the bulk history path of
  ``generate_demo_data --history-rows`` (``milestones/bulk_history.py``), which writes
  the history rows itself, every audit column filled as the normal path fills it;
- ``.update(...)`` called on something that looks like a queryset, namely
  (a) the result of a queryset method: ``X.objects.filter(...).update()``,
      ``qs.all().update()``, ``Milestone.objects.overdue().update()``;
  (b) a manager or related manager attribute of a project model: ``X.objects.update()``,
      ``goal.milestones.update()``, ``obj.history.update()``;
  (c) a plain name bound, anywhere in the module, to (a) or (b), or named like one
      (``qs``, ``queryset``, ``..._qs``, ``..._queryset``).
  ``.update()`` on any other plain name or attribute (``context.update({...})``,
  ``self.fields.update(...)``) is a dict's and is allowed;
- any call of ``F(...)`` / ``models.F(...)``, except inside a constraint or index
  (``CheckConstraint(...)``, ``UniqueConstraint(...)``, ``Index(...)``), inside a
  ``class Meta``, or inside a function listed in ``CONDITION_BUILDERS`` (helpers that
  only build constraint conditions). An F in a condition compares columns; it writes
  nothing.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from django.apps import apps
from django.db.models import QuerySet

ROOT = Path(__file__).resolve().parent.parent
SCANNED_APPS = ["strategies", "milestones", "sdif_tracker"]
PROJECT_APP_LABELS = {"strategies", "milestones"}

BULK_WRITES = {"bulk_create", "bulk_update", "abulk_create", "abulk_update"}
CONSTRAINT_CALLS = {"CheckConstraint", "UniqueConstraint", "ExclusionConstraint", "Index"}
# (path relative to the project, function name): functions whose F() only builds a
# CheckConstraint condition.
CONDITION_BUILDERS = {("strategies/periods.py", "period_is_valid")}
# (path relative to the project, function name): the only functions that may bulk_create /
# bulk_update. Safe because they write history themselves: ``_store_batch`` inserts each
# StatusUpdate together with its "+" history row and the milestone's "~" row (user,
# username, source, reason, goal, changed fields all filled), and
# ``_store_live_milestones`` sets each live milestone to exactly the state of its newest
# history row. tests/milestones/test_bulk_history.py shows those rows match the service's.
BULK_HISTORY_WRITERS = {
    ("milestones/bulk_history.py", "_store_batch"),
    ("milestones/bulk_history.py", "_store_live_milestones"),
}
# QuerySet methods that return a QuerySet; a call of one is "queryset-looking".
QUERYSET_RETURNING = {
    "all",
    "alias",
    "annotate",
    "complex_filter",
    "dates",
    "datetimes",
    "defer",
    "difference",
    "distinct",
    "exclude",
    "extra",
    "filter",
    "get_queryset",
    "intersection",
    "none",
    "only",
    "order_by",
    "prefetch_related",
    "reverse",
    "select_for_update",
    "select_related",
    "union",
    "using",
    "values",
    "values_list",
}


def project_queryset_names() -> tuple[set[str], set[str]]:
    """(queryset-returning method names, manager attribute names) of the project's models."""
    methods = set(QUERYSET_RETURNING)
    managers = {"objects", "_default_manager", "_base_manager"}
    for model in apps.get_models():
        project = model._meta.app_label in PROJECT_APP_LABELS
        if project:
            managers.update(manager.name for manager in model._meta.managers)
            history = getattr(model._meta, "simple_history_manager_attribute", None)
            if history:
                managers.add(history)
            queryset_class = type(model._default_manager.get_queryset())
            for klass in queryset_class.__mro__:
                if klass is QuerySet:
                    break
                methods.update(name for name in vars(klass) if not name.startswith("_"))
        for relation in model._meta.related_objects:
            if relation.related_model._meta.app_label in PROJECT_APP_LABELS:
                accessor = relation.get_accessor_name()
                if accessor:
                    managers.add(accessor)
    return methods, managers


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, filename: str, queryset_methods: set[str], managers: set[str]):
        self.filename = filename
        self.queryset_methods = queryset_methods
        self.managers = managers
        self.problems: list[str] = []
        self.queryset_names: set[str] = set()
        self.f_names = {"F"}
        self._allowed_f_depth = 0
        self._allowed_bulk_depth = 0

    # -- what looks like a queryset ---------------------------------------------------

    def looks_like_queryset(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            return node.func.attr in self.queryset_methods
        if isinstance(node, ast.Attribute):
            return node.attr in self.managers
        if isinstance(node, ast.Name):
            name = node.id
            return (
                name in self.queryset_names
                or name in {"qs", "queryset"}
                or name.endswith(("_qs", "_queryset"))
            )
        return False

    def collect_queryset_names(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if self.looks_like_queryset(node.value):
                    self.queryset_names.update(
                        target.id for target in targets if isinstance(target, ast.Name)
                    )
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "django.db.models"
            ):
                self.f_names.update(
                    alias.asname or alias.name for alias in node.names if alias.name == "F"
                )

    # -- visiting ----------------------------------------------------------------------

    def report(self, node: ast.AST, message: str) -> None:
        self.problems.append(f"{self.filename}:{node.lineno}: {message}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        allowed = node.name == "Meta"
        self._allowed_f_depth += allowed
        self.generic_visit(node)
        self._allowed_f_depth -= allowed

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        allowed = (self.filename, node.name) in CONDITION_BUILDERS
        bulk_allowed = (self.filename, node.name) in BULK_HISTORY_WRITERS
        self._allowed_f_depth += allowed
        self._allowed_bulk_depth += bulk_allowed
        self.generic_visit(node)
        self._allowed_f_depth -= allowed
        self._allowed_bulk_depth -= bulk_allowed

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = _called_name(node)
        func = node.func
        if name in BULK_WRITES and not self._allowed_bulk_depth:
            self.report(node, f"{name}() writes rows without history")
        elif (
            name == "update"
            and isinstance(func, ast.Attribute)
            and self.looks_like_queryset(func.value)
        ):
            self.report(node, "QuerySet.update() writes rows without history")
        elif (
            name in self.f_names
            and (isinstance(func, ast.Name) or name == "F")
            and not self._allowed_f_depth
        ):
            self.report(node, "F() outside a constraint: history would not hold the value")
        allowed = name in CONSTRAINT_CALLS
        self._allowed_f_depth += allowed
        self.generic_visit(node)
        self._allowed_f_depth -= allowed


def find_untracked_writes(source: str, filename: str = "<snippet>") -> list[str]:
    """``file:line: why`` for every write in ``source`` that would bypass history."""
    tree = ast.parse(source, filename=filename)
    queryset_methods, managers = project_queryset_names()
    scanner = _Scanner(filename, queryset_methods, managers)
    scanner.collect_queryset_names(tree)
    scanner.visit(tree)
    return scanner.problems


def project_modules() -> list[Path]:
    modules = []
    for app in SCANNED_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or "tests" in relative.parts:
                continue
            modules.append(path)
    return modules


def test_the_scan_covers_the_apps_modules():
    scanned = {path.relative_to(ROOT).as_posix() for path in project_modules()}

    assert {"strategies/models.py", "milestones/models.py", "sdif_tracker/settings.py"} <= scanned
    assert not [name for name in scanned if "/migrations/" in name]


def test_no_code_writes_around_history():
    problems = []
    for path in project_modules():
        relative = path.relative_to(ROOT).as_posix()
        problems += find_untracked_writes(path.read_text(encoding="utf-8"), relative)

    assert problems == [], "Writes that record no history:\n" + "\n".join(problems)


# -- the scanner itself ------------------------------------------------------------------


def scan(snippet: str) -> list[str]:
    return find_untracked_writes(textwrap.dedent(snippet))


def test_the_scanner_catches_queryset_updates():
    problems = scan(
        """
        from milestones.models import Milestone

        Milestone.objects.update(status="completed")
        Milestone.objects.filter(goal=goal).update(status="completed")
        Milestone.objects.all().update(owner="")
        Milestone.objects.overdue().update(status="delayed")
        goal.milestones.update(owner="OFAC")
        milestone.history.update(history_change_reason="")
        open_ones = Milestone.objects.exclude(status="completed")
        open_ones.update(status="cancelled")

        def delete_queryset(self, request, queryset):
            queryset.update(status="cancelled")
        """
    )

    assert [problem.split(":")[1] for problem in problems] == [
        "4", "5", "6", "7", "8", "9", "11", "14",
    ]  # fmt: skip
    assert all("QuerySet.update()" in problem for problem in problems)


def test_the_scanner_catches_bulk_writes_and_f_expressions():
    problems = scan(
        """
        from django.db import models
        from django.db.models import F
        from django.db.models import F as Column

        Milestone.objects.bulk_create([Milestone(title="x")])
        Milestone.objects.bulk_update(milestones, ["status"])
        milestone.version = F("version") + 1
        milestone.version = models.F("version") + 1
        Milestone.objects.filter(due__lt=Column("revised_due"))
        """
    )

    assert [problem.split(":")[1] for problem in problems] == ["6", "7", "8", "9", "10"]


def test_bulk_writes_are_allowed_only_in_the_listed_bulk_history_writers():
    snippet = textwrap.dedent(
        """
        def _store_batch(batch, audit):
            StatusUpdate.objects.bulk_create(batch)

        def _store_live_milestones(milestones):
            Milestone.objects.bulk_update(milestones, ["status"])

        def write_status_history(milestones):
            Milestone.objects.bulk_update(milestones, ["status"])
            Milestone.objects.filter(pk=1).update(status="completed")
        """
    )

    allowed_file = find_untracked_writes(snippet, "milestones/bulk_history.py")
    other_file = find_untracked_writes(snippet, "milestones/services.py")

    # Only the two listed functions of the one listed module; their neighbours, and the
    # same names anywhere else, are still caught.
    assert [problem.split(":")[1] for problem in allowed_file] == ["9", "10"]
    assert [problem.split(":")[1] for problem in other_file] == ["3", "6", "9", "10"]


def test_the_scanner_allows_dict_updates_and_f_in_constraints():
    problems = scan(
        """
        from django.db import models
        from django.db.models import F, Q

        context = {}
        context.update({"goal": goal})
        self.fields.update(extra)
        kwargs.update(status="x")

        class Goal(models.Model):
            class Meta:
                constraints = [
                    models.CheckConstraint(
                        condition=Q(first__lte=models.F("last")), name="ordered"
                    ),
                ]

        RULE = models.CheckConstraint(condition=~Q(depends_on=F("pk")), name="not_self")
        """
    )

    assert problems == []


def test_the_scanner_allows_f_only_in_the_listed_condition_builders():
    snippet = textwrap.dedent(
        """
        def period_is_valid(field):
            return Range(models.F(field), (1, 5))
        """
    )

    assert find_untracked_writes(snippet, "strategies/periods.py") == []
    assert len(find_untracked_writes(snippet, "milestones/views.py")) == 1
