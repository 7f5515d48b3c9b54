"""The API against its served OpenAPI schema, over HTTP (live server): schemathesis
generates requests for every operation with a member's and an outsider's token; no
answer is a server error and each conforms to the schema. The outsider's walk of every
list the schema names finds nothing of the restricted goal, and every detail address
of its objects is 404."""

import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.integrations.test_api import objects_of

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def served_schema(live_server, api_world):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_every_operation_answers_as_its_schema_says(
    live_server, served_schema, api_world, token_for, who
):
    headers = {"Authorization": f"Bearer {token_for(api_world[who])}"}
    found = operations(served_schema)
    assert len(found) >= 19  # 7 lists, 7 details, 5 histories: the schema is whole
    with requests.Session() as session:
        for operation in found:

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def check(case):
                response = case.call(base_url=live_server.url, session=session, headers=headers)
                assert response.status_code < 500, (case.path, response.text)
                case.validate_response(response, headers=headers)

            check()
            # And each object the member may read, at its real address.
            if who == "member" and operation.path_parameters:
                name = next(iter(operation.path_parameters)).name
                base = _api_path(operation.path).split("{", 1)[0]
                case = operation.Case(path_parameters={name: objects_of(api_world, "r")[base]})
                response = case.call(base_url=live_server.url, session=session, headers=headers)
                assert response.status_code == 200, case.path
                case.validate_response(response, headers=headers)


def _api_path(path: str) -> str:
    """The full path of an operation (the schema may give it without the prefix)."""
    return path if path.startswith("/api") else f"/api/v1{path}"


def _walk(session, url, headers):
    """Every object of a paged list, following ``next``."""
    items = []
    while url:
        response = session.get(url, headers=headers)
        assert response.status_code == 200, url
        body = response.json()
        items += body["results"]
        url = body["next"]
    return items


def test_an_outsider_finds_nothing_of_a_restricted_goal(
    live_server, served_schema, api_world, token_for
):
    headers = {"Authorization": f"Bearer {token_for(api_world['outsider'])}"}
    restricted = objects_of(api_world, "r")
    public = objects_of(api_world, "p")
    paths = {operation.path for operation in operations(served_schema)}
    lists = sorted(path for path in paths if "{" not in path)
    details = sorted(path for path in paths if "{" in path)
    assert {_api_path(path) for path in lists} >= set(restricted)
    with requests.Session() as session:
        for path in lists:
            url = _api_path(path)
            items = _walk(session, f"{live_server.url}{url}?page_size=1", headers)
            ids = {item.get("slug", item.get("id")) for item in items}
            assert restricted[url] not in ids, url
            assert public[url] in ids, url
            # Nothing listed names the restricted goal either.
            assert all(item.get("goal") != "restricted-goal" for item in items), url
        for path in details:
            url = _api_path(path)
            base = url.split("{", 1)[0]
            ident = restricted[base]
            response = session.get(
                f"{live_server.url}{re.sub(r'{[^}]+}', str(ident), url)}", headers=headers
            )
            assert response.status_code == 404, url
            assert response.headers["Content-Type"] == "application/problem+json"
