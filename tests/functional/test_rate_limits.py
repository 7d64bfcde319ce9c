"""Per-tier rate limits with IETF RateLimit headers and 429 problem+json."""

import pytest

from reseller.core.config import ConfigError, load_config


@pytest.fixture
def tiny_limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMITS", {
        "standard": "3/hour", "plus": "5/hour", "pro": "5/hour", "enterprise": "unlimited"})
    app.extensions["tunnus.limiter"].reset()  # ids repeat across rolled-back tests on SQLite


@pytest.mark.smoke
def test_standard_tier_gets_429_with_retry_after_past_its_limit(factory, tiny_limits):
    api = factory.api(factory.reseller(tier="standard"))
    statuses = [api.get("/api/v1/account").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = api.get("/api/v1/account")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["RateLimit-Remaining"] == "0"


def test_headers_count_down_and_name_the_policy(factory, tiny_limits):
    api = factory.api(factory.reseller())
    first = api.get("/api/v1/account")
    second = api.get("/api/v1/users")
    assert first.headers["RateLimit-Limit"] == "3"
    assert first.headers["RateLimit-Remaining"] == "2"
    assert second.headers["RateLimit-Remaining"] == "1"  # one budget across routes
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 3600
    assert first.headers["RateLimit-Policy"] == "3;w=3600"


def test_limits_are_per_reseller_and_per_tier(factory, tiny_limits):
    plus = factory.api(factory.reseller(tier="plus"))
    assert plus.get("/api/v1/account").headers["RateLimit-Limit"] == "5"
    one, other = factory.reseller(), factory.reseller()
    first = factory.api(one)
    for _ in range(3):
        first.get("/api/v1/account")
    assert first.get("/api/v1/account").status_code == 429
    # Two tokens of the same reseller share its budget; another reseller has its own.
    assert factory.api(one).get("/api/v1/account").status_code == 429
    assert factory.api(other).get("/api/v1/account").status_code == 200


def test_enterprise_is_unlimited(factory, tiny_limits):
    api = factory.api(factory.reseller(tier="enterprise"))
    responses = [api.get("/api/v1/account") for _ in range(6)]
    assert {r.status_code for r in responses} == {200}
    assert "RateLimit-Limit" not in responses[-1].headers


def test_a_volume_tier_names_its_rate_limit_tier(factory, tiny_limits):
    from decimal import Decimal

    from reseller.catalog import services as catalog
    from reseller.core.db import unit_of_work

    with unit_of_work():
        catalog.create_tier(code="partner", name="Partner", threshold=Decimal("0"),
                            rate_limit="enterprise", rate_limits={"enterprise": "unlimited"})
    api = factory.api(factory.reseller(tier="partner"))
    responses = [api.get("/api/v1/account") for _ in range(6)]
    assert {r.status_code for r in responses} == {200}
    assert "RateLimit-Limit" not in responses[-1].headers


def test_a_request_reads_no_tier_and_an_edited_tier_applies_once_committed(factory,
                                                                          tiny_limits):
    """The tiers' rate limits are kept per app: an API request reads no statement for its
    tier (the reseller is authentication's), and a tier edited here applies at once."""
    from decimal import Decimal

    from reseller.catalog import services as catalog
    from reseller.core.db import unit_of_work
    from tests.support import counting

    with unit_of_work():
        catalog.create_tier(code="kumppani", name="Kumppani", threshold=Decimal("0"),
                            rate_limit="plus", rate_limits={"plus": "5/hour"})
    api = factory.api(factory.reseller(tier="kumppani"))
    assert api.get("/api/v1/account").headers["RateLimit-Limit"] == "5"
    with counting.statements() as statements:
        assert api.get("/api/v1/account").status_code == 200
    assert not [s for s in statements if "TIERS" in s]
    with unit_of_work():
        catalog.update_tier(code="kumppani", name="Kumppani", threshold=Decimal("0"),
                            rate_limit="enterprise", rate_limits={"enterprise": "unlimited"})
    assert "RateLimit-Limit" not in api.get("/api/v1/account").headers


def test_client_area_is_not_rate_limited(client, tiny_limits):
    for _ in range(5):
        assert client.get("/login").status_code == 200


def test_rate_limits_are_configurable_from_the_environment():
    config = load_config({"RATE_LIMITS": "standard=100/minute,enterprise=unlimited"})
    assert config["RATE_LIMITS"]["standard"] == "100/minute"
    assert config["RATE_LIMITS"]["plus"] == "60000/hour"
    assert load_config({})["RATE_LIMITS"]["standard"] == "20000/hour"
    with pytest.raises(ConfigError):
        load_config({"RATE_LIMITS": "standard=lots"})


def test_whmcs_calls_share_the_resellers_budget(factory, tiny_limits):
    reseller = factory.reseller()
    api = factory.api(reseller)
    for _ in range(3):
        api.get("/api/v1/account")
    refused = api.post("/whmcs/v1/GetNameservers", json={"sld": "x", "tld": "fi"})
    assert refused.status_code == 429 and refused.headers["Retry-After"]


def test_acme_httpreq_calls_share_the_resellers_budget(factory, tiny_limits):
    import base64

    reseller = factory.reseller()
    token = factory.token(reseller, scopes=["dns:write"])
    api = factory.api(reseller)
    for _ in range(3):
        api.get("/api/v1/account")
    basic = base64.b64encode(f"lego:{token}".encode()).decode()
    refused = api.client.post("/acme/httpreq/present", headers={"Authorization": f"Basic {basic}"},
                              json={"fqdn": "_acme-challenge.example.fi.", "value": "v"})
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.json["code"] == "rate_limited"


def test_rdap_has_a_budget_per_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "RDAP_RATE_LIMIT", "2/minute")
    app.extensions["tunnus.limiter"].reset()
    one = {"environ_base": {"REMOTE_ADDR": "198.51.100.60"}}
    statuses = [client.get("/rdap/domain/nothing-here.fi", **one).status_code for _ in range(2)]
    assert statuses == [404, 404]
    refused = client.get("/rdap/help", **one)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["errorCode"] == 429 and refused.json["code"] == "rate_limited"
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    other = client.get("/rdap/help", environ_base={"REMOTE_ADDR": "198.51.100.61"})
    assert other.status_code == 200


def test_rdap_rate_limit_is_checked_at_start_up():
    assert load_config({"RDAP_RATE_LIMIT": "10/second"})["RDAP_RATE_LIMIT"] == "10/second"
    with pytest.raises(ConfigError):
        load_config({"RDAP_RATE_LIMIT": "often"})
