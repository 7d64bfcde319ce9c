"""deploy/: the systemd units pass ``systemd-analyze verify`` and restart what dies."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ["tunnus-web.service", "tunnus-worker@.service", "tunnus-scheduler.service",
         "tunnus-whois.service", "tunnus-dns-gate.service", "tunnus.target"]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(" ".join((DEPLOY / name).read_text().split("\\\n")))
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian: the systemd package)")
def test_units_pass_systemd_analyze_verify(tmp_path):
    # The units name the installed virtualenv (/opt/tunnus/venv); verify checks that
    # ExecStart is executable, so point them at this checkout's for the check.
    venv = ROOT / ".venv"
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("/opt/tunnus/venv", str(venv))
        (tmp_path / name).write_text(text)
    (tmp_path / "tunnus-worker@1.service").symlink_to(tmp_path / "tunnus-worker@.service")
    (tmp_path / "tunnus-worker@2.service").symlink_to(tmp_path / "tunnus-worker@.service")
    files = [str(tmp_path / n) for n in UNITS if "@." not in n]
    files.append(str(tmp_path / "tunnus-worker@1.service"))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *files],
                            capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "tunnus" in line]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr


def test_every_service_restarts_and_runs_unprivileged():
    for name in UNITS:
        if not name.endswith(".service"):
            continue
        service = _unit(name)["Service"]
        assert service["Restart"] == "always", name
        assert service["User"] == "tunnus" and service["NoNewPrivileges"] == "true", name
        assert service["EnvironmentFile"] == "/etc/tunnus/tunnus.env", name


def test_the_target_brings_up_two_workers_the_scheduler_whois_and_the_dns_gate():
    wants = _unit("tunnus.target")["Unit"]["Wants"].split()
    assert wants == ["tunnus-worker@1.service", "tunnus-worker@2.service",
                     "tunnus-scheduler.service", "tunnus-whois.service",
                     "tunnus-dns-gate.service"]


def test_the_dns_gate_unit_is_skipped_where_no_gate_is_configured():
    service = _unit("tunnus-dns-gate.service")["Service"]
    assert service["ExecCondition"] == """/bin/sh -c 'test -n "$DNS_GATE_SERVER"'"""
    assert service["ExecStart"].endswith("tunnus dns gate")
