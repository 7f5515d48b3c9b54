"""`make screenshots`: PNGs of the main pages into docs/screenshots/.

Starts a throwaway server (`manage.py runserver`, DEBUG=1) on a free port with a
temporary SQLite database holding what `make run` sets up — the SDIF plan and the demo
users — plus one status update, so the history has a change to show. Then Chromium
(Playwright) opens each page as a demo user at a desktop (1366×900) and a phone
(390×844) size, in English and in Spanish, and saves what the window shows as
docs/screenshots/<page>-<desktop|phone>-<en|es>.png, reduced to 256 colours to keep
the files small. The server and the database are removed afterwards, also on failure.

    .venv/bin/python docs/screenshots/take.py [--only dashboard,plan]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = os.environ.get("DEMO_PASSWORD") or "sdif-demo-2019"
GOAL = "sdif"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "es")
# What a page's picture starts at, when not its top: the plan's key milestones table,
# past the goal statement.
SCROLL_TO = {"plan": "#milestones"}

# The one change the history shows: a leader's status update with a rewritten comment.
SEED = """
from django.contrib.auth import get_user_model
from milestones.models import Milestone, Status
from milestones.services import record_status_update
from strategies.periods import FiscalPeriod
milestone = Milestone.objects.filter(goal__slug="sdif").order_by("position", "pk")[2]
record_status_update(
    milestone=milestone,
    user=get_user_model().objects.get(username="leader"),
    status=Status.AT_RISK,
    comment=milestone.comment + " The Q4 meeting moved to January: Mexico's delegation "
    "changed after the elections.",
    period=FiscalPeriod(2019, 4),
    expected_version=milestone.version,
)
print(milestone.pk)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, *args, capture=False) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310 - http://127.0.0.1
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer within 60 s")


def save(page, name: str) -> Path:
    """What the window shows, as a 256-colour PNG."""
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(
            path, optimize=True
        )
    return path


def log_in(context, username):
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    return page


def open_update_panel(page) -> bool:
    """Open the first milestone's update panel on the dashboard; False if there is none
    (no Update button, or it opens a page rather than a panel)."""
    button = page.locator("a.update-button, [data-opens-panel]").first
    if not button.count():
        return False
    button.click()
    panel = page.locator(
        "[data-update-panel]:visible, .update-panel:visible, dialog[open], "
        ".offcanvas.show, [role=dialog]:visible"
    ).first
    try:
        panel.wait_for(state="visible", timeout=5_000)
    except PlaywrightError:
        return False
    page.wait_for_timeout(400)  # the panel's transition
    return True


def shoot(browser, base, milestone_pk, only) -> list[str]:
    pages = {
        "portfolio": ("leader", "/"),
        "dashboard": ("leader", f"/goals/{GOAL}/"),
        "dashboard-update": ("leader", f"/goals/{GOAL}/"),
        "milestone": ("leader", f"/goals/{GOAL}/milestones/{milestone_pk}/"),
        "plan": ("leader", f"/goals/{GOAL}/plan/"),
        "history": ("reviewer", f"/goals/{GOAL}/milestones/{milestone_pk}/history/"),
        "audit-log": ("reviewer", "/audit/"),
        "my-goals": ("leader", "/my/"),
    }
    written = []
    for language in LANGUAGES:
        for size, viewport in SIZES.items():
            contexts = {}
            try:
                for name, (username, path) in pages.items():
                    if only and name not in only:
                        continue
                    if username not in contexts:
                        context = browser.new_context(
                            base_url=base,
                            viewport=viewport,
                            locale=language,
                            # No smooth scrolling or transitions half-way in a picture.
                            reduced_motion="reduce",
                            extra_http_headers={"Accept-Language": language},
                        )
                        contexts[username] = (context, log_in(context, username))
                    page = contexts[username][1]
                    response = page.goto(path)
                    if response is None or response.status != 200:
                        status = response.status if response else "no answer"
                        raise SystemExit(f"{path} as {username}: HTTP {status}")
                    if name in SCROLL_TO:
                        page.locator(SCROLL_TO[name]).evaluate("(el) => el.scrollIntoView()")
                    if name == "dashboard-update" and not open_update_panel(page):
                        print(f"  skipped {name}-{size}-{language}: no update panel")
                        continue
                    written.append(save(page, f"{name}-{size}-{language}").name)
                    print(f"  {written[-1]}")
            finally:
                for context, _page in contexts.values():
                    context.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated page names (portfolio, dashboard, …)")
    only = set(filter(None, (parser.parse_args().only or "").split(",")))

    workdir = Path(tempfile.mkdtemp(prefix="sdif-screenshots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "DEBUG": "1",
        "DEMO_PASSWORD": PASSWORD,
    }
    server = None
    try:
        # What `make run` does, on the temporary database.
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "import_plan", "plans/sdif-fy19.yaml", "--if-absent")
        manage(env, "create_demo_users")
        milestone_pk = int(manage(env, "shell", "-c", SEED, capture=True).split()[-1])
        server = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "server.log", "w"),  # noqa: SIM115 - closed with workdir
        )
        wait_until_up(base, server)
        print(f"Screenshots of {base} into {OUT.relative_to(ROOT)}/")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                written = shoot(browser, base, milestone_pk, only)
            finally:
                browser.close()
        print(f"{len(written)} screenshots written.")
    except BaseException:
        log = workdir / "server.log"
        if log.exists() and log.stat().st_size:
            sys.stderr.write("--- server log (last lines) ---\n")
            sys.stderr.write("".join(log.read_text().splitlines(keepends=True)[-30:]))
        raise
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
