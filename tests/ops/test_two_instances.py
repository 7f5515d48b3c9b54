"""More than one machine: two gunicorn instances on one PostgreSQL database, and one
browser whose requests the balancer sends to either. Nothing a request needs lives in
an instance's memory or on its disk: sessions and data are in the database.

Needs the PostgreSQL server at 127.0.0.1:5432 (trust auth, as on this machine kind and in
CI). Without it the tests are skipped, except under CI=true, where they fail.
"""

import json
import os
import secrets
import textwrap

import psycopg2
import pytest
import redis
from psycopg2 import sql

from tests.html_dom import parse
from tests.ops._instances import Browser, gunicorn, manage, private_redis, production_env

pytestmark = pytest.mark.ops

SERVER = "postgres://postgres@127.0.0.1:5432"
PASSWORD = secrets.token_urlsafe(16)


def _admin_connection():
    try:
        connection = psycopg2.connect(f"{SERVER}/postgres", connect_timeout=3)
    except psycopg2.OperationalError as error:
        message = f"PostgreSQL at {SERVER} is unreachable: {error}".strip()
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    connection.autocommit = True
    return connection


@pytest.fixture(scope="module")
def database():
    """A fresh database of its own, dropped at the end."""
    name = f"sdif_two_instances_{os.getpid()}"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


@pytest.fixture(scope="module")
def cluster(database, tmp_path_factory):
    """The SDIF plan, a goal leader, and instances A and B serving them, sharing one
    PostgreSQL database and one Redis cache (CACHE_URL)."""
    tmp = tmp_path_factory.mktemp("two-instances")
    with private_redis() as redis_server:
        yield from _serve(database, tmp, redis_server)


def _serve(database, tmp, redis_server):
    env = production_env(
        database_url=database,
        static_root=tmp / "static",
        SECURE_SSL_REDIRECT="0",
        CACHE_URL=redis_server["url"],
    )
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input")
    manage(env, "import_plan", "plans/sdif-fy19.yaml")
    milestone_pk = manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        textwrap.dedent(f"""
            from django.contrib.auth import get_user_model
            from milestones.models import Milestone
            from audit.history import get_system_user, recorded_change
            from strategies.models import Goal, Membership, Role

            goal = Goal.objects.get(slug="sdif")
            with recorded_change(user=get_system_user(), reason="two-instance test"):
                leader = get_user_model().objects.create_user("leader", password={PASSWORD!r})
                Membership.objects.create(user=leader, goal=goal, role=Role.LEADER)
            print(Milestone.objects.filter(goal=goal).order_by("pk").first().pk)
        """),
    ).strip()
    with (
        gunicorn(env, tmp / "a.log") as instance_a,
        gunicorn(env, tmp / "b.log") as instance_b,
    ):
        yield {
            "a": instance_a,
            "b": instance_b,
            "milestone": f"/goals/sdif/milestones/{milestone_pk}/",
            "redis": redis_server["url"],
        }


def _form_data(page, **changes):
    """The values a browser would submit from the page's status update form."""
    form = next(
        f
        for f in parse(page.text).find_all("form")
        if f.attrs.get("action", "").endswith("/update/")
    )
    data = {}
    for field in form.find_all("input"):
        if field.attrs.get("name") and field.attrs.get("type") not in {"submit", "button"}:
            data[field.attrs["name"]] = field.attrs.get("value") or ""
    for select in form.find_all("select"):
        chosen = [o for o in select.find_all("option") if "selected" in o.attrs]
        data[select.attrs["name"]] = chosen[0].attrs["value"] if chosen else ""
    for area in form.find_all("textarea"):
        data[area.attrs["name"]] = area.text
    prefix = next(name for name in data if name.endswith("-version")).removesuffix("version")
    data.update({prefix + key: value for key, value in changes.items()})
    return form.attrs["action"], data


def test_one_browser_across_two_instances(cluster):
    a, b, milestone = cluster["a"], cluster["b"], cluster["milestone"]
    browser = Browser()

    # Signed in on A...
    login = browser.request(f"{a}/accounts/login/")
    token = parse(login.text).find("input", name="csrfmiddlewaretoken").attrs["value"]
    signed_in = browser.request(
        f"{a}/accounts/login/",
        {"username": "leader", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert signed_in.status == 302, signed_in.text
    # ...is signed in on B.
    dashboard = browser.request(f"{b}/goals/sdif/")
    assert dashboard.status == 200
    assert "Signed in as" in dashboard.text

    # A status update made on B...
    opened = browser.request(f"{b}{milestone}")
    action, data = _form_data(opened, status="at_risk", comment="Contract slipped (saved on B).")
    # (the same form, as a second tab opened before the save would submit it)
    _, stale_data = _form_data(opened, status="delayed", comment="Overwrites the save on B")
    saved = browser.request(f"{b}{action}", data)
    assert saved.status == 302, saved.text
    # ...shows on A.
    seen_on_a = browser.request(f"{a}{milestone}")
    assert seen_on_a.status == 200
    assert "Contract slipped (saved on B)." in seen_on_a.text

    # The form opened before B's save is refused on A: the version check is in the database.
    stale = browser.request(f"{a}{action}", stale_data)
    assert stale.status == 409
    assert "Overwrites the save on B" not in browser.request(f"{b}{milestone}").text


def test_both_instances_use_the_one_shared_cache(cluster):
    browser = Browser()
    for instance in (cluster["a"], cluster["b"]):
        health = browser.request(f"{instance}/healthz")
        assert health.status == 200
        assert json.loads(health.text) == {"status": "ok", "database": "ok", "cache": "ok"}
    # Each probe wrote to and read from that Redis (and cleaned up after itself).
    server = redis.Redis.from_url(cluster["redis"])
    assert server.info("stats")["keyspace_hits"] >= 2
    assert server.keys("sdif:*") == []
