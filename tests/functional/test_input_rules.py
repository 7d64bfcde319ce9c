"""The input rules of docs/api.md, one named case each (test_hostile_input.py sweeps them
over every operation)."""

import base64

import pytest

from tests.support.wallet import fund


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_json_nested_10000_deep_is_400_invalid_json(factory):
    api = factory.api()
    for body in ("[" * 10_000 + "]" * 10_000, '{"name": ' + "[" * 10_000 + "]" * 10_000 + "}"):
        response = api.client.post("/api/v1/contacts", data=body, headers={
            **api._headers(None), "Content-Type": "application/json",
            "Idempotency-Key": "deep-1"})
        assert response.status_code == 400
        assert response.json["code"] == "invalid_json"


def test_nan_and_infinity_are_not_json(factory):
    api = factory.api()
    response = api.client.post("/api/v1/wallet/topups", data='{"amount": NaN}', headers={
        **api._headers(None), "Content-Type": "application/json"})
    assert (response.status_code, response.json["code"]) == (400, "invalid_json")


@pytest.mark.parametrize("cursor", [
    _cursor("1" + "0" * 400), _cursor(str(2**63)), _cursor("-1"), _cursor("1.5"),
    _cursor("true"), _cursor('"12"'), _cursor("[1]"), _cursor('{"id": 1}'), "%%%", "x" * 500])
@pytest.mark.parametrize("path", ["/api/v1/domains", "/api/v1/wallet/transactions",
                                  "/api/v1/events?after=", "/api/v1/webhooks/deliveries"])
def test_crafted_cursors_are_400_invalid_cursor(factory, path, cursor):
    url = path + cursor if path.endswith("=") else f"{path}?cursor={cursor}"
    response = factory.api().get(url)
    assert (response.status_code, response.json["code"]) == (400, "invalid_cursor")


@pytest.mark.parametrize("limit", ["0", "201", "-1", " 5", "\u0661", "1e2", "1" + "0" * 400])
def test_limit_out_of_range_or_not_ascii_digits_is_400(factory, limit):
    response = factory.api().get("/api/v1/orders", query_string={"limit": limit})
    assert (response.status_code, response.json["code"]) == (400, "invalid_cursor")


@pytest.mark.parametrize("query", [
    "/api/v1/domains?status=bogus", "/api/v1/orders?state=bogus", "/api/v1/orders?kind=bogus",
    "/api/v1/webhooks/deliveries?status=bogus", "/api/v1/wallet/transactions?kind=bogus",
    "/api/v1/events?type=bogus", "/api/v1/events?type=order.completed&type=bogus",
    "/api/v1/domains?auto_renew=1", "/api/v1/webhooks/deliveries?endpoint_id=%C2%B2"])
def test_enum_and_boolean_filters_refuse_other_values_with_422(factory, query):
    response = factory.api().get(query)
    assert (response.status_code, response.json["code"]) == (422, "invalid_filter")


def test_a_valid_enum_filter_still_filters(factory):
    api = factory.api()
    assert api.get("/api/v1/orders?state=completed").json["items"] == []
    assert api.get("/api/v1/wallet/transactions?kind=topup&kind=hold").status_code == 200


@pytest.mark.parametrize("amount", [12.5, "1e2", " 12.50", "+1.00", "1,50", "1.005",
                                    "\u0661\u0662", "\uff11\uff12.50", "12.50\n", ""])
def test_amounts_are_ascii_decimal_strings_with_two_decimals_at_most(factory, amount):
    reseller = factory.reseller()
    fund(reseller.id, "100.00")
    api = factory.api(reseller)
    response = api.post("/api/v1/wallet/withdrawals", json={"amount": amount})
    assert response.status_code == 422 and "amount" in response.json["errors"]
    assert api.get("/api/v1/wallet").json["available"] == "100.00"  # nothing moved


@pytest.mark.parametrize("amount", ["12", "12.5", "12.50"])
def test_plain_decimal_amounts_are_accepted(factory, amount):
    reseller = factory.reseller()
    fund(reseller.id, "100.00")
    assert factory.api(reseller).post("/api/v1/wallet/withdrawals",
                                      json={"amount": amount}).status_code == 201


@pytest.mark.parametrize("value", ["true", 1, 0, "1", "yes", None])
def test_booleans_are_json_true_or_false_only(factory, value):
    api = factory.api()
    endpoint = api.post("/api/v1/webhooks/endpoints",
                        json={"url": "https://hooks.example.com/x"}).json
    response = api.patch(f"/api/v1/webhooks/endpoints/{endpoint['id']}", json={"active": value})
    assert response.status_code == 422 and "active" in response.json["errors"]
    assert api.get(f"/api/v1/webhooks/endpoints/{endpoint['id']}").json["active"] is True


@pytest.mark.parametrize("value", ["30", 30.0, True, 10**400])
def test_integers_are_json_integers_in_range(factory, value):
    response = factory.api().post("/api/v1/tokens", json={
        "name": "x", "scopes": ["account:read"], "expires_in_days": value})
    assert response.status_code == 422 and "expires_in_days" in response.json["errors"]


def test_form_amount_of_10_to_the_400_is_a_form_error(factory, client):
    user = factory.user()
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    response = client.post("/wallet/threshold", data={"threshold": "1" + "0" * 400},
                           follow_redirects=True)
    assert response.status_code < 500
    assert client.post("/password/forgot", data={"email": "a\x00b"}).status_code == 400
