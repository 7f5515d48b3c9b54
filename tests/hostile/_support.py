"""Shared by the hostile-input tests: hypothesis settings, input strategies, database
snapshots and a per-example savepoint that is always rolled back."""

import contextlib
import hashlib
import os

from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# 25 examples per form keep `make test` quick; FUZZ_EXAMPLES=500 for a deeper run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Sessions change on every signed-in request (idle timeout); they are not plan data.
UNTRACKED = {"sessions.Session"}

# Any character a browser can post: control characters, NUL, RTL marks, emoji...
# (lone surrogates cannot be encoded as UTF-8, so no client can send them).
ANY_CHAR = st.characters(codec="utf-8")
text = st.one_of(
    st.text(ANY_CHAR, max_size=80),
    # Long strings around and past every limit, cheaply: a short text repeated.
    st.builds(
        lambda s, n: (s * n)[:5000],
        st.text(ANY_CHAR, min_size=1, max_size=8),
        st.integers(1, 5000),
    ),
)
numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True).map(str),
    st.sampled_from(
        ["sNaN", "-snan", "NaN", "1e308", "-0", "0x10", "1_000", "١٢", "  7 ", "9" * 40]
    ),
)
periods = st.from_regex(r"(?i)\s*(q\s*-?\d{0,3}\s*)?fy\s*'?\d{0,6}\s*|ongoing|.*")
ids = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "0", "-1", "1.5", "abc", "1e3", "None", "9223372036854775808"]),
    text,
)
anything = st.one_of(text, numbers, periods, ids)


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def rolled_back():
    """Run the block in a savepoint that is undone afterwards, whatever happened."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def tracked_models():
    return [m for m in apps.get_models() if m._meta.label not in UNTRACKED]


def snapshot() -> dict[str, tuple[int, str]]:
    """Every tracked table, history tables included: its row count and a digest of its
    rows (so an UPDATE shows as well as an INSERT or DELETE)."""
    state = {}
    for model in tracked_models():
        rows = list(model._default_manager.order_by("pk").values_list())
        state[model._meta.label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


def changed_tables(before, after) -> set[str]:
    return {label for label in before if before[label] != after[label]}


def count_change(before, after, label) -> int:
    return after[label][0] - before[label][0]
