"""The official Peppol BIS Billing 3.0 rules run for real: OpenPEPPOL's example passes,
and the same document broken the ways Tunnus once broke it fails with the rule's id."""

from __future__ import annotations

import re
from datetime import date

from tests.support import peppol_rules

EXAMPLE = (peppol_rules.HERE / "base-example.xml").read_bytes()


def _rules(xml: bytes) -> set[str]:
    return {finding.rule for finding in peppol_rules.findings(xml) if finding.flag == "fatal"}


def test_openpeppols_own_example_passes_both_rule_sets():
    assert peppol_rules.fatal(EXAMPLE) == []


def test_an_e_mail_endpoint_scheme_is_fatal_cl008():
    """Issue 26: buyers without an e-invoice address were sent as schemeID="EM"."""
    broken = EXAMPLE.replace(b'schemeID="0002"', b'schemeID="EM"', 1)
    assert _rules(broken) == {"PEPPOL-EN16931-CL008"}


def test_cen_rules_run_too_totals_that_do_not_add_up_are_fatal():
    broken = re.sub(rb'<cbc:PayableAmount currencyID="EUR">[^<]*<',
                    b'<cbc:PayableAmount currencyID="EUR">1.00<', EXAMPLE)
    assert "BR-CO-16" in _rules(broken)


def test_the_rules_are_a_dated_official_release():
    """Dated, so a reader knows how old they are (tests/support/peppol/README.md says how
    to update them); the suite never fails just because the calendar moved."""
    version = peppol_rules.version()
    assert version["peppol_bis_billing"] == "3.0.19" and version["tag"] == "v3.0.19"
    assert "Last update: 2025 May release 3.0.19" in (
        peppol_rules.HERE / "PEPPOL-EN16931-UBL.sch").read_text()[:400]
    assert date.fromisoformat(version["updated"])
