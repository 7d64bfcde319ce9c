"""Debian's Chromium driven by Playwright against the app on a loopback port, and axe-core
(from npm, ``make test`` installs it) checking what it renders."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from werkzeug.serving import make_server

from tests.support.crawl import crawl
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BLOCKING = ("serious", "critical")


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on a free loopback port (its base URL) for as long as the block runs."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core violations on the page: 'rule: target …' lines."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `npm ci` (make test does)")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {json.dumps([n['target'] for n in v['nodes']][:3])}"
            for v in results["violations"] if v["impact"] in BLOCKING]


class _ChromiumClient:
    """What ``tests.support.crawl.crawl`` asks of a test client, answered by Chromium;
    axe runs on every HTML page it opens."""

    def __init__(self, page, base: str, app) -> None:
        self.page, self.base, self.application = page, base, app
        self.violations: dict[str, list[str]] = {}

    def get(self, path: str) -> SimpleNamespace:
        response = self.page.goto(self.base + path)
        status = response.status if response is not None else 0
        mimetype = (response.headers.get("content-type", "") if response else "").split(";")[0]
        if status == 200 and mimetype == "text/html":
            self.violations[path] = axe_violations(self.page)
        return SimpleNamespace(status_code=status, mimetype=mimetype,
                               get_data=lambda as_text=True: self.page.content())


def crawl_with_axe(page, base: str, app, starts: list[str], *, limit: int) -> dict[str, list]:
    """Open every same-origin page reachable from ``starts`` by links (one page per view,
    ``limit`` in all; ``tests.support.crawl`` skips sign-out, APIs and downloads) and run
    axe on each: ``{path: violations}`` for every page visited."""
    client = _ChromiumClient(page, base, app)
    crawl(client, starts, per_endpoint=1, limit=limit)
    return client.violations
