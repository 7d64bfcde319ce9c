"""The payment providers' documented HTTP APIs, served on loopback: a stand-in for the
network the tests cannot reach (Stripe, PayPal, Paytrail), not a mock of our own code.

Each endpoint checks what the provider's documentation requires of a request (auth,
headers, fields, Paytrail's request signature) and answers with the documented shape;
every request is kept in ``ProviderApis.requests`` for the tests to assert on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STRIPE_KEY = "sk_test_tunnus"
PAYPAL_CLIENT, PAYPAL_SECRET = "paypal-client", "paypal-secret"
PAYTRAIL_ACCOUNT, PAYTRAIL_SECRET = "375917", "SAIPPUAKAUPPIAS"  # Paytrail's test merchant


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ProviderApis:
    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    payment_methods: dict[str, dict] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)

    def seen(self, method: str, prefix: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]


def paytrail_signature(headers: dict[str, str], body: str, secret: str) -> str:
    """Paytrail's HMAC (docs: "Signature calculation") over checkout-* headers + body."""
    lines = [f"{k}:{headers[k]}" for k in sorted(headers) if k.startswith("checkout-")]
    return hmac.new(secret.encode(), "\n".join([*lines, body]).encode(),
                    hashlib.sha256).hexdigest()


def _checkout_session_problem(form: dict[str, str]) -> str | None:
    """What Stripe's API reference (Create a Checkout Session) refuses, for the modes used."""
    mode = form.get("mode")
    if mode not in ("payment", "setup"):
        return "mode must be payment, setup or subscription"
    if not form.get("success_url"):
        return "success_url is required"
    if "customer" in form and ("customer_email" in form or "customer_creation" in form):
        return "customer cannot be used with customer_email or customer_creation"
    if mode == "setup":
        if any(key.startswith("line_items") for key in form):
            return "line_items cannot be used in setup mode"
        if not form.get("currency") and "allowed_payment_method_types[0]" not in form:
            return "currency is required in setup mode when allowed_payment_method_types is not set"
    elif not any(key.startswith("line_items") for key in form):
        return "line_items is required in payment mode"
    return None


def _stripe(api: ProviderApis, seen: Seen) -> tuple[int, dict]:
    if seen.headers.get("authorization") != f"Bearer {STRIPE_KEY}":
        return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}
    if seen.method == "POST" and seen.path == "/v1/checkout/sessions":
        form = seen.form
        if problem := _checkout_session_problem(form):
            return 400, {"error": {"type": "invalid_request_error", "message": problem}}
        session = f"cs_test_{len(api.requests)}"
        return 200, {"id": session, "object": "checkout.session", "mode": form.get("mode"),
                     "url": f"https://checkout.stripe.com/c/pay/{session}",
                     "customer": form.get("customer"),
                     "payment_status": "unpaid" if form.get("mode") == "payment"
                     else "no_payment_required", "status": "open"}
    if seen.method == "POST" and seen.path == "/v1/customers":
        customer = f"cus_test_{len(api.requests)}"
        api.customers[customer] = seen.form
        return 200, {"id": customer, "object": "customer", "email": seen.form.get("email")}
    if seen.method == "GET" and seen.path.startswith("/v1/payment_methods/"):
        found = api.payment_methods.get(seen.path.rsplit("/", 1)[-1])
        if found is None:
            return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
        return 200, found
    return 404, {"error": {"message": f"no route {seen.path}"}}


def _paypal(api: ProviderApis, seen: Seen) -> tuple[int, dict]:
    if seen.path == "/v1/oauth2/token":
        basic = base64.b64encode(f"{PAYPAL_CLIENT}:{PAYPAL_SECRET}".encode()).decode()
        if seen.headers.get("authorization") != f"Basic {basic}" or \
                seen.form.get("grant_type") != "client_credentials":
            return 401, {"error": "invalid_client"}
        return 200, {"access_token": "A21-test", "token_type": "Bearer", "expires_in": 32400}
    if seen.headers.get("authorization") != "Bearer A21-test":
        return 401, {"name": "AUTHENTICATION_FAILURE"}
    if seen.method == "POST" and seen.path == "/v2/checkout/orders":
        order = f"5O190127TN{len(api.requests):06d}"
        return 201, {"id": order, "status": "PAYER_ACTION_REQUIRED", "links": [
            {"href": f"https://api-m.sandbox.paypal.com/v2/checkout/orders/{order}",
             "rel": "self", "method": "GET"},
            {"href": f"https://www.sandbox.paypal.com/checkoutnow?token={order}",
             "rel": "payer-action", "method": "GET"}]}
    if seen.method == "POST" and seen.path.endswith("/capture"):
        order = seen.path.split("/")[-2]
        return 201, {"id": order, "status": "COMPLETED"}
    return 404, {"name": "RESOURCE_NOT_FOUND"}


def _paytrail(api: ProviderApis, seen: Seen) -> tuple[int, dict]:
    checkout = {k: v for k, v in seen.headers.items() if k.startswith("checkout-")}
    if checkout.get("checkout-account") != PAYTRAIL_ACCOUNT or seen.headers.get("signature") \
            != paytrail_signature(checkout, seen.body.decode(), PAYTRAIL_SECRET):
        return 401, {"status": "error", "message": "Invalid signature"}
    if seen.method == "POST" and seen.path == "/payments":
        transaction = f"tx-{len(api.requests)}"
        return 201, {"transactionId": transaction, "reference": seen.json["reference"],
                     "href": f"https://pay.paytrail.com/pay/{transaction}",
                     "terms": "https://www.paytrail.com", "groups": [], "providers": []}
    return 404, {"status": "error", "message": "not found"}


ROUTES = {"/v1/oauth2": _paypal, "/v2/": _paypal, "/v1/": _stripe, "/payments": _paytrail}


class _Handler(BaseHTTPRequestHandler):
    api: ProviderApis

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length))
        self.api.requests.append(seen)
        route = next((handler for prefix, handler in ROUTES.items()
                      if self.path.startswith(prefix)), None)
        status, body = route(self.api, seen) if route else (404, {})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _serve

    def log_message(self, *args: Any) -> None:
        pass


def start() -> tuple[ProviderApis, ThreadingHTTPServer]:
    api = ProviderApis()
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return api, server
