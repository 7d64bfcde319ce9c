import pytest
from openapi_spec_validator import validate

SKIP = {"api.api_root.openapi", "api.api_root.docs"}


@pytest.mark.smoke
def test_openapi_document_is_valid(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    assert "oauth2" in spec["components"]["securitySchemes"]


def test_every_api_route_is_documented(app, client):
    spec = client.get("/api/v1/openapi.json").json
    undocumented = [
        rule.rule for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.endpoint not in SKIP
        and not hasattr(app.view_functions[rule.endpoint], "_openapi")
    ]
    assert undocumented == []
    assert "/api/v1/account" in spec["paths"]


def test_docs_page_renders(client):
    assert client.get("/api/v1/docs").status_code == 200
