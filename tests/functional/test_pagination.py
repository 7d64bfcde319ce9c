"""Every list endpoint pages by cursor with a `next` link."""

import pytest


def test_users_page_with_next_link_keeping_filters(factory):
    reseller = factory.reseller()
    for _ in range(4):
        factory.user(reseller, role="technical")
    api = factory.api(reseller)
    first = api.get("/api/v1/users?limit=2").json
    assert len(first["items"]) == 2 and "limit=2" in first["next"]
    second = api.get(first["next"]).json
    third = api.get(second["next"]).json
    ids = [u["id"] for u in first["items"] + second["items"] + third["items"]]
    assert len(ids) == len(set(ids)) == 5  # four users and the token's owner
    assert third["next"] is None


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/oauth-clients",
                                  "/api/v1/webhooks/endpoints", "/api/v1/webhooks/deliveries"])
def test_lists_are_pages(factory, path):
    body = factory.api().get(path + "?limit=1").json
    assert set(body) == {"items", "next"}


def test_every_documented_list_takes_a_cursor_and_returns_next(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    offenders = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        content = get["responses"].get("200", {}).get("content", {}).get("application/json")
        if not content:
            continue
        schema = content["schema"]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if schema.get("type") == "array":
            offenders.append(f"{path}: bare array")
            continue
        if "items" not in schema.get("properties", {}):
            continue
        params = {p["name"] for p in get.get("parameters", [])}
        if "next" not in schema["properties"] or not params & {"cursor", "after"}:
            offenders.append(path)
    assert offenders == []


def test_bad_limit_is_400(factory):
    response = factory.api().get("/api/v1/users?limit=0")
    assert response.status_code == 400
