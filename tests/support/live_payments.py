"""Production-style payment adapters (``PAYMENTS_ADAPTER=live``) for a test: the card
provider's webhook secret, Paytrail's published test merchant, a PayPal signing
certificate made for the test (its private key is yielded to sign webhooks with), and the
providers' APIs served on loopback (``tests.support.provider_apis``, ``app.extensions
["test.provider_apis"]`` while it runs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support import provider_apis

CARD_SECRET = "whsec_test_secret"
PAYTRAIL_SECRET = "SAIPPUAKAUPPIAS"  # Paytrail's published test merchant 375917


@contextmanager
def live_payments(app) -> Iterator[rsa.RSAPrivateKey]:
    saved = {k: app.config.get(k) for k in (
        "PAYMENTS_ADAPTER", "CARD_WEBHOOK_SECRET", "PAYTRAIL_SECRET", "PAYTRAIL_ACCOUNT",
        "PAYPAL_WEBHOOK_ID", "PAYPAL_CERT_PEM", "CARD_API_URL", "CARD_API_KEY",
        "PAYPAL_API_URL", "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYTRAIL_API_URL")}
    apis, server = provider_apis.start()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paypal-test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    app.config.update(PAYMENTS_ADAPTER="live", CARD_WEBHOOK_SECRET=CARD_SECRET,
                      PAYTRAIL_SECRET=PAYTRAIL_SECRET, PAYTRAIL_ACCOUNT="375917",
                      PAYPAL_WEBHOOK_ID="WH-TEST",
                      PAYPAL_CERT_PEM=cert.public_bytes(serialization.Encoding.PEM).decode(),
                      CARD_API_URL=apis.url, CARD_API_KEY=provider_apis.STRIPE_KEY,
                      PAYPAL_API_URL=apis.url, PAYPAL_CLIENT_ID=provider_apis.PAYPAL_CLIENT,
                      PAYPAL_CLIENT_SECRET=provider_apis.PAYPAL_SECRET, PAYTRAIL_API_URL=apis.url)
    app.extensions["test.provider_apis"] = apis
    try:
        yield key
    finally:
        app.config.update(saved)
        app.extensions.pop("test.provider_apis", None)
        server.shutdown()
        server.server_close()


