"""The load test: gunicorn on PostgreSQL driven by Locust from loopback (``make loadtest``)."""
