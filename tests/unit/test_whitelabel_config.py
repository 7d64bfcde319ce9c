import pytest

from reseller.core.config import ConfigError, check_production, load_config
from tests.unit.test_config import PRODUCTION
from whitelabel.settings import Settings


@pytest.mark.parametrize("key", ["NEUTRAL_SENDER_DOMAIN", "NEUTRAL_LINK_HOST"])
def test_production_refuses_a_neutral_domain_that_carries_the_operator_brand(key):
    config = load_config({**PRODUCTION, "OPERATOR_BRAND": "Nimipalvelu",
                          key: "mail.nimipalvelu.fi"})
    with pytest.raises(ConfigError, match=key):
        check_production(config)


def test_neutral_link_host_defaults_per_mode():
    production = Settings.from_config(load_config({**PRODUCTION,
                                                   "NEUTRAL_SENDER_DOMAIN": "relay.example"}))
    assert production.neutral_link_host == "links.relay.example"
    assert production.link_scheme == "https"
    assert production.spf_include == "_spf.relay.example"
    sandbox = Settings.from_config(load_config({"BASE_URL": "http://127.0.0.1:5000"}))
    assert sandbox.neutral_link_host == "127.0.0.1:5000" and sandbox.link_scheme == "http"


def test_dns_resolver_setting_takes_host_and_port():
    from whitelabel.sender import resolver_for

    settings = Settings.from_config(load_config({"DNS_RESOLVER": "127.0.0.1:15353"}))
    resolver = resolver_for(settings)
    assert resolver.nameservers == ["127.0.0.1"] and resolver.port == 15353
