"""Secrets at rest: columns the server must read back in clear, encrypted in the database.

Some secrets cannot be hashed because the server uses them: the DKIM private keys that
sign resellers' mail, webhook signing secrets, TSIG keys given to the DNS server, TOTP
seeds. A database dump or a read replica must not hand them out, so ``EncryptedText``
columns hold Fernet tokens (AES-128-CBC with HMAC-SHA256, from ``cryptography``), written
as ``fernet:<token>``.

Keys come from ``DATA_ENCRYPTION_KEYS``: comma-separated Fernet keys, the first encrypts
and all decrypt. Rotation without downtime (docs/operations.md) takes three restarts:
add the new key last everywhere (every process can read it before any writes with it),
then move it first everywhere, then ``flask secrets rotate``; once ``flask secrets
status`` counts nothing under an older key, drop the old one.
Production refuses to start without it; sandbox derives a key from ``SECRET_KEY`` so the
embedded default works out of the box.

A value without the ``fernet:`` prefix is read as it is: rows written before encryption
(the migration encrypts them; ``flask secrets rotate`` does too).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

PREFIX = "fernet:"


class SecretsUnreadable(RuntimeError):
    """A stored secret was encrypted with a key that ``DATA_ENCRYPTION_KEYS`` lacks."""


def derive_key(secret_key: str) -> str:
    """A Fernet key derived from ``SECRET_KEY`` (sandbox only: one secret, two uses)."""
    digest = hashlib.sha256(b"tunnus data encryption\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def parse_keys(value: str | None) -> list[str]:
    """The configured keys, each checked to be a Fernet key (ValueError if not)."""
    keys = [key.strip() for key in (value or "").split(",") if key.strip()]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError("DATA_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64 "
                             "bytes, e.g. from `flask secrets new-key`)") from None
    return keys


class Keyring:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one data encryption key is needed")
        self._keys = [Fernet(key) for key in keys]
        self._fernet = MultiFernet(self._keys)

    def encrypt(self, plaintext: str) -> str:
        return PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption; `flask secrets rotate` encrypts it
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretsUnreadable(
                "a stored secret cannot be decrypted: DATA_ENCRYPTION_KEYS lacks the key "
                "that encrypted it") from None

    def key_index(self, stored: str) -> int | None:
        """Which configured key encrypted ``stored`` (0 is the first); None if plaintext.

        Raises ``SecretsUnreadable`` when no configured key can read it."""
        if not stored.startswith(PREFIX):
            return None
        token = stored[len(PREFIX):].encode()
        for index, key in enumerate(self._keys):
            try:
                key.decrypt(token)
            except InvalidToken:
                continue
            return index
        raise SecretsUnreadable("a stored secret cannot be decrypted with any configured key")

    def rotate(self, stored: str) -> str:
        """The value encrypted with the first key (plaintext is encrypted)."""
        return self.encrypt(self.decrypt(stored))


def keyring() -> Keyring:
    ring = current_app.extensions.get("tunnus.keyring")
    if ring is None:
        keys = list(current_app.config.get("DATA_ENCRYPTION_KEYS") or [])
        if not keys and current_app.config.get("SANDBOX"):
            keys = [derive_key(current_app.config["SECRET_KEY"])]
        ring = current_app.extensions["tunnus.keyring"] = Keyring(keys)
    return ring


class EncryptedText(sa.types.TypeDecorator):
    """A ``TEXT`` column whose values are encrypted with the app's keyring.

    Tokens differ on every write, so such columns cannot be searched by value.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else keyring().decrypt(value)


def encrypted_columns(metadata: sa.MetaData) -> Iterator[tuple[sa.Table, sa.Column]]:
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


def rotate_all(session, metadata: sa.MetaData, batch: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted column with the first key; returns counts per column.

    Reads the raw stored text (no type processing) and writes it back re-encrypted, so
    plaintext left from before encryption is encrypted too. The caller commits.
    """
    ring = keyring()
    counts = {}
    for table, column in encrypted_columns(metadata):
        [key] = table.primary_key.columns
        raw = sa.cast(column, sa.Text)
        done, after = 0, None
        while True:
            stmt = sa.select(key, raw).where(column.is_not(None)).order_by(key).limit(batch)
            if after is not None:
                stmt = stmt.where(key > after)
            rows = session.execute(stmt).all()
            if not rows:
                break
            for ident, stored in rows:
                session.execute(sa.update(table).where(key == ident)
                                .values({column.name: sa.literal(ring.rotate(stored),
                                                                 sa.Text)}))
            done += len(rows)
            after = rows[-1][0]
        counts[f"{table.name}.{column.name}"] = done
    return counts


def key_usage(session, metadata: sa.MetaData) -> dict[str, dict[str, int]]:
    """Per encrypted column: how many values the first key encrypted, how many an older
    key, how many are still plaintext, and how many no configured key can read."""
    ring = keyring()
    usage = {}
    for table, column in encrypted_columns(metadata):
        counts = {"first key": 0, "older keys": 0, "plaintext": 0, "unreadable": 0}
        stmt = sa.select(sa.cast(column, sa.Text)).where(column.is_not(None))
        for stored in session.scalars(stmt.execution_options(yield_per=500)):
            try:
                index = ring.key_index(stored)
            except SecretsUnreadable:
                counts["unreadable"] += 1
                continue
            bucket = "plaintext" if index is None else "first key" if index == 0 else "older keys"
            counts[bucket] += 1
        usage[f"{table.name}.{column.name}"] = counts
    return usage
