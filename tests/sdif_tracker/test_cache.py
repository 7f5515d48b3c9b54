"""CACHE_URL / REDIS_URL: one Redis cache for every instance, reported by /healthz.

The Redis here is the test's own ``redis-server`` on a free loopback port (not the
machine's), so the test can stop it to see what an unreachable cache does.
"""

import runpy
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from tests.ops._instances import private_redis


def load_settings(monkeypatch, **env):
    """Run settings.py afresh with ``env`` (cache variables cleared first)."""
    for name in ("CACHE_URL", "REDIS_URL", "DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "settings-test")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(django_settings.BASE_DIR, "sdif_tracker", "settings.py")))


def test_without_a_cache_url_each_process_has_its_own_memory_cache(monkeypatch):
    loaded = load_settings(monkeypatch)

    assert loaded["CACHE_URL"] == ""
    assert loaded["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")


@pytest.mark.parametrize("name", ["CACHE_URL", "REDIS_URL"])
def test_a_redis_url_makes_one_shared_redis_cache(monkeypatch, name):
    loaded = load_settings(monkeypatch, **{name: "redis://cache.internal:6379/2"})

    assert loaded["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/2",
        "KEY_PREFIX": "sdif",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


def test_cache_url_wins_over_redis_url(monkeypatch):
    loaded = load_settings(
        monkeypatch, CACHE_URL="redis://first:6379/0", REDIS_URL="redis://second:6379/0"
    )

    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://first:6379/0"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("memcached://user:secret@cache:11211", "got a memcached:// URL"),
        ("cache.internal:6379", "got no scheme"),
    ],
)
def test_a_cache_url_that_is_not_redis_fails_loudly_without_echoing_it(monkeypatch, url, says):
    with pytest.raises(ImproperlyConfigured, match=says) as raised:
        load_settings(monkeypatch, CACHE_URL=url)

    assert "secret" not in str(raised.value)


@pytest.fixture
def redis_server():
    with private_redis() as server:
        yield server


def _redis_settings(url):
    return override_settings(
        CACHE_URL=url,
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "sdif",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        },
    )


@pytest.mark.django_db
def test_healthz_reports_a_redis_cache_that_answers(client, redis_server):
    with _redis_settings(redis_server["url"]):
        response = client.get(reverse("healthz"))
        cache.set("shared", "seen by every instance")
        keys = redis.Redis.from_url(redis_server["url"]).keys("*")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    # Values land in that Redis, under the app's prefix, and the probe cleans up after itself.
    assert keys == [b"sdif:1:shared"]


@pytest.mark.django_db
def test_an_unreachable_cache_is_reported_but_the_instance_stays_in(client, redis_server):
    redis_server["process"].kill()
    redis_server["process"].wait(timeout=10)

    with _redis_settings(redis_server["url"]):
        response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_without_a_shared_cache_healthz_says_nothing_of_it(client):
    assert client.get(reverse("healthz")).json() == {"status": "ok", "database": "ok"}


def test_the_scheme_may_be_written_in_capitals(monkeypatch):
    loaded = load_settings(monkeypatch, REDIS_URL="REDIS://cache.internal:6379/0")

    assert loaded["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
