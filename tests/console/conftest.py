"""The console tier: the API (uvicorn) in front of a real stack (worker and beat with
the simulated provider, or none when a test only reads), and Debian's Chromium
driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dialer.api.console.session import COOKIE, csrf_token_for
from dialer.service import orgs
from tests.support.api_server import ApiServer
from tests.support.browser import guarded_page, launch
from tests.support.scenario import MONDAY_9AM_NY
from tests.support.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.console]


@dataclass
class Site:
    """The API serving the console, a stack behind it, and a signed-up organisation."""

    stack: Stack
    server: ApiServer
    org: str
    key: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def client(self) -> Any:
        return self.stack.client(self.org)

    def restart_api(self) -> None:
        """Stop the API and start it again on the same port (a deploy, a crash)."""
        port = self.server.port
        self.server.stop()
        self.server = ApiServer(self.stack.env, port=port)


def new_org_key(stack: Stack, name: str) -> str:
    rt = stack.client().runtime
    orgs.create_org(rt, name)
    _, key = orgs.create_api_key(rt, name, label="console test")
    return key


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def start_site(make_stack, request) -> Iterator[Callable[..., Site]]:
    """``start_site(dialing=False, time_scale=60, provider="simulated", extra_env=...)``."""
    sites: list[Site] = []

    def factory(*, dialing: bool = False, time_scale: float = 60.0,
                provider: str = "simulated", extra_env: dict[str, str] | None = None,
                org: str = "acme") -> Site:
        stack = make_stack(sim_start=MONDAY_9AM_NY, time_scale=time_scale, provider=provider,
                           extra_env=extra_env)
        if dialing:
            stack.start_worker(concurrency=4)
            stack.start_beat()
        key = new_org_key(stack, org)
        site = Site(stack=stack, server=ApiServer(stack.env), org=org, key=key)
        sites.append(site)
        return site

    yield factory
    failed = getattr(request.node, "rep_call", None)
    for site in sites:
        site.server.stop()
        if failed is not None and failed.failed:
            print(f"== uvicorn\n{site.server.logs()[-5000:]}")


@pytest.fixture
def site(start_site) -> Site:
    return start_site()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[Site], Page]]:
    """``open_page(site)``: a fresh browser context (no cookies) on the site; fails the
    test on any script error or CSP violation the page logged."""
    stack: list[Any] = []

    def factory(site: Site) -> Page:
        manager = guarded_page(browser, site.base_url)
        stack.append(manager)
        return manager.__enter__()

    yield factory
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@contextmanager
def signed_in_http(site: Site) -> Iterator[tuple[httpx.Client, str]]:
    """A plain HTTP client signed in to the console (its cookie), and the session's CSRF
    token: for what a browser would not send (a forged or token-less form)."""
    with httpx.Client(base_url=site.base_url, follow_redirects=False) as http:
        assert http.post("/console/sign-in", data={"api_key": site.key}).status_code == 303
        yield http, csrf_token_for(http.cookies[COOKIE])


def sign_in(page: Page, key: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
