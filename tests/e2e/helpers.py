"""What the browser tests share: signing in as a person does, waiting for htmx, and
the axe check."""

import json

from axe_playwright_python.sync_playwright import Axe

PASSWORD = "correct horse battery staple"  # UserFactory's


def log_in(page, username, password=PASSWORD, *, next_url="/"):
    """Sign in through the login form, as a person does."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).last.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def wait_for_htmx_to_settle(page):
    """htmx settles a swap after 20 ms; a person is never faster than that."""
    # A function, not a bare expression: Playwright evals an expression inside the page,
    # which the Content-Security-Policy (no 'unsafe-eval') refuses.
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
_axe = Axe()


def assert_accessible(page, state):
    """Zero axe violations for WCAG 2.0/2.1 A and AA on the page as it is now.

    "As it is now" means once CSS transitions have settled: a button that just took
    focus fades from its outline colours to its filled ones over 0.15 s, and axe
    measuring contrast halfway through that fade reports colours nobody reads."""
    page.evaluate(
        "() => Promise.all(document.getAnimations()"
        ".filter((a) => a instanceof CSSTransition).map((a) => a.finished.catch(() => null)))"
    )
    results = _axe.run(page, options=WCAG_21_AA)
    violations = results.response["violations"]
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:160]}")
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"      {summary[:300]}")
    assert not violations, f"axe on {state} ({page.url}):\n" + "\n".join(lines)
