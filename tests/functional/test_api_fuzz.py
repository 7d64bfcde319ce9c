"""schemathesis against the live OpenAPI document with a reseller token: no 5xx, and every
response matches its documented status code, content type, headers and schema.

Bounded and deterministic: a few derandomized examples per operation and generation mode,
all inside one rolled-back test transaction.
"""

import secrets

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
MIN_OPERATIONS = 25


def _token_maker(factory):
    """A fresh token per case for one owner (a case may revoke its own token)."""
    from reseller.accounts import services
    from reseller.accounts.models import AccessToken
    from reseller.core.extensions import db

    owner = factory.user(role="owner")
    scopes = " ".join(sorted(services.scopes_for_role("owner")))

    def make() -> dict:
        raw = services.PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(24)
        db.session.add(AccessToken(reseller_id=owner.reseller_id, kind="personal",
                                   user_id=owner.id, name="fuzz", prefix=raw[:12],
                                   token_hash=services.hash_token(raw), scopes=scopes))
        db.session.commit()  # a savepoint release inside the test's transaction
        return {"Authorization": f"Bearer {raw}"}

    return make


def _fuzz(operation, mode, make_headers, calls):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call_and_validate(headers=make_headers(), checks=CHECKS)
        calls.append(response.status_code)

    run()


@pytest.mark.slow
def test_api_conforms_to_its_openapi_document(app, factory):
    from reseller.core.extensions import db

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    document = app.test_client().get("/api/v1/openapi.json").json
    documented = sum(len(item) for item in document["paths"].values())
    headers = _token_maker(factory)
    failures, count, calls = [], 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        count += 1
        for mode in EXAMPLES:
            try:
                _fuzz(operation, mode, headers, calls)
            except BaseException as error:  # collect every operation's findings, then fail
                if isinstance(error, KeyboardInterrupt):
                    raise
                db.session.rollback()
                subs = getattr(error, "exceptions", ())
                failures.append(f"{operation.label} [{mode.value}]: {error} "
                                + " | ".join(map(str, subs)))
    assert failures == [], "\n\n".join(failures)
    assert count == documented >= MIN_OPERATIONS and len(calls) >= 5 * count
    assert any(200 <= status < 300 for status in calls)


def test_openapi_documents_enough_operations(client):
    spec = client.get("/api/v1/openapi.json").json
    operations = [(path, method) for path, item in spec["paths"].items() for method in item]
    assert len(operations) >= 25
