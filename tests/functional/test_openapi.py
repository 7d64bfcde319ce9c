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


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_error_is_a_problem_and_every_authenticated_operation_can_refuse(client):
    spec = client.get("/api/v1/openapi.json").json
    problem = {"$ref": "#/components/schemas/Problem"}
    for label, operation in _operations(spec):
        responses = operation["responses"]
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/problem+json"]["schema"]
                name = schema["$ref"].rpartition("/")[2]
                # The Problem itself, or a named extension of it (e.g. PriceProblem).
                assert name == "Problem" or spec["components"]["schemas"][name][
                    "allOf"][0] == problem, label
        expected = {"400", "422", "429"} | ({"401", "403"} if operation["security"] else set())
        if "requestBody" in operation:
            expected.add("413")
        if "{" in label:
            expected.add("404")
        assert expected <= set(responses), label


def test_successes_declare_their_real_status_and_media_type(client):
    spec = client.get("/api/v1/openapi.json").json
    operations = dict(_operations(spec))
    put_zone = operations["PUT /api/v1/domains/{name}/dns"]["responses"]
    assert {"200", "201"} <= set(put_zone)  # 201 when the zone is hosted for the first time
    pdf = operations["GET /api/v1/invoices/{number}.pdf"]["responses"]["200"]["content"]
    assert pdf == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert "text/dns" in operations["GET /api/v1/domains/{name}/dns/zonefile"][
        "responses"]["200"]["content"]
    assert set(operations["PUT /api/v1/domains/{name}/dns/zonefile"]["requestBody"][
        "content"]) == {"text/dns", "text/plain"}
    for label, operation in operations.items():
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], label


def test_every_response_property_has_a_type(client):
    """A computed field (``fields.Method``/``Function``) documents its shape in metadata;
    untyped, a generated client would see ``Any``."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    typed = {"type", "$ref", "allOf", "oneOf", "anyOf"}
    untyped = [f"{name}.{prop}" for name, schema in schemas.items()
               for prop, spec in schema.get("properties", {}).items() if not typed & set(spec)]
    assert untyped == []
