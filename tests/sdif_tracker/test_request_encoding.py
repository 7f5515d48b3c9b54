"""Form data and query strings that are not UTF-8 are refused with 400, not stored as
mojibake."""

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from milestones.models import StatusUpdate

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def leader_client(leader):
    client = Client()
    client.force_login(leader)
    return client


def update_url(milestone):
    return reverse("milestone_update", kwargs={"slug": milestone.goal.slug, "pk": milestone.pk})


def form_body(milestone, comment: bytes) -> bytes:
    """The status update form as a browser encodes it, with ``comment`` as given."""
    prefix = f"m{milestone.pk}-"
    fields = {"status": "at_risk", "period": "Q3 FY19", "revised_due": "", "version": "1"}
    pairs = [f"{prefix}{name}={quote(value)}".encode() for name, value in fields.items()]
    return b"&".join([*pairs, f"{prefix}comment=".encode() + comment])


def snapshot(milestone):
    milestone.refresh_from_db()
    return (milestone.status, milestone.comment, milestone.version, StatusUpdate.objects.count())


@pytest.mark.parametrize(
    "comment",
    [b"\xff\xfe", b"%FF%FE", b"Caf%E9", b"ok+\xe9t\xe9"],
    ids=["raw", "escaped", "latin-1", "mixed"],
)
def test_a_status_update_that_is_not_utf8_is_refused_and_nothing_is_written(
    leader_client, milestone, comment
):
    before = snapshot(milestone)

    response = leader_client.post(
        update_url(milestone), form_body(milestone, comment), content_type=FORM
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "not valid UTF-8" in response.content.decode()
    assert snapshot(milestone) == before


@pytest.mark.parametrize(
    ("body", "saved"),
    [
        ("Réunion à Genève ✓".encode(), "Réunion à Genève ✓"),
        (b"R%C3%A9union+%E2%9C%93", "Réunion ✓"),
    ],
    ids=["raw", "escaped"],
)
def test_a_status_update_in_utf8_is_saved_as_typed(leader_client, milestone, body, saved):
    response = leader_client.post(
        update_url(milestone), form_body(milestone, body), content_type=FORM
    )

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.comment == saved
    assert StatusUpdate.objects.get().comment == saved


def test_a_query_string_that_is_not_utf8_is_refused(leader_client):
    assert leader_client.get(reverse("portfolio") + "?q=caf%C3%A9").status_code == 200

    response = leader_client.get(reverse("portfolio") + "?q=caf%E9")

    assert response.status_code == 400
    assert "not valid UTF-8" in response.content.decode()
