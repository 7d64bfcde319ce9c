"""Every feature wires itself in its ``init_app``: a fresh process that only builds the app
knows every periodic job and every event listener defined in the code (found here by
reading the source, not by importing it)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("reseller", "wallet", "whitelabel")

FRESH_APP = """
import json
from reseller.app import create_app
from reseller.core import events, jobs
app = create_app()
listeners = [[f"{f.__module__}.{f.__qualname__}", kind, deferred]
             for deferred, registry in ((False, events._LISTENERS), (True, events._DEFERRED),
                                        ("batch", events._DEFERRED_BATCH))
             for kind, functions in registry.items()
             for f in (getattr(g, "listener", g) for g in functions)]  # batch: its listener
print(json.dumps({"periodic": {job.name: job.path for job in jobs.PERIODIC.values()},
                  "listeners": listeners}))
"""


def _decorated(decorator: str) -> list[tuple[str, ast.Call]]:
    """(module.function, decorator call) for every function decorated ``@decorator(...)``."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.FunctionDef):
                    continue
                for call in node.decorator_list:
                    if isinstance(call, ast.Call) and getattr(call.func, "id", None) == decorator:
                        found.append((f"{module}.{node.name}", call))
    return found


def _deferred(call: ast.Call) -> bool:
    return any(k.arg == "deferred" and ast.literal_eval(k.value) for k in call.keywords)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNNUS_ENV": "sandbox", "DATABASE_URL": "",
           "REDIS_URL": "", "INSTANCE_DIR": str(tmp_path_factory.mktemp("fresh"))}
    result = subprocess.run([sys.executable, "-c", FRESH_APP], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1]), env


def test_a_fresh_app_schedules_exactly_the_periodic_jobs_in_the_code(fresh):
    known, _ = fresh
    in_code = {ast.literal_eval(call.args[0]): function
               for function, call in _decorated("periodic")}
    assert len(in_code) >= 20
    assert known["periodic"] == in_code


def test_a_fresh_app_subscribes_every_listener_in_the_code(fresh):
    known, _ = fresh
    in_code = {(function, ast.literal_eval(call.args[0]), _deferred(call))
               for function, call in _decorated("on_event")}
    in_code |= {(function, ast.literal_eval(kind), "batch")  # on_events: deferred, batch form
                for function, call in _decorated("on_events") for kind in call.args}
    assert len(in_code) >= 25
    assert {tuple(listener) for listener in known["listeners"]} == in_code


def test_flask_jobs_list_lists_every_periodic_job(fresh):
    known, env = fresh
    listed = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "list"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                            check=True).stdout
    assert {line.split()[0] for line in listed.splitlines() if line.strip()} == \
        set(known["periodic"])
