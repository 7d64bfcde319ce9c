"""The Knot ACL rules each zone-key scope gets, per Knot version (3.2 has no owner
patterns; 3.3+ matches ``*`` as one label). The rules themselves are exercised against a
real Knot 3.2 in tests/integration/test_zone_keys_knot.py."""

from __future__ import annotations

from reseller.dns.keys import admits
from reseller.dns.publishers import KnotPublisher
from reseller.dns.records import RR


def publisher(version: tuple[int, ...]) -> KnotPublisher:
    server = KnotPublisher({"DNS_SERVER": "127.0.0.1:53", "DNS_TSIG_NAME": "t",
                            "DNS_TSIG_SECRET": "c2VjcmV0"})
    server._version = version
    return server


def test_records_rules_never_name_soa_and_allow_ns_only_below_the_apex():
    main, delegations = publisher((3, 2, 6)).acl_rules("example.fi", "records-1-ab", "records")
    assert main["action"] == ["update", "transfer"]
    assert "SOA" not in main["update-type"] and "NS" not in main["update-type"]
    assert "NS" in delegations["update-type"] and "SOA" not in delegations["update-type"]
    assert delegations["update-owner"] == ["zone"]
    assert delegations["update-owner-match"] == ["sub"]


def test_a_read_key_may_only_transfer():
    assert publisher((3, 2, 6)).acl_rules("example.fi", "read-1-ab", "read") == [
        {"id": ["read-1-ab"], "action": ["transfer"]}]


def test_acme_rule_uses_owner_patterns_from_knot_3_3():
    (rule,) = publisher((3, 3, 0)).acl_rules("example.fi", "acme-1-ab", "acme")
    assert rule["update-type"] == ["TXT"] and rule["update-owner-match"] == ["pattern"]
    patterns = rule["update-owner-name"]
    assert patterns[:3] == ["_acme-challenge", "_acme-challenge.*", "_acme-challenge.*.*"]
    deepest = patterns[-1] + ".example.fi."
    assert len(deepest) <= 254  # no deeper name fits in the zone


def test_acme_rule_on_knot_3_2_is_txt_in_the_zone_and_sync_keeps_the_scope():
    (rule,) = publisher((3, 2, 6)).acl_rules("example.fi", "acme-1-ab", "acme")
    assert rule["update-type"] == ["TXT"] and rule["update-owner"] == ["zone"]
    assert admits("acme", RR("_acme-challenge.new.deep", "TXT", 60, '"v"'))
    assert not admits("acme", RR("www", "TXT", 60, '"v"'))
    assert not admits("acme", RR("_acme-challenge", "A", 60, "192.0.2.1"))
    assert admits("records", RR("lab", "NS", 3600, "ns1.example.net."))
    assert not admits("records", RR("@", "NS", 3600, "ns1.example.net."))
    assert not admits("read", RR("www", "A", 60, "192.0.2.1"))
