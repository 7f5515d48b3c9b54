import pytest

from milestones.models import Status
from tests.factories import MilestoneFactory
from tests.sdif_tracker.asof_story import Clock, Story, tell_story


@pytest.fixture
def clock(monkeypatch):
    """Holds ``timezone.now()`` at the moment a test sets: ``clock.set(2019, 5, 15, 12, 0)``."""
    return Clock(monkeypatch)


@pytest.fixture
def story(request, clock, db) -> Story:
    """The SDIF plan and its known changes across FY19, for the as-of, compare and revert
    tests (``asof_story``)."""
    return tell_story(request, clock)


@pytest.fixture
def milestone(goal):
    return MilestoneFactory(goal=goal, status=Status.ON_TRACK, comment="As published")
