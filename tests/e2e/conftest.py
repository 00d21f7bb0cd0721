"""Browser tests: Debian's Chromium driven by Playwright against `live_server`.

One browser is shared by all the browser tests; each test gets a fresh context
(cookies, storage), so tests stay independent and fast.

The Content-Security-Policy is enforced here as in production, and a browser
test fails on any violation of it: every context the browser opens (the `page`
fixture's and a test's own `browser.new_context()`) runs `CSP_WATCH` in every
document, which records each `securitypolicyviolation` event, and listens for
the browser's own "Refused to ..." console errors. A script, style or form
blocked by the policy cannot break a page silently.
"""

import os
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import sync_playwright

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "a-long-enough-password"

# Runs before any script of every document (and frame) a watched context opens.
CSP_WATCH = """
(() => {
  const seen = [];
  Object.defineProperty(window, "__cspViolations", { value: seen });
  document.addEventListener("securitypolicyviolation", (event) => {
    const line = `${event.effectiveDirective} blocked ${event.blockedURI || "?"}` +
      ` (${event.sourceFile || document.location.href}:${event.lineNumber})` +
      ` ${event.sample || ""}`.trimEnd();
    seen.push(line);
    console.error(`CSP violation: ${line}`);
  }, true);
})();
"""
READ_VIOLATIONS = "() => (window.__cspViolations || []).slice()"

# Violations seen during the current test (cleared before each test).
_csp_violations: list[str] = []


def _note_console(message) -> None:
    text = message.text
    if text.startswith("CSP violation: ") or (
        text.startswith("Refused to") and "Content Security Policy" in text
    ):
        where = message.page.url if message.page else "?"
        _csp_violations.append(f"{where}: {text.removeprefix('CSP violation: ')}")


def watch_csp(context) -> None:
    """Record every CSP violation in `context` (see the module docstring)."""
    context.add_init_script(CSP_WATCH)
    context.on("console", _note_console)
    close = context.close

    def close_after_reading(*args, **kwargs):
        # Events still on their way are read from each open page first.
        for open_page in context.pages:
            try:
                for line in open_page.evaluate(READ_VIOLATIONS):
                    _csp_violations.append(f"{open_page.url}: {line}")
            except Exception:  # noqa: S110 - a page that crashed or is closing
                pass
        close(*args, **kwargs)

    context.close = close_after_reading


def _refuse_new_page(**kwargs):
    raise AssertionError(
        "Open pages with browser.new_context().new_page(), so that CSP "
        "violations are watched (tests/e2e/conftest.py)."
    )


@pytest.fixture(autouse=True)
def _fail_on_csp_violations():
    _csp_violations.clear()
    yield
    found = list(dict.fromkeys(_csp_violations))
    _csp_violations.clear()
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="package")
def playwright(_pw_api_request_contexts):
    """pytest-playwright's fixture, but living only as long as the browser tests.

    Playwright's sync API keeps an event loop running in the main thread, which
    Django takes for an async context and so refuses database access, unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. The variable is set for exactly as long as
    that loop runs: set at import, or for the whole session, it leaks into the
    environment of every other test, and `manage.py check --deploy` run by one
    of them rightly fails on it (async.E001).
    """
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    try:
        yield pw
    finally:
        pw.stop()
        if before is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = before


# The fixtures below are pytest-playwright's own, rescoped to follow `playwright`.


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args, browser_type):
    def launch(**kwargs):
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser):
    browser = launch_browser()
    new_context = browser.new_context

    def watched_context(**kwargs):
        context = new_context(**kwargs)
        watch_csp(context)
        return context

    browser.new_context = watched_context
    browser.new_page = _refuse_new_page
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(
    pytestconfig, playwright, device, base_url, _pw_artifacts_folder
):
    args = {}
    if device:
        args.update(playwright.devices[device])
    if base_url:
        args["base_url"] = base_url
    if pytestconfig.getoption("--video") in ("on", "retain-on-failure"):
        args["record_video_dir"] = _pw_artifacts_folder.name
    return args


@pytest.fixture
def page(page):
    # A missing element should fail a test in seconds, not after 30.
    page.set_default_timeout(15_000)
    page.set_default_navigation_timeout(30_000)
    return page


class _Collector:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 that Django sends its mail to."""
    handler = _Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()


def totp_code(secret: str) -> str:
    """The authenticator code for `secret`, as a person would type it now.

    A code made in the last seconds of its 30-second window can reach the
    server in the next one and be refused: wait for a fresh window first.
    Every browser test that types a code gets it here."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def tab_until(page, selector: str, *, limit: int = 60) -> list[str]:
    """Press Tab until the element matching `selector` has focus.

    Returns a description of every element focused on the way (including the
    target), so a test can check the order. Fails if the target is never reached.
    """
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focused_description(page))
        if page.evaluate(
            "sel => document.activeElement && document.activeElement.matches(sel)",
            selector,
        ):
            return seen
    raise AssertionError(f"Tab never reached {selector!r}; focus went to {seen}")


def focused_description(page) -> str:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return "body";
            return el.id ? `${el.tagName.toLowerCase()}#${el.id}`
                         : `${el.tagName.toLowerCase()}:${(el.textContent || "").trim()}`;
        }"""
    )


def fill_date(scope, name: str, day) -> None:
    """Type `day` (a date) into the GOV.UK date input whose legend is `name`."""
    group = scope.get_by_role("group", name=name)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))
