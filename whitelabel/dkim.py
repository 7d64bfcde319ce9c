"""Per-reseller DKIM keys (RSA 2048) and signing with dkimpy."""

from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to",
                  b"content-type", b"mime-version"]


def generate_key() -> tuple[str, str]:
    """A fresh key pair: (PKCS#8 private key PEM, base64 DER public key for ``p=``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode()


def txt_record(public_key: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key}"


def sign(message: bytes, *, domain: str, selector: str, private_key: str) -> bytes:
    """The message with a ``DKIM-Signature`` header prepended (relaxed/relaxed)."""
    signature = dkim.sign(message, selector.encode(), domain.encode(), private_key.encode(),
                          include_headers=SIGNED_HEADERS,
                          canonicalize=(b"relaxed", b"relaxed"))
    return signature + message
