"""The registry interface, shaped after EPP (RFC 5730-5734, 5910) so an EPP client can
implement it: every mutating call carries a client transaction id (EPP clTRID), and a
repeated call with the same id returns the first result instead of acting twice.

Premium names cost what the registry says (RFC 8748 fee-1.0): ``premium_fee`` tells the
price of a command, and ``create``/``renew``/``restore``/``transfer_request`` take ``fee``,
the price the caller agreed to; a registry refuses a premium command whose ``fee`` is
missing or below its price, so nothing is bought at a price nobody accepted.

Its failures are in ``reseller.registry.errors``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class Availability:
    name: str
    available: bool
    premium: bool = False
    premium_price: Decimal | None = None  # net EUR per year, when premium
    reason: str | None = None


@dataclass(frozen=True)
class DomainInfo:
    name: str
    sponsor: str
    created_at: datetime
    expires_at: datetime
    registrant: str | None = None
    admin: str | None = None
    tech: str | None = None
    nameservers: tuple[str, ...] = ()
    ds: tuple[dict, ...] = ()
    locked: bool = False
    # RFC 5731 statuses as the registry shows them, client and server (``ok`` only alone),
    # with RFC 3915's ``redemptionPeriod`` for a name in redemption.
    statuses: tuple[str, ...] = ("ok",)
    hold: bool = False
    roid: str | None = None  # the registry's object id (EPP domain:roid)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["expires_at"] = self.expires_at.isoformat()
        data["nameservers"] = list(self.nameservers)
        data["ds"] = list(self.ds)
        data["statuses"] = list(self.statuses)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainInfo:
        values = dict(data)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        values["expires_at"] = datetime.fromisoformat(values["expires_at"])
        values["nameservers"] = tuple(values.get("nameservers") or ())
        values["ds"] = tuple(values.get("ds") or ())
        values["statuses"] = tuple(values.get("statuses") or ("ok",))
        return cls(**values)


@dataclass(frozen=True)
class TransferInfo:
    name: str
    status: str  # pending | clientApproved | clientRejected | serverApproved | clientCancelled
    gaining: str
    losing: str
    requested_at: datetime
    act_by: datetime
    expires_at: datetime | None = None

    @property
    def approved(self) -> bool:
        return self.status in ("clientApproved", "serverApproved")

    @property
    def pending(self) -> bool:
        return self.status == "pending"


@dataclass(frozen=True)
class Message:
    """A poll-queue message (EPP <poll>): e.g. another registrar asked for our domain."""

    id: int
    kind: str  # transfer_requested | transfer_completed | transfer_rejected
    name: str
    data: dict = field(default_factory=dict)
    queued_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """The recorded result of one transaction id."""

    ok: bool
    result: Any  # DomainInfo | TransferInfo | str | None
    code: int = 1000
    message: str = "Command completed successfully"


@dataclass(frozen=True)
class RestoreReport:
    """An RFC 3915 restore report (section 4.2.5): what the name held before it was
    deleted and after the restore, when it was deleted and restored, why, and the two
    statements registries require; ``other`` for anything else that supports the
    restore."""

    pre_data: str
    post_data: str
    deleted_at: datetime
    restored_at: datetime
    reason: str
    statements: tuple[str, ...]
    other: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"pre_data": self.pre_data, "post_data": self.post_data,
                "deleted_at": self.deleted_at.isoformat(),
                "restored_at": self.restored_at.isoformat(), "reason": self.reason,
                "statements": list(self.statements), "other": self.other}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestoreReport:
        return cls(pre_data=data["pre_data"], post_data=data["post_data"],
                   deleted_at=datetime.fromisoformat(data["deleted_at"]),
                   restored_at=datetime.fromisoformat(data["restored_at"]),
                   reason=data["reason"], statements=tuple(data["statements"]),
                   other=data.get("other"))


def in_redemption(statuses: tuple[str, ...] | list[str]) -> bool:
    """Whether RFC 3915 statuses say the name is deleted but restorable (a restore
    requested and waiting for its report is still in redemption)."""
    return "redemptionPeriod" in statuses or "pendingRestore" in statuses


# What a delete did (RFC 3915): gone at once (1000, e.g. inside the add grace period) or
# pending deletion (1001: the name is in redemption, restorable).
DELETED, PENDING_DELETE = "deleted", "pending"


class Registry(Protocol):
    registrar_id: str

    def check(self, names: list[str]) -> list[Availability]: ...
    def premium_fee(self, *, name: str, command: str, years: int = 1) -> Decimal | None: ...
    def info(self, name: str) -> DomainInfo | None: ...
    def create(self, *, name: str, years: int, registrant: str, admin: str | None,
               tech: str | None, nameservers: list[str], transaction_id: str,
               fee: Decimal | None = None) -> DomainInfo: ...
    def renew(self, *, name: str, years: int, current_expiry: datetime,
              transaction_id: str, fee: Decimal | None = None) -> DomainInfo: ...
    def restore(self, *, name: str, transaction_id: str, fee: Decimal | None = None,
                report: RestoreReport | None = None) -> DomainInfo: ...
    def change_registrant(self, *, name: str, registrant: str,
                          transaction_id: str) -> DomainInfo: ...
    def update(self, *, name: str, transaction_id: str, nameservers: list[str] | None = None,
               ds: list[dict] | None = None, locked: bool | None = None,
               admin: str | None = None, tech: str | None = None,
               hold: bool | None = None, registrant: str | None = None) -> DomainInfo: ...
    def auth_code(self, *, name: str, transaction_id: str) -> str: ...
    def delete(self, *, name: str, transaction_id: str) -> str: ...  # DELETED | PENDING_DELETE
    def transfer_request(self, *, name: str, auth_code: str, years: int,
                         transaction_id: str, fee: Decimal | None = None) -> TransferInfo: ...
    def transfer_query(self, *, name: str) -> TransferInfo | None: ...
    def transfer_answer(self, *, name: str, approve: bool) -> TransferInfo: ...
    def host_set(self, *, name: str, addresses: list[str]) -> None: ...
    def host_delete(self, *, name: str) -> None: ...
    def contact_set(self, *, handle: str, data: dict, name: str | None = None) -> None: ...
    def transaction(self, transaction_id: str) -> Outcome | None: ...
    def poll(self) -> list[Message]: ...
    def ack(self, message_id: int) -> None: ...
