import pytest

from tests.factories import MilestoneFactory


@pytest.mark.django_db
def test_a_milestone_records_who_created_it():
    milestone = MilestoneFactory()
    assert milestone.history.get().history_username == "system"
