"""E-invoice addresses (EndpointID) with the scheme the Peppol code list gives them:
Finnish OVT codes 0216, IBAN-form addresses 9918, GLNs 0088; buyers without an address
get their VAT number's scheme (issue 26: e-mail, EM, fails PEPPOL-EN16931-CL008)."""

import pytest

from wallet.invoices.einvoice import _endpoint

# The EAS codes PEPPOL-EN16931-CL008 accepts (Peppol BIS Billing 3.0.19 rule file).
PEPPOL_EAS = set("""0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0177
0183 0184 0188 0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 0208 0209 0210
0211 0212 0213 0215 0216 0218 0221 0230 0235 9910 9913 9914 9915 9918 9919 9920 9922 9923
9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941
9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959 0147 0154 0158 0170
0194 0203 0205 0217 0225 0240""".split())


@pytest.mark.parametrize("party, expected", [
    ({"einvoice_address": "003724644919", "country": "FI"}, ("0216", "003724644919")),
    ({"einvoice_address": "0037 2464 4919 100", "country": "FI"}, ("0216", "003724644919100")),
    ({"einvoice_address": "FI21 1234 5600 0007 85", "country": "FI"},
     ("9918", "FI2112345600000785")),
    ({"einvoice_address": "5790000435968", "country": "DK"}, ("0088", "5790000435968")),
    ({"country": "FI", "business_id": "2464491-9"}, ("0216", "003724644919")),
    ({"country": "DE", "vat_id": "DE 123456789", "email": "a@b.de"}, ("9930", "DE123456789")),
    ({"country": "GB", "vat_id": "GB980780684", "email": "a@b.uk"}, ("9932", "GB980780684")),
    ({"country": "SE", "business_id": "5560360793", "email": "a@b.se"}, ("0007", "5560360793")),
])
def test_addresses_get_the_scheme_the_code_list_gives_them(party, expected):
    assert _endpoint(party) == expected
    assert expected[0] in PEPPOL_EAS
