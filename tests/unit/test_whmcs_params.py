from werkzeug.datastructures import MultiDict

from reseller.whmcs.params import nest


def test_php_style_nested_keys_become_dicts_and_lists():
    form = MultiDict([
        ("sld", "esimerkki"), ("contacts[registrant][firstname]", "Maija"),
        ("contacts[registrant][lastname]", "M"), ("contactdetails[Admin][First Name]", "Antti"),
        ("tldsToInclude[0]", ".fi"), ("tldsToInclude[1]", ".com"),
        ("dnsrecords[0][hostname]", "@"), ("dnsrecords[0][type]", "A"),
        ("dnsrecords[1][hostname]", "www"), ("ns[]", "a"), ("ns[]", "b"),
    ])
    data = nest(form)
    assert data["sld"] == "esimerkki"
    assert data["contacts"] == {"registrant": {"firstname": "Maija", "lastname": "M"}}
    assert data["contactdetails"]["Admin"]["First Name"] == "Antti"
    assert data["tldsToInclude"] == [".fi", ".com"]
    assert data["dnsrecords"] == [{"hostname": "@", "type": "A"}, {"hostname": "www"}]
    assert data["ns"] == ["a", "b"]
