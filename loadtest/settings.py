"""The production settings, with collectstatic's output in a directory of the run's own.

Used by the load test and the fault tests so that their ``collectstatic`` does not write
into the checkout's ``staticfiles/`` while other processes serve from it.
"""

import os

from sdif_tracker.settings import *  # noqa: F403

STATIC_ROOT = os.environ["LOADTEST_STATIC_ROOT"]

# The short runs in tests/ops skip compressing every file (seconds of CPU at each start);
# WhiteNoise serves the same hashed names either way.
if os.environ.get("LOADTEST_COMPRESS_STATIC", "1") == "0":
    STORAGES = {  # noqa: F405
        **STORAGES,  # noqa: F405
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
