"""Pages as a person sees them: Debian's Chromium, headless, driven by Playwright's Python
client against the live test server. Without a Chromium on the machine these tests are
skipped (``.ci/run`` installs it, so CI always runs them)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("WAYBILL_CHROMIUM") or shutil.which("chromium")
TIMEOUT_MS = 30_000


# Per module, not per session: while Playwright's sync API runs, its event loop is the
# thread's, and any later test in the same process that runs asyncio (webhook deliveries)
# would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM:
        pytest.skip("no Chromium here: apt-get install chromium (or set WAYBILL_CHROMIUM)")
    # The Django test database is used from the test thread while the page loads.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def admin_page(browser, live_server, dispatcher_api) -> Iterator[Callable]:
    """A signed-in dispatcher's page; ``admin_page(path)`` opens ``path`` on it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "dispatch")
    page.fill("#id_password", "pw")
    page.click('input[type="submit"]')
    page.wait_for_url(f"{live_server.url}/admin/")

    def open_(path: str):
        page.goto(f"{live_server.url}{path}")
        return page

    yield open_
    context.close()


@pytest.fixture
def screenshot(request) -> Callable:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{request.node.name[:60]}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def anonymous_page(browser, live_server) -> Iterator[Callable]:
    """A page with no session (the receiver's), at a viewport of one's choosing:
    ``anonymous_page(path, width, height)``; ``.requests`` lists every URL it fetched."""
    contexts = []
    requests: list[str] = []

    def open_(path: str, width: int = 1280, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        return page

    open_.requests = requests
    open_.base_url = live_server.url
    yield open_
    for context in contexts:
        context.close()
