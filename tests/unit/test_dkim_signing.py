"""DKIM signatures: OpenSSL's RSA step gives exactly dkimpy's own signature, and it verifies."""

from __future__ import annotations

import dkim
import dkim.crypto
import pytest

from whitelabel import dkim as signing

MESSAGE = (b"From: Asiakaspalvelu <noreply@example.fi>\r\nTo: someone@example.se\r\n"
           b"Subject: =?utf-8?q?Verkkotunnus_rekister=C3=B6ity?=\r\nDate: Sun, 06 Dec 2026 "
           b"09:00:00 +0000\r\nMessage-ID: <1@example.fi>\r\n\r\n" + b"Hei!\r\n" * 50)


@pytest.fixture(scope="module")
def key() -> tuple[str, str]:
    return signing.generate_key()


@pytest.mark.parametrize("algorithm", [b"rsa-sha256", b"rsa-sha1"])
def test_the_openssl_signature_is_byte_for_byte_dkimpys(key, monkeypatch, algorithm):
    private, _ = key
    # The signature carries its signing time (t=, whole seconds): both signings at one
    # moment, or a second boundary between them makes them differ (it did, once).
    monkeypatch.setattr(dkim.time, "time", lambda: 1_796_000_000.0)

    def signed() -> bytes:
        return dkim.sign(MESSAGE, b"s1", b"example.fi", private.encode(),
                         signature_algorithm=algorithm, include_headers=signing.SIGNED_HEADERS)

    ours = signed()
    monkeypatch.setattr(dkim, "RSASSA_PKCS1_v1_5_sign", dkim.crypto.RSASSA_PKCS1_v1_5_sign)
    assert ours == signed()


def test_a_signed_message_verifies_against_its_published_key(key):
    private, public = key
    signed = signing.sign(MESSAGE, domain="example.fi", selector="s1", private_key=private)
    record = signing.txt_record(public).encode()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record if name == b"s1._domainkey.example.fi." else b""

    assert dkim.verify(signed, dnsfunc=dns)
    tampered = signed.replace(b"Hei!", b"Hej!", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)
