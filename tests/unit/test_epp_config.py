"""``REGISTRY_ADAPTER=epp`` reads ``EPP_REGISTRIES`` at start-up: a mistake stops the app
with a message naming the registry and the setting; names are routed by TLD."""

import json

import pytest

from reseller.core.config import ConfigError
from reseller.registry.epp.router import EppRouter
from reseller.registry.errors import RegistryRejected
from reseller.registry.services import registry_from_config

GOOD = {"name": "traficom", "tlds": ["fi", "ax.fi"], "host": "epp.example",
        "client_id": "tunnus-fi", "password": "pw-123456", "profile": "fi"}
GTLD = {"name": "gtld", "tlds": ["com", ".net"], "host": "epp.gtld.example",
        "client_id": "tunnus-g", "password_env": "TEST_EPP_PW", "profile": "thin"}


def build(*entries, **config):
    return registry_from_config({"REGISTRY_ADAPTER": "epp", "REGISTRY_CLIENT_ID": "tunnus",
                                 "EPP_REGISTRIES": json.dumps(list(entries)), **config})


def test_names_are_routed_to_the_registry_of_their_tld(monkeypatch):
    monkeypatch.setenv("TEST_EPP_PW", "pw-from-env")
    router = build(GOOD, GTLD)
    assert isinstance(router, EppRouter)
    assert router.for_name("esimerkki.fi").name == "traficom"
    assert router.for_name("sub.esimerkki.ax.fi") is router.for_name("x.ax.fi")
    assert router.for_name("example.net").profile.name == "thin"
    assert router.for_name("example.net").pool.endpoint.password == "pw-from-env"
    assert router.for_name("esimerkki.fi").own_id == "tunnus-fi"
    assert router.registrar_id == "tunnus"
    with pytest.raises(RegistryRejected) as refused:
        router.for_name("example.org")
    assert refused.value.code == 2306


@pytest.mark.parametrize("registries, complaint", [
    ("", "needs EPP_REGISTRIES"),
    ("{not json", "not valid JSON"),
    ("[]", "needs EPP_REGISTRIES"),
    (json.dumps([{**GOOD, "host": ""}]), r"EPP_REGISTRIES\[traficom\]: missing host"),
    (json.dumps([{**GOOD, "password": ""}]), "password_env"),
    (json.dumps([{**GOOD, "profile": "xx"}]), "unknown EPP profile 'xx'"),
    (json.dumps([{**GOOD, "cert": "/nonexistent/cert.pem", "key": "/x"}]), "cert file"),
    (json.dumps([{**GOOD, "port": "seitsemänsataa"}]), r"EPP_REGISTRIES\[traficom\]"),
    (json.dumps([GOOD, {**GOOD, "name": "again", "tlds": ["fi"]}]), "served by two"),
    (json.dumps([{**GOOD, "tlds": "fi"}]), "tlds must be a list"),
    # a domain command is leased to its sender for 5 minutes: four timeouts must fit
    (json.dumps([{**GOOD, "timeout": 90}]), "timeout must be over 0 and at most 60"),
    (json.dumps([{**GOOD, "timeout": 0}]), "timeout must be over 0"),
])
def test_a_bad_registry_configuration_stops_the_start(registries, complaint):
    with pytest.raises(ConfigError, match=complaint):
        registry_from_config({"REGISTRY_ADAPTER": "epp", "EPP_REGISTRIES": registries})
