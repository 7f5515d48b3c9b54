"""Every URL of the app, as an admin and as the goal's leader, with hostile values in every
query parameter a page reads and every field of the form it posts: NUL and control
characters, huge and negative numbers, dates and quarters out of range, invalid UTF-8,
very long strings. Never a 5xx, and a refused POST (4xx, or the form again with its
errors) writes nothing, history included.

The URLs come from the permission matrix; the form fields from the forms the pages
render, so a new URL or a new field is walked without being listed here."""

import os
import re
from pathlib import Path
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from sdif_tracker.pages.dashboard import DashboardFilterForm
from tests.hostile._support import FUZZ, anything, changed_tables, rolled_back, snapshot
from tests.html_dom import parse
from tests.url_map import MATRIX, build_world, url_for

USERS = ("admin", "leader")
# A few examples per URL keep the file near a minute; FUZZ_EXAMPLES=100 for a deeper run.
WALK = settings(FUZZ, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5")))

# What the probe sent, one of each kind: each goes into every parameter at once.
PROBES = [
    "\x00",
    "\x1b[31m\x07",
    str(2**63),
    "-1",
    "9" * 400,
    "0001-01-01",
    "9999-12-31",
    "Q9 FY99999",
    "2019-06-30T00:00:00-14:00,1",
    "0001-01-01T00:00:00+14:00,6,9223372036854775808",
    b"\xff\xfe",  # invalid UTF-8, percent-encoded as is
    "x" * 5000,
]
# Mixed in with valid values: the probe's own values, their neighbours, and anything.
hostile = st.one_of(
    st.sampled_from([*PROBES, "1899-09-30", str(2**31), str(2**70), "\u202e\ufeff", b"%\xc0"]),
    anything,
    st.binary(max_size=12),
)

# Every query parameter a page reads: the dashboard's filter form, the audit log's
# filters and cursors, the as-of / published-quarter / compare / period pickers,
# the portfolio's search and page, Django's own "next" and language, the member or role
# a removal asks about.
QUERY_PARAMS = sorted(
    {*DashboardFilterForm.base_fields, "goal", "user", "kind", "field", "order"}
    | {"from", "to", "before", "after", "as_of", "quarter", "period", "q", "page"}
    | {"next", "language", "state", "remove"}
)

# Where the form that posts to a URL is, when it is not on the URL's own page.
FORM_PAGE = {
    "milestone_update": ("milestone_detail", "milestone"),
    "milestone_move": ("strategy_list", "goal"),
    "member_change": ("goal_members", "goal"),
    "agency_steps": ("agency_detail", "agency"),
    "agency_role_add": ("agency_detail", "agency"),
    "logout": ("portfolio", None),
    "set_language": ("portfolio", None),
}
# A PDF renders for a second or more: probed with the dates and quarters only.
SLOW = {"goal_plan_pdf"}
# Logging in or out writes the session and axes' records of attempts, not plan data.
LOGIN_TABLES = {"axes.AccessAttempt", "axes.AccessFailureLog", "axes.AccessLog"}


@pytest.fixture
def world(db, settings):
    settings.DEBUG = False  # what production answers, whatever the environment says
    world = build_world()
    world["clients"] = {}
    for name in USERS:
        world["clients"][name] = Client(raise_request_exception=False)
        world["clients"][name].force_login(world["users"][name])
    return world


def encode(params: dict) -> str:
    """A query string or form body, each value percent-encoded byte for byte (so bytes
    that are not UTF-8 arrive as they are)."""
    return "&".join(
        f"{quote(name)}={quote_from_bytes(value if isinstance(value, bytes) else value.encode())}"
        for name, value in params.items()
    )


def form_fields(world, name, url) -> dict[str, str]:
    """The fields of the form that posts to ``url``, with the values the page gives
    them, read from the page an admin sees it on ({} where there is none)."""
    cache = world.setdefault("form_fields", {})
    if url not in cache:
        cache[url] = _read_form_fields(world, name, url)
    return cache[url]


def _read_form_fields(world, name, url) -> dict[str, str]:
    page_name, target = FORM_PAGE.get(name, (name, MATRIX[name][0]))
    page_url = url_for(page_name, target, world)
    response = world["clients"]["admin"].get(page_url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return {}
    fields = {}
    for form in parse(response.content).find_all("form"):
        action = urlsplit(form.attrs.get("action") or page_url).path
        if (form.attrs.get("method") or "get").lower() != "post" or action != url:
            continue
        for node in form.iter():
            field = node.attrs.get("name")
            if not field or node.tag not in ("input", "select", "textarea") or field in fields:
                continue
            if node.tag == "select":
                options = node.find_all("option")
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                fields[field] = chosen[0].attrs.get("value", chosen[0].text) if chosen else ""
            elif node.tag == "textarea":
                fields[field] = node.text
            else:
                fields[field] = node.attrs.get("value") or ""
    return fields


def check(world, name, user, method, url, params):
    """One request in a savepoint undone afterwards: no 5xx; a refused POST writes
    nothing."""
    client = world["clients"][user]
    if name == "logout":  # it would sign the shared client out
        client = Client(raise_request_exception=False)
        client.force_login(world["users"][user])
    with rolled_back():
        before = snapshot() if method == "POST" else None
        if method == "GET":
            response = client.get(f"{url}?{encode(params)}")
        else:
            response = client.generic(
                "POST", url, encode(params), content_type="application/x-www-form-urlencoded"
            )
        shown = {key: value[:40] for key, value in params.items()}
        assert response.status_code < 500, (method, url, user, shown, response.status_code)
        if method == "POST" and response.status_code not in (301, 302, 303):
            written = changed_tables(before, snapshot()) - LOGIN_TABLES
            assert written == set(), (url, user, shown, response.status_code, written)
    return response


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_probe_value_in_every_parameter_and_field(world, name):
    url = url_for(name, MATRIX[name][0], world)
    fields = form_fields(world, name, url)
    probes = [p for p in PROBES if name not in SLOW or p in ("0001-01-01", "Q9 FY99999")]
    for index, probe in enumerate(probes):
        user = USERS[index % len(USERS)]  # each probe once, the two users in turn
        check(world, name, user, "GET", url, dict.fromkeys(QUERY_PARAMS, probe))
        if fields and name not in SLOW:
            check(world, name, user, "POST", url, dict.fromkeys(fields, probe))


@pytest.mark.parametrize("name", sorted(set(MATRIX) - SLOW))
@WALK
@given(data=st.data())
def test_hostile_values_mixed_with_valid_ones(world, name, data):
    """Most fields as the page filled them, some hostile: a request that gets past the
    first check and meets the next one."""
    url = url_for(name, MATRIX[name][0], world)
    user = data.draw(st.sampled_from(USERS), label="user")
    method = data.draw(st.sampled_from(["GET", "POST"]), label="method")
    valid = dict.fromkeys(QUERY_PARAMS, "") if method == "GET" else form_fields(world, name, url)
    params = {
        field: data.draw(st.one_of(st.just(value), hostile), label=field)
        for field, value in valid.items()
    }
    check(world, name, user, method, url, params)


def test_the_walker_knows_every_query_parameter_the_code_reads():
    """A page reading a new parameter by name gets it walked too."""
    read = set()
    for app in ("sdif_tracker", "milestones", "strategies"):
        for path in Path(django_settings.BASE_DIR, app).rglob("*.py"):
            read |= set(re.findall(r"(?:GET|params)\.get\(\s*\"(\w+)\"", path.read_text()))
    assert read <= set(QUERY_PARAMS), read - set(QUERY_PARAMS)
