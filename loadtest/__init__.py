"""The load test of issue 7: gunicorn on PostgreSQL driven from loopback (``make loadtest``)."""
