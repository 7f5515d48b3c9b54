"""The read API at /api/v1/ (docs/api.md): Django REST framework, read-only, with the
same visibility as the pages (``sdif_tracker.access``)."""
