"""Security headers on real responses: gunicorn with production settings, as deployed
(behind a TLS-terminating balancer that sets X-Forwarded-Proto), serving a SQLite file."""

import re

import pytest

from tests.ops._instances import Browser, gunicorn, manage, production_env

pytestmark = pytest.mark.ops


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("headers")
    env = production_env(
        database_url=f"sqlite:///{tmp / 'db.sqlite3'}",
        static_root=tmp / "static",
        # Production's default: plain HTTP that did not come through the balancer is
        # redirected to HTTPS.
        SECURE_SSL_REDIRECT="1",
    )
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input")
    with gunicorn(env, tmp / "gunicorn.log") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def login_page(server):
    return Browser().request(f"{server}/accounts/login/")


def test_pages_carry_the_security_headers(server, login_page):
    health = Browser().request(f"{server}/healthz")
    for response in (login_page, health):
        assert response.status == 200
        headers = response.headers
        assert re.fullmatch(
            r"max-age=31536000; includeSubDomains", headers["Strict-Transport-Security"]
        )
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_content_security_policy_allows_nothing_inline_or_foreign(login_page):
    directives = dict(
        part.strip().split(" ", 1)
        for part in login_page.headers["Content-Security-Policy"].split(";")
    )
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    # ...and the page needs nothing more: no inline script, style or handler.
    html = login_page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html
    assert not re.search(r"\s(on[a-z]+|style)=", html)


def test_the_server_header_names_gunicorn_without_a_version(login_page):
    # gunicorn's default; no version to help an attacker pick an exploit.
    assert login_page.headers["Server"] == "gunicorn"


def test_the_csrf_cookie_is_sent_over_https_only(server):
    browser = Browser()
    browser.request(f"{server}/accounts/login/")
    (csrf,) = [cookie for cookie in browser.cookies if cookie.name == "csrftoken"]
    assert csrf.secure


def test_static_files_are_served_hashed_and_cached_for_good(server, login_page):
    (path,) = re.findall(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login_page.text)
    response = Browser().request(f"{server}{path}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert ".htmx-indicator" in response.text


def test_plain_http_is_sent_to_https_but_the_health_check_is_not(server):
    page = Browser().request(f"{server}/accounts/login/", proto="http")
    assert page.status == 301
    assert page.headers["Location"] == f"https://{server.removeprefix('http://')}/accounts/login/"
    # A balancer probes each instance directly, over plain HTTP.
    health = Browser().request(f"{server}/healthz", proto="http")
    assert health.status == 200
    assert health.headers["Content-Security-Policy"]
