"""Run the app as production does, in subprocesses: `manage.py` commands and gunicorn
instances with production settings (DEBUG off), on a loopback port each.

Requests go through one `urllib` opener with a cookie jar, as one browser would. The
instances trust ``X-Forwarded-Proto`` (``BEHIND_TLS_PROXY=1``) and every request sends
``https``, as the TLS-terminating load balancer does, so the responses carry what users
get: HSTS, and Secure cookies.
"""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def production_env(*, database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # The suite's own settings overrides must not leak into "production".
        if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_SSL_REDIRECT", "DEBUG"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(static_root),
        BEHIND_TLS_PROXY="1",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path):
    """One gunicorn instance (1 worker) on a free loopback port; yields its base URL and
    stops it on the way out, whatever happened."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the venv's gunicorn, fixed arguments
            [
                str(GUNICORN),
                "sdif_tracker.wsgi",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--forwarded-allow-ips",
                "127.0.0.1",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process, base_url: str, log_path: Path, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", int(base_url.rsplit(":", 1)[1])), 0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not start in {timeout} s: {log_path.read_text()}")


class _LoopbackIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Send Secure cookies to 127.0.0.1 over plain HTTP, as browsers do for loopback
    (the load balancer's TLS is simulated by X-Forwarded-Proto)."""

    def return_ok_secure(self, cookie, request):
        return urllib.parse.urlsplit(request.full_url).hostname == "127.0.0.1" or (
            super().return_ok_secure(cookie, request)
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One cookie jar across every instance: the user's browser behind the balancer."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar(policy=_LoopbackIsSecure())
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def request(self, url: str, data: dict | None = None, *, proto: str = "https"):
        """GET (or POST the form ``data``) and return the response, whatever its status."""
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
        headers = {"X-Forwarded-Proto": proto}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            # What a browser sends with a form POST; Django's CSRF check compares it
            # with the host on HTTPS requests.
            headers["Origin"] = origin.replace("http://", f"{proto}://")
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
        try:
            response = self.opener.open(request, timeout=15)
        except urllib.error.HTTPError as error:
            response = error
        response.text = response.read().decode()
        return response


@contextmanager
def private_redis():
    """A redis-server of the test's own (no persistence) on a free loopback port: yields
    ``{"url", "process"}``, and kills it on the way out."""
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (apt-get install redis-server; .ci/run does)"
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the system's redis-server, fixed arguments
        [server, "--port", str(port)]
        + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, "redis-server did not start in 10 s"
                time.sleep(0.05)
        yield {"url": f"redis://127.0.0.1:{port}/0", "process": process}
    finally:
        process.kill()
        process.wait(timeout=10)
