"""The layers run one way: audit ← strategies ← milestones ← sdif_tracker. A module never
imports from a layer above its own, a page's read model never imports a view, and a view
module never imports another view module (shared page logic lives in sdif_tracker/pages)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["audit", "strategies", "milestones", "sdif_tracker"]
# Site-level apps beside sdif_tracker: no domain layer may import them either.
SITE_APPS = ["accounts", "integrations"]


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth of the file (function-level too)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            # "from sdif_tracker.views import plan" imports the module views.plan.
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def app_modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def violations_of(package: str, forbidden, allowed=lambda path, name: False) -> list[str]:
    found = []
    for path in app_modules(package):
        for name in imported_modules(path):
            if forbidden(path, name) and not allowed(path, name):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def _is_in(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_no_layer_imports_a_layer_above_it(layer):
    above = LAYERS[LAYERS.index(layer) + 1 :] + SITE_APPS
    assert violations_of(layer, lambda path, name: any(_is_in(name, p) for p in above)) == []


def test_a_view_module_never_imports_another_view_module():
    def forbidden(path, name):
        return (
            _is_in(name, "sdif_tracker.views")
            and name != "sdif_tracker.views"
            and name != f"sdif_tracker.views.{path.stem}"
        )

    views = list(app_modules("sdif_tracker/views"))
    assert views, "no view modules found"
    found = []
    for path in views:
        found += [f"{path.name} imports {n}" for n in imported_modules(path) if forbidden(path, n)]
    assert found == []


def test_read_models_never_import_views():
    assert (
        violations_of("sdif_tracker/pages", lambda path, name: _is_in(name, "sdif_tracker.views"))
        == []
    )


def test_the_check_sees_an_upward_import(tmp_path):
    """The rule above can fail: a lower-layer module importing a higher one is found."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from milestones.models import Milestone\n")
    assert "milestones.models" in imported_modules(module)
