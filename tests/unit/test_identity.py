import pytest

from reseller.core.identity import (
    InvalidIdentifier,
    normalize_business_id,
    normalize_vat_id,
    vat_status,
)


def test_finnish_business_id_checksum_is_enforced():
    assert normalize_business_id("FI", "2464491-9") == "2464491-9"
    with pytest.raises(InvalidIdentifier):
        normalize_business_id("FI", "2464491-8")


def test_swedish_org_number_is_checked():
    assert normalize_business_id("SE", "556036-0793")
    with pytest.raises(InvalidIdentifier):
        normalize_business_id("SE", "556036-0794")


def test_vat_id_must_belong_to_the_country():
    assert normalize_vat_id("SE", "SE556036079301") == "SE556036079301"
    with pytest.raises(InvalidIdentifier, match="another country"):
        normalize_vat_id("FI", "SE556036079301")


def test_vat_id_without_prefix_gets_the_country_prefix():
    assert normalize_vat_id("FI", "24644919") == "FI24644919"


def test_vat_status_by_country_and_vat_id():
    assert vat_status("FI", "FI24644919") == "domestic"
    assert vat_status("SE", "SE556036079301") == "reverse_charge"
    assert vat_status("SE", None) == "domestic"
    assert vat_status("GB", "GB980780684") == "outside_scope"
