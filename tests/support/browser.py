"""Debian's Chromium driven by Playwright against the app on a loopback port, and axe-core
(from npm, ``make test`` installs it) checking what it renders."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from tests.support.crawl import links
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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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


def crawl_with_axe(page, base: str, app, starts: list[str], *, limit: int) -> dict[str, list]:
    """Open every same-origin page reachable from ``starts`` by links (one page per view,
    ``limit`` in all; ``tests.support.crawl`` skips sign-out, APIs and downloads) and run
    axe on each: ``{path: violations}`` for every page visited."""
    adapter = app.url_map.bind("localhost")
    queue, seen, views = deque(starts), set(starts), set()
    found: dict[str, list] = {}
    while queue and len(found) < limit:
        path = queue.popleft()
        try:
            endpoint, _ = adapter.match(urlsplit(path).path, method="GET")
        except Exception:  # noqa: BLE001 (a link to something that is not a GET page)
            continue
        if endpoint in views:
            continue
        views.add(endpoint)
        response = page.goto(base + path)
        if response is None or response.status != 200 \
                or "text/html" not in response.headers.get("content-type", ""):
            continue
        found[path] = axe_violations(page)
        for link in links(page.content(), path):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return found
