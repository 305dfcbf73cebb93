"""Debian's Chromium driven by Playwright, and what every console test checks on a page.

Playwright's own browser download cannot work here (no internet at test time), so the
browser is the system's ``/usr/bin/chromium`` (``apt-get install chromium``; the test
command installs it). Each page a test opens is checked for what a person would hit:
a script error or a Content-Security-Policy violation fails the test (``PageGuard``),
axe-core finds no serious or critical violation (``assert_accessible``), and
``screenshots`` saves it at a desktop and a phone width for docs/console.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Response, expect

from tests.support.stack import ROOT

CHROMIUM = os.environ.get("DIALER_TEST_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium keeps trying to reach Google's hosts from a closed network.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# The folder the README names: the tests write each page's screenshots here.
SCREENSHOTS = Path(os.environ.get("DIALER_CONSOLE_SCREENSHOTS", ROOT / "docs" / "console"))
BLOCKING_IMPACTS = ("serious", "critical")
ASSET_TYPES = ("stylesheet", "script", "image", "font", "other")

expect.set_options(timeout=15_000)


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class PageGuard:
    """Script errors and CSP violations a page produced (the console logs both)."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        # A failed load is judged by _response (a page's own status is the test's to
        # assert); a stream the test's server restart cut logs its reconnect (htmx logs
        # the extension's htmx:sseError with the EventSource's error Event: "Event");
        # htmx logs a failed request, which console.js says on the page (the test
        # asserts that).
        if message.type == "error" and not re.search(
                r"Failed to load resource|EventSource|ERR_CONNECTION_REFUSED"
                r"|ERR_INCOMPLETE_CHUNKED|^Event$|Response Status Error Code"
                r"|^htmx:(sendError|afterRequest)$",
                message.text):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Response) -> None:
        # A page's assets (style, script, icon) must all load.
        if response.status >= 400 and response.request.resource_type in ASSET_TYPES:
            self.problems.append(f"{response.status} for {response.url}")


def assert_accessible(page: Page, what: str) -> None:
    """axe-core (bundled by axe-playwright-python) on the page as it is now."""
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"]
                if v.get("impact") in BLOCKING_IMPACTS]
    assert blocking == [], f"{what}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n.get("target")) for n in v["nodes"][:5]) for v in blocking)


def screenshots(page: Page, name: str, *, check: bool = True) -> None:
    """The page at 1280 px and at 390 px, saved as ``<name>-1280.png`` and
    ``<name>-390.png``; checked by axe at both widths (``check``), then back to 1280."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        if check:
            assert_accessible(page, f"{name} at {size['width']} px")
        assert_no_horizontal_scroll(page, f"{name} at {size['width']} px")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size['width']}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def assert_no_horizontal_scroll(page: Page, what: str) -> None:
    """Nothing wider than the screen: wide tables scroll inside their own box."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{what}: the page is {overflow}px wider than the screen"


@contextmanager
def guarded_page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=base_url)
    page = context.new_page()
    guard = PageGuard()
    guard.watch(page)
    try:
        yield page
    finally:
        context.close()
    assert guard.problems == [], guard.problems
