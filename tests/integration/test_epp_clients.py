"""Independent EPP clients against the sandbox EPP server: PyPI's ``epptools`` and
Debian's ``Net::EPP::Client`` (libnet-epp-perl), each over mutual TLS. If they speak to
it, the server speaks EPP and not just what our own tests send."""

import shutil
import subprocess
from pathlib import Path

import pytest

PERL_SCRIPT = Path(__file__).resolve().parents[1] / "support" / "net_epp_client.pl"


def test_epptools_logs_in_checks_creates_infos_and_transfers(epp_server):
    epptools = pytest.importorskip("epptools", reason="pip install epptools (test extras)")
    epp_server.seed_foreign("python-vieras.fi", "Python-koodi1")
    client = epptools.Client(epptools.Config(
        host=epp_server.host, port=epp_server.port, clid=epp_server.client_id,
        password=epp_server.password, ca_file=str(epp_server.ca),
        client_cert=str(epp_server.client_cert), client_key=str(epp_server.client_key)))
    with client:
        assert client.login().code() == 1000
        checked = client.domain.check(["python-uusi.fi", "python-vieras.fi", "kauppa.fi"],
                                      fee={"create": 1})
        assert checked.availability() == {"python-uusi.fi": True, "python-vieras.fi": False,
                                          "kauppa.fi": True}
        assert checked.fee_for("kauppa.fi", "create", 1) == "250.00"
        created = client.domain.create("python-uusi.fi", years=1, registrant="TNPY1",
                                       contacts={"admin": "TNPY1", "tech": "TNPY1"},
                                       nameservers=["ns1.example.net"], auth_info="Py-koodi-1")
        assert created.code() == 1000
        found = client.domain.info("python-uusi.fi")
        assert found.value("clID") == "tunnus"
        assert found.values("hostObj") == ["ns1.example.net"]
        asked = client.domain.transfer("request", "python-vieras.fi", "Python-koodi1", 1)
        assert asked.code() == 1001 and asked.value("trStatus") == "pending"
        assert client.domain.transfer("query", "python-vieras.fi").value("trStatus") == (
            "pending")
        assert client.poll.request().code() == 1300
        client.logout()


def test_net_epp_client_logs_in_checks_creates_infos_and_transfers(epp_server):
    if shutil.which("perl") is None or subprocess.run(
            ["perl", "-MNet::EPP::Client", "-e", "1"], capture_output=True).returncode:
        pytest.skip("Net::EPP::Client is missing: apt-get install libnet-epp-perl "
                    "(make system-deps)")
    epp_server.seed_foreign("perl-vieras.fi", "Perl-vieras-1")
    run = subprocess.run(
        ["perl", str(PERL_SCRIPT), epp_server.host, str(epp_server.port), str(epp_server.ca),
         str(epp_server.client_cert), str(epp_server.client_key), epp_server.client_id,
         epp_server.password, "perl-uusi.fi", "perl-vieras.fi", "Perl-vieras-1"],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    steps = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    assert steps["greeting"] == "3"
    assert steps["login"] == "1000"
    assert steps["check"] == "1000 1"
    assert steps["create"].startswith("1000 ")
    assert steps["info"] == "1000 tunnus TNPERL1"
    assert steps["transfer"] == "1001 pending"
    assert steps["query"] == "1000 pending"
    assert steps["poll"] == "1300"
    assert steps["logout"] == "1500"
