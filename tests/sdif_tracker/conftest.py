# The clock and the SDIF story of changes, for the as-of, compare and revert tests.
from tests.sdif_tracker.asof_story import clock, story  # noqa: F401
