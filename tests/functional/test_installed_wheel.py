"""The built wheel is the product: installed into a fresh virtualenv outside the checkout,
started with production settings, it serves Finnish pages and sends Finnish mail.

The wheel is built from a copy of the working tree (so uncommitted changes count and no
build/ directory lands in the checkout). The fresh virtualenv gets the dependencies by a
.pth line pointing at this interpreter's site-packages, which appends the directory
without running that directory's own .pth files, so the checkout's editable install stays
invisible: every `reseller` import below comes from the wheel.
"""

from __future__ import annotations

import email
import email.policy
import http.client
import re
import shutil
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.production import production_env
from tests.support.servers import free_port, wait_for_port
from tests.support.whitelabel import SmtpSink

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "instance", "tests",
                                     "bench", "__pycache__", "*.egg-info", "*.mo",
                                     ".pytest_cache", ".hypothesis")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtualenv outside the checkout with only the wheel installed as `tunnus`."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(work / "dist"), str(source)], check=True, cwd=work)
    (wheel,) = (work / "dist").glob("tunnus-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, cwd=work,
                   env=_bare_env(venv, work))
    shutil.rmtree(source)
    return venv, work


def _bare_env(venv: Path, home: Path, **extra: str) -> dict[str, str]:
    """No PYTHONPATH, no checkout: what an operator's service manager gives the process."""
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            **extra}


class Browser:
    """Just enough of a browser: cookies kept by hand, because the production session
    cookie is Secure and this talks plain HTTP to gunicorn behind a pretend TLS proxy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Accept-Language": "fi-FI,fi;q=0.9", "Host": "tunnus.nimikauppa.fi",
                   "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7",
                   # Flask-WTF checks the referrer of HTTPS form posts.
                   "Referer": f"https://tunnus.nimikauppa.fi{path}",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode()
        connection.close()
        return response.status, text, dict(response.getheaders())

    def form_post(self, page: str, path: str, fields: dict) -> tuple[int, str, dict]:
        _status, text, _headers = self.request("GET", page)
        token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
        return self.request("POST", path, {"csrf_token": token, **fields})


@pytest.fixture
def production(installed, postgres, redis_server):
    venv, work = installed
    sink = SmtpSink()
    sink.start()
    database = postgres.create_database(f"wheel_{uuid.uuid4().hex[:8]}")
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/7"  # its own queues
    secrets_dir = work / f"etc-{uuid.uuid4().hex[:6]}"
    secrets_dir.mkdir()
    env = _bare_env(venv, work, **production_env(
        database_url=database, redis_url=redis_url, smtp_port=sink.port,
        secrets_dir=secrets_dir))
    yield venv, work, env, sink
    sink.stop()


def _tunnus(venv: Path, cwd: Path, env: dict, *args: str) -> str:
    result = subprocess.run([str(venv / "bin" / "tunnus"), *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_installed_wheel_serves_finnish_pages_and_sends_finnish_mail(production):
    venv, work, env, sink = production
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import reseller, wsgi"], cwd=work, env=env, capture_output=True,
                           text=True)
    assert "No module named 'wsgi'" in where.stderr  # the checkout is nowhere on the path
    located = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import reseller; print(reseller.__file__)"], cwd=work, env=env,
                             capture_output=True, text=True, check=True).stdout
    assert located.startswith(str(venv))

    _tunnus(venv, work, env, "db", "upgrade", "heads")
    created = _tunnus(venv, work, env, "staff", "create", "yllapito@nimikauppa.fi",
                      "--generate")
    password = created.split("password: ", 1)[1].strip()
    assert "standard (new)" in _tunnus(venv, work, env, "catalog", "install-defaults")

    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "reseller.wsgi:app"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, server)
        _approve_a_finnish_application(Browser(port), password)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Traceback" not in output, output

    _tunnus(venv, work, env, "worker", "--burst")
    (invitation,) = [e for e in sink.envelopes if e.rcpt_tos == ["aino@toimisto.example"]]
    message = email.message_from_bytes(invitation.content, policy=email.policy.default)
    assert message["Subject"] == "Nimikauppa-jälleenmyyjätilisi"
    body = message.get_body(("plain",)).get_content()
    assert "Aseta salasanasi" in body and "https://tunnus.nimikauppa.fi/" in body


def _approve_a_finnish_application(browser: Browser, staff_password: str) -> None:
    status, login, _ = browser.request("GET", "/login")
    assert status == 200 and 'lang="fi"' in login and "Kirjaudu sisään" in login
    status, applied, _ = browser.form_post("/apply", "/apply", {
        "company_name": "Toimisto Oy", "country": "FI", "business_id": "2464491-9",
        "website": "https://toimisto.example", "contact_name": "Aino Virtanen",
        "contact_email": "aino@toimisto.example", "language": "fi"})
    assert status == 200, applied
    staff = Browser(browser.port)
    status, _text, headers = staff.form_post("/login", "/login", {
        "email": "yllapito@nimikauppa.fi", "password": staff_password})
    assert status == 302, _text
    status, console, _ = staff.request("GET", "/console/")
    assert "/console/setup" in console
    application = re.search(r"/console/applications/(\d+)/approve", console).group(1)
    status, _text, _ = staff.form_post("/console/", f"/console/applications/{application}/approve",
                                       {"note": "Tervetuloa"})
    assert status == 302
    status, checklist, _ = staff.request("GET", "/console/setup")
    # Staff read the console in their own language (English by default).
    assert status == 200 and "First-run checklist" in checklist
    assert 'data-item="catalogue" data-done="yes"' in checklist
    assert 'data-item="prices" data-done="no"' in checklist
