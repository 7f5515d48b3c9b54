"""Start the test OpenID Provider (provider.mjs, panva/oidc-provider on Node) and drive
it as a browser would, for the single sign-on tests.

Without Node (or without ``npm ci`` having run here: ``make oidc-provider``) the tests
that need the provider are skipped with one line saying so, except under CI=true, where
they fail.
"""

import json
import os
import re
import shutil
import subprocess
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = Path(__file__).resolve().parent
NO_NODE = (
    "the test OpenID Provider needs Node and its packages: "
    "apt-get install -y nodejs npm, then make oidc-provider"
)

GENERIC_CLIENT = "sdif-generic"
GENERIC_SECRET = "generic-client-secret-for-tests-only-0123456789"  # noqa: S105 - test only
LOGINGOV_CLIENT = "urn:gov:gsa:openidconnect.profiles:sp:sso:test:sdif"
CALLBACK_PATH = "/accounts/sso/callback/"
LOGIN_PATH = "/accounts/login/"


def require_node():
    if shutil.which("node") and (HERE / "node_modules" / "oidc-provider").is_dir():
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and {NO_NODE}", pytrace=False)
    pytest.skip(NO_NODE)


def client_key(directory: Path) -> tuple[Path, dict]:
    """A fresh RSA key for the private_key_jwt client: its PEM file (the app's side) and
    its public JWK (the provider's side)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = directory / "client-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return pem, {**public, "use": "sig", "alg": "RS256", "kid": "test-client-key"}


class Provider:
    """A running provider: its issuer, what it logged, and the accounts it knows."""

    def __init__(self, directory: Path, *, site_urls: list[str], client_jwk: dict):
        self.directory = directory
        self.accounts_path = directory / "accounts.json"
        self.accounts_path.write_text("{}")
        self.log_path = directory / "provider.log"
        redirects = [f"{site}{CALLBACK_PATH}" for site in site_urls]
        after_logout = [f"{site}{LOGIN_PATH}" for site in site_urls]
        clients = [
            {
                "client_id": GENERIC_CLIENT,
                "client_secret": GENERIC_SECRET,
                "redirect_uris": redirects,
                "post_logout_redirect_uris": after_logout,
                "token_endpoint_auth_method": "client_secret_basic",
            },
            {
                "client_id": LOGINGOV_CLIENT,
                "redirect_uris": redirects,
                "post_logout_redirect_uris": after_logout,
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "RS256",
                "jwks": {"keys": [client_jwk]},
            },
        ]
        config = directory / "config.json"
        config.write_text(
            json.dumps({"port": 0, "accounts": str(self.accounts_path), "clients": clients})
        )
        with self.log_path.open("w") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command
                ["node", str(HERE / "provider.mjs"), str(config)],  # noqa: S607 - node on PATH
                cwd=HERE,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.issuer = self._wait_until_listening()

    def _wait_until_listening(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for line in self._lines():
                if "listening" in line:
                    return line["listening"]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the test OpenID Provider did not start:\n{self.log_path.read_text()}")

    def _lines(self) -> list[dict]:
        lines = []
        for text in self.log_path.read_text().splitlines():
            if text.startswith("{"):
                lines.append(json.loads(text))
        return lines

    def events(self, kind: str) -> list[dict]:
        """What the provider logged of ``kind`` (token, authorization, end_session, …)."""
        return [line for line in self._lines() if line.get("event") == kind]

    def set_account(self, login: str, **claims):
        """The claims of ``login`` from the next sign-in on (email=None: no email)."""
        accounts = json.loads(self.accounts_path.read_text())
        accounts[login] = claims
        self.accounts_path.write_text(json.dumps(accounts))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_provider(directory: Path, *, site_urls: list[str]) -> tuple[Provider, Path]:
    """A provider that knows both clients at ``site_urls``, and the private_key_jwt
    client's PEM file."""
    require_node()
    pem, jwk = client_key(directory)
    return Provider(directory, site_urls=site_urls, client_jwk=jwk), pem


def _form(html: str) -> tuple[str, dict]:
    """The first form of a provider page: its action and hidden fields."""
    action = unescape(re.search(r'<form[^>]*action="([^"]*)"', html).group(1))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    return action, fields


def log_in_at_provider(browser: requests.Session, authorization_url: str, login: str) -> str:
    """Follow the app's redirect to the provider, sign in there as ``login`` (the
    development login takes any password) and return where the provider sends the
    browser back: the app's callback URL with the code and state (or an error)."""
    response = browser.get(authorization_url, allow_redirects=False)
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if CALLBACK_PATH in location:
            return location
        response = browser.get(location, allow_redirects=False)
    action, fields = _form(response.text)
    response = browser.post(
        urljoin(response.url, action),
        data={**fields, "prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
    )
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if CALLBACK_PATH in location:
            return location
        response = browser.get(location, allow_redirects=False)
    raise AssertionError(f"the provider did not send the browser back: {response.text[:500]}")


def confirm_logout_at_provider(browser: requests.Session, end_session_url: str) -> str:
    """Follow the app's redirect to the provider's end_session endpoint, say yes, and
    return where the provider sends the browser after signing out."""
    response = browser.get(end_session_url, allow_redirects=False)
    assert response.status_code == 200, response.text[:500]
    action, fields = _form(response.text)
    response = browser.post(
        urljoin(response.url, action), data={**fields, "logout": "yes"}, allow_redirects=False
    )
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if LOGIN_PATH in location:
            return location
        response = browser.get(location, allow_redirects=False)
    raise AssertionError(f"the provider did not send the browser back: {response.text[:500]}")
