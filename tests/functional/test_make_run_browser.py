"""`make run` from this checkout serves a login page a real browser can sign into."""

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    # As on a fresh checkout: the instance directory does not exist before `make run`.
    workdir = tmp_path_factory.mktemp("make-run")
    instance = workdir / "instance"
    port = free_port()
    env = {**os.environ, "PORT": str(port), "INSTANCE_DIR": str(instance),
           "WHOIS_PORT": str(free_port())}
    for key in ("DATABASE_URL", "REDIS_URL", "TUNNUS_TEST_DB", "JOBS_MODE"):
        env.pop(key, None)
    log = (workdir / "make-run.log").open("w")
    process = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("make run exited: " + (workdir / "make-run.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        pytest.fail("make run did not serve in time")
    yield base, json.loads((instance / "demo.json").read_text()), workdir
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


@pytest.mark.browser
def test_make_run_writes_demo_json_and_prints_the_login(running):
    base, demo, workdir = running
    assert demo["base_url"] == base
    assert {"name", "domain", "email", "password"} <= set(demo["operator"])
    names = [r["name"] for r in demo["resellers"]]
    assert names[:2] == ["Demo Agency Oy", "Exempel AB"]
    for reseller in demo["resellers"]:
        assert {"name", "email", "password", "client_id", "client_secret"} <= set(reseller)
    assert "whois_port" in demo
    log = (workdir / "make-run.log").read_text()
    assert demo["resellers"][0]["password"] in log


@pytest.mark.browser
def test_a_browser_signs_in_to_the_client_area(running):
    from playwright.sync_api import sync_playwright

    base, demo, _ = running
    reseller = demo["resellers"][0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(base + "/login")
        page.fill("#email", reseller["email"])
        page.fill("#password", reseller["password"])
        page.click("button[type=submit] >> text=/Kirjaudu|Sign in|Logga in/")
        page.wait_for_load_state()
        assert page.url.rstrip("/") == base
        assert "Demo Agency Oy" in page.content()
        browser.close()


@pytest.mark.browser
def test_the_api_answers_the_demo_client(running):
    base, demo, _ = running
    reseller = demo["resellers"][1]
    data = f"grant_type=client_credentials&client_id={reseller['client_id']}&client_secret={reseller['client_secret']}"
    request = urllib.request.Request(base + "/oauth/token", data=data.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.loads(response.read())["access_token"]
    request = urllib.request.Request(base + "/api/v1/account",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["company_name"] == "Exempel AB"
