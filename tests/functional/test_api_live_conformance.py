"""schemathesis's own CLI against a live server, the way issue 14 was found: every phase
(examples, coverage, fuzzing) and every response check, with a reseller owner's token.

The three operations that revoke the caller's own credentials (deleting its token or API
client, closing the account) would turn the rest of the run into 401s; the in-process
test (test_api_fuzz.py) covers them with a fresh token per case.
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


@pytest.mark.slow
def test_live_api_passes_every_check_in_every_phase(live, tmp_path):
    token = live.personal_token()
    run = subprocess.run([
        SCHEMATHESIS, "run", f"{live.base}/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing", "--max-examples", "5", "--seed", "14",
        "--generation-database", "none", "--workers", "2", "--no-color",
        "--exclude-path-regex", SELF_REVOKING, "--suppress-health-check", "all",
    ], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = run.stdout
    selected = re.search(r"Selected: (\d+)/(\d+)", out)
    tested = re.search(r"Tested: (\d+)", out)
    assert selected and tested, out[-3000:]
    assert int(tested.group(1)) == int(selected.group(2)) - 3, out[-3000:]
    assert run.returncode == 0, out[-6000:]
    assert "401 Unauthorized" not in out, "the token stopped working mid-run"
