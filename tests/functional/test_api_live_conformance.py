"""schemathesis's own CLI against a live server, the way issue 14 was found: every phase
(examples, coverage, fuzzing) and every response check, with a reseller owner's token.

The three operations that revoke the caller's own credentials (deleting its token or API
client, closing the account) would turn the rest of a run into 401s, so they get a run
of their own, last, with a fresh token: together the two runs cover every operation.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import demo_server

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")
SELF_REVOKING = r"^/api/v1/(tokens/\{|oauth-clients/\{|account/close)"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live-api")) as server:
        yield server


def _schemathesis(live, cwd, *selection: str) -> tuple[int, int, int, str]:
    """(operations in the document, operations tested, exit code, output) of one run.

    One worker: with several, hypothesis's lambda-source parsing in threads can crash
    CPython 3.11's ast module ("AST constructor recursion depth mismatch").
    """
    run = subprocess.run([
        SCHEMATHESIS, "run", f"{live.base}/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {live.personal_token()}", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing", "--max-examples", "5",
        "--generation-deterministic", "--workers", "1", "--no-color",
        "--suppress-health-check", "all", *selection,
    ], cwd=cwd, capture_output=True, text=True, timeout=600)
    selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested, run.stdout[-3000:] + run.stderr[-2000:]
    return int(selected.group(2)), int(tested.group(1)), run.returncode, run.stdout


@pytest.mark.slow
def test_live_api_passes_every_check_in_every_phase(live, tmp_path):
    total, tested, code, out = _schemathesis(live, tmp_path,
                                             "--exclude-path-regex", SELF_REVOKING)
    assert (tested, code) == (total - 3, 0), out[-6000:]
    assert "401 Unauthorized" not in out, "the token stopped working mid-run"
    _, revoking, code, out = _schemathesis(live, tmp_path,
                                           "--include-path-regex", SELF_REVOKING)
    assert (revoking, code) == (3, 0), out[-6000:]
