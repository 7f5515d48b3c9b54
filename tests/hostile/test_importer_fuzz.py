"""The YAML importer under arbitrary text and arbitrary mutations of the SDIF plan: it
imports or raises ``PlanError`` (never another exception), and a refused import leaves
the database as it was, history tables included."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st

from milestones.plan_yaml import PlanError, import_plan
from tests.hostile._support import FUZZ, changed_tables, rolled_back, snapshot, text

SDIF = Path(django_settings.BASE_DIR, "plans/sdif-fy19.yaml").read_text()
SDIF_DATA = yaml.safe_load(SDIF)

values = st.one_of(
    st.none(),
    st.booleans(),
    text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.lists(st.one_of(text, st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)


def paths(node, prefix=()):
    """Every path to a value in the tree (mapping keys and list indexes)."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        found.append((*prefix, key))
        if isinstance(value, dict | list) and value:
            found.extend(paths(value, (*prefix, key)))
    return found


def parent_of(tree, path):
    for key in path[:-1]:
        tree = tree[key]
    return tree


def mutate(data, *, operation, path, value, unknown_key):
    tree = yaml.safe_load(yaml.safe_dump(SDIF_DATA))  # a deep copy
    parent = parent_of(tree, path)
    key = path[-1]
    if operation == "replace":
        parent[key] = value
    elif operation == "drop":
        del parent[key]
    elif operation == "add" and isinstance(parent, dict):
        parent[unknown_key] = value
    elif operation == "add":
        parent.append(value)
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=10_000)


def attempt(text_, *, replace=False):
    """Import in a rolled-back savepoint; a refusal must change nothing."""
    with rolled_back():
        if replace:
            import_plan(SDIF)
        before = snapshot()
        try:
            import_plan(text_, replace=replace)
        except PlanError as error:
            # Every problem is reported, each naming where it is.
            assert error.errors
            assert all(problem.startswith("line ") for problem in error.errors), error.errors
            assert changed_tables(before, snapshot()) == set()


@pytest.mark.django_db
@FUZZ
@given(source=st.one_of(text, st.text(st.characters(codec="utf-8"), max_size=300)))
def test_arbitrary_text(source):
    attempt(source)


@pytest.mark.django_db
@FUZZ
@given(
    data=st.data(),
    operation=st.sampled_from(["replace", "drop", "add"]),
    value=values,
    unknown_key=st.text(min_size=1, max_size=12),
    replace=st.booleans(),
)
def test_mutated_plan(data, operation, value, unknown_key, replace):
    path = data.draw(st.sampled_from(paths(SDIF_DATA)))
    attempt(
        mutate(SDIF_DATA, operation=operation, path=path, value=value, unknown_key=unknown_key),
        replace=replace,
    )


@pytest.mark.django_db
@FUZZ
@given(line=st.integers(0, SDIF.count("\n")), cut=st.integers(0, len(SDIF)))
def test_duplicated_line_or_truncated(line, cut):
    """A line given twice (a duplicate key, or a list item twice), and the file cut off."""
    lines = SDIF.splitlines(keepends=True)
    attempt("".join(lines[: line + 1] + lines[line:]))
    attempt(SDIF[:cut])


@pytest.mark.django_db
@FUZZ
@given(
    depth=st.integers(0, 1500),
    kinds=st.lists(st.sampled_from(["[", "{a: ", "[x, "]), min_size=1, max_size=3),
)
def test_nesting_at_any_depth(depth, kinds):
    """Lists and mappings nested from none to well past Python's recursion limit."""
    openers = (kinds * depth)[:depth]
    closers = "".join("]" if opener.startswith("[") else "}" for opener in reversed(openers))
    attempt(SDIF.replace("  short_name: SDIF\n", f"  short_name: {''.join(openers)}{closers}\n"))


@pytest.mark.django_db
def test_the_unchanged_plan_imports():
    """The baseline the mutations start from is a valid plan (else every case is a refusal)."""
    assert import_plan(SDIF).slug == "sdif"
