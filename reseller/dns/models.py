"""Hosted zones, their records, the ordered change log that publishing replays, vanity
nameservers, zone keys (TSIG) and URL forwards. The database is the source of truth; the server follows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reseller.core.clock import clock
from reseller.core.crypto import EncryptedText
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime


def _now() -> datetime:
    return clock.now()


ZONE_STATUSES = ("active", "pending")


class Zone(db.Model):
    """A zone hosted by Tunnus DNS. One server serves every zone, so at most one zone of a
    name is ``active`` (published); ``pending`` zones wait for proof of control
    (``reseller.dns.ownership``) and are never sent to the server."""

    __tablename__ = "dns_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(253))  # A-label, no final dot
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    # How the right to host was shown: domain (held here), parent (inside an own zone),
    # txt or delegation (external names).
    proof: Mapped[str | None] = mapped_column(sa.String(20))
    verification_token: Mapped[str | None] = mapped_column(sa.String(64))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_check: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Why an active zone was taken off the server (another account holds the name, …).
    unpublished_reason: Mapped[str | None] = mapped_column(sa.String(40))
    unpublished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    serial: Mapped[int] = mapped_column(sa.BigInteger, default=1)
    # Set once the server has the zone; until then publishing creates it whole.
    on_server: Mapped[bool] = mapped_column(default=False)
    published_serial: Mapped[int | None] = mapped_column(sa.BigInteger)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who is talking to the server about this zone (publishing, taking it off, syncing),
    # until when: a committed claim, so no transaction stays open across the server calls
    # and two publishers never interleave (``reseller.dns.claims``).
    publish_claim: Mapped[str | None] = mapped_column(sa.String(32))
    publishing_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last comparison with the server (``reseller.dns.sync``): when, what was adopted
    # or reverted, and why an external change was refused.
    last_sync: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    records: Mapped[list[Record]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", lazy="selectin",
        order_by="(Record.name, Record.type, Record.value)")

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "name"),
        sa.Index("uq_dns_zones_active_name", "name", unique=True,
                 postgresql_where=sa.text("status = 'active'"),
                 sqlite_where=sa.text("status = 'active'")),
        sa.CheckConstraint("status IN ('active', 'pending')", name="status"),
    )

    @property
    def active(self) -> bool:
        return self.status == "active"


# The zones at or inside a name (``ownership.at_or_inside``) are a range of the reversed
# names, bytewise; LIKE '%.name' scanned every zone, twice per registration.
sa.Index("ix_dns_zones_name_reversed",
         sa.func.reverse(sa.cast(Zone.name, sa.Text)).label("name_reversed"),
         postgresql_ops={"name_reversed": "text_pattern_ops"}).ddl_if(dialect="postgresql")


class Record(db.Model):
    """One resource record. ``name`` is relative to the zone (``@`` is the apex); ``value``
    is dnspython's canonical presentation with absolute names."""

    __tablename__ = "dns_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("dns_zones.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(253))
    type: Mapped[str] = mapped_column(sa.String(10))
    ttl: Mapped[int] = mapped_column(sa.Integer)
    value: Mapped[str] = mapped_column(sa.Text)

    zone: Mapped[Zone] = relationship(back_populates="records")


class ZoneChange(db.Model):
    """One change as the server must see it: deletes, then adds, then the new SOA serial.

    Publishing replays unpublished changes in id order, so the server passes through the
    same states as the database."""

    __tablename__ = "dns_zone_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("dns_zones.id", ondelete="CASCADE"),
                                         index=True)
    serial: Mapped[int] = mapped_column(sa.BigInteger)
    deletes: Mapped[list] = mapped_column(sa.JSON, default=list)
    adds: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ``tunnus``: made here (API, client area, WHMCS, …) and published by a job;
    # ``server``: made on the server with a zone key and adopted (``reseller.dns.sync``).
    origin: Mapped[str] = mapped_column(sa.String(10), default="tunnus",
                                        server_default="tunnus")
    # The zone keys whose scope admits the change (the server does not say which key
    # signed it; usually one). Names, not ids: a key may be revoked later.
    key_names: Mapped[list] = mapped_column(sa.JSON, default=list)


class VanityNameservers(db.Model):
    """A reseller's own nameserver names (``ns1.yourcompany.fi``), used once verified."""

    __tablename__ = "dns_vanity_nameservers"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), unique=True)
    hostnames: Mapped[list] = mapped_column(sa.JSON, default=list)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_check: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


KEY_SCOPES = ("acme", "records", "read")


class ZoneKey(db.Model):
    """A TSIG key of one zone that infrastructure tools use on the server directly.

    ``acme``: TXT records at ``_acme-challenge`` names (certbot, lego); ``records``: any
    record except the SOA and apex NS, and AXFR (octoDNS, external-dns, Terraform,
    nsupdate); ``read``: AXFR only. The server's ACLs follow the scope
    (``publishers.KnotPublisher.install_key``); what a key writes is adopted by
    ``reseller.dns.sync``. The secret is kept (encrypted) because the server must be given
    it again after a rebuild. The table keeps the name it had when only ACME keys existed."""

    __tablename__ = "dns_acme_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("dns_zones.id", ondelete="CASCADE"),
                                         index=True)
    scope: Mapped[str] = mapped_column(sa.String(10), default="acme", server_default="acme")
    key_name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    secret: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    zone: Mapped[Zone] = relationship()

    __table_args__ = (
        sa.CheckConstraint("scope IN ('acme', 'records', 'read')", name="scope"),
    )


AcmeKey = ZoneKey  # the name it had when ACME keys were the only kind


class Forward(db.Model):
    """A URL forward: a host in a hosted zone that Tunnus answers with an HTTP redirect."""

    __tablename__ = "url_forwards"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("dns_zones.id", ondelete="CASCADE"),
                                         index=True)
    host: Mapped[str] = mapped_column(sa.String(253))  # relative to the zone, "@" = apex
    fqdn: Mapped[str] = mapped_column(sa.String(253), unique=True)  # what Host: carries
    target: Mapped[str] = mapped_column(sa.String(2000))
    status: Mapped[int] = mapped_column(default=301)
    preserve_path: Mapped[bool] = mapped_column(default=True)
    preserve_query: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (sa.CheckConstraint("status IN (301, 302)", name="status"),)
