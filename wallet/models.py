"""Wallet tables: wallets (cached balances), the ledger, holds, purchases, top-ups,
withdrawals, bank statement entries and the audit trail of credit decisions.

Balances live in the ledger (``ledger_entries``); a wallet row caches the three reseller
balances so a charge is one conditional UPDATE, and the invariant check proves the cache
equals the sum of entries. Money columns are integer cents (``wallet.columns.Cents``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reseller.core.clock import clock
from reseller.core.crypto import EncryptedText
from reseller.core.extensions import db
from reseller.core.types import UTCDateTime
from wallet.columns import Cents
from wallet.money import Money

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _now() -> datetime:
    return clock.now()


class Wallet(db.Model):
    """One per reseller. ``funds``/``held``/``receivable``/``debt`` are ledger balances, cached.

    Prepaid funds never go below zero (checked by the database). Money taken back after it
    was spent (a returned bank payment, a refund or chargeback: ``wallet.reversals``) takes
    the funds as far as they go and books the rest as ``debt``; an open debt refuses every
    order, and money coming in pays it first.
    """

    __tablename__ = "wallets"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    payment_mode: Mapped[str] = mapped_column(sa.String(10), default="prepaid")
    credit_limit_amount: Mapped[Decimal] = mapped_column("credit_limit", Cents, default=Decimal(0))
    low_balance_threshold_amount: Mapped[Decimal | None] = mapped_column(
        "low_balance_threshold", Cents)
    low_balance_alerted: Mapped[bool] = mapped_column(default=False)
    funds_amount: Mapped[Decimal] = mapped_column("funds", Cents, default=Decimal(0))
    held_amount: Mapped[Decimal] = mapped_column("held", Cents, default=Decimal(0))
    receivable_amount: Mapped[Decimal] = mapped_column("receivable", Cents, default=Decimal(0))
    # Owed for money taken back after it was spent (the ``reseller.debt`` account).
    debt_amount: Mapped[Decimal] = mapped_column("debt", Cents, default=Decimal(0))
    # The part of ``held`` drawn on credit (postpaid holds debit the receivable).
    held_on_credit_amount: Mapped[Decimal] = mapped_column("held_on_credit", Cents,
                                                           default=Decimal(0))
    # The reseller's permanent Finnish reference number for bank transfers.
    reference_number: Mapped[str] = mapped_column(sa.String(25), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (
        sa.CheckConstraint("payment_mode IN ('prepaid', 'postpaid')", name="payment_mode"),
        sa.CheckConstraint("held >= held_on_credit AND held_on_credit >= 0",
                           name="held_not_negative"),
        sa.CheckConstraint("credit_limit >= 0", name="credit_limit_not_negative"),
        sa.CheckConstraint("payment_mode = 'postpaid' OR funds >= 0",
                           name="prepaid_not_negative"),
        sa.CheckConstraint("debt >= 0", name="debt_not_negative"),
    )

    def _money(self, amount: Decimal | None) -> Money:
        return Money(amount if amount is not None else Decimal("0.00"), self.currency)

    @property
    def credit_limit(self) -> Money:
        return self._money(self.credit_limit_amount)

    @property
    def low_balance_threshold(self) -> Money | None:
        if self.low_balance_threshold_amount is None:
            return None
        return self._money(self.low_balance_threshold_amount)

    @property
    def funds(self) -> Money:
        """Prepaid money not held (the reseller's funds account)."""
        return self._money(self.funds_amount)

    @property
    def held(self) -> Money:
        """Active holds and pending withdrawals."""
        return self._money(self.held_amount)

    @property
    def receivable(self) -> Money:
        """Postpaid exposure: what the reseller owes, active holds included."""
        return self._money(self.receivable_amount)

    @property
    def debt(self) -> Money:
        """Money taken back after it was spent, not yet paid: orders wait until it is."""
        return self._money(self.debt_amount)

    @property
    def owed(self) -> Money:
        """Postpaid purchases captured and not yet paid (receivable without the holds)."""
        return self.receivable - self._money(self.held_on_credit_amount)

    @property
    def balance(self) -> Money:
        """Funds including prepaid holds, minus what is owed on credit and any debt."""
        held_from_funds = self.held - self._money(self.held_on_credit_amount)
        return self.funds + held_from_funds - self.owed - self.debt

    @property
    def available(self) -> Money:
        """What an order may use once the debt is paid (negative: the debt still open)."""
        if self.payment_mode == "prepaid":
            return self.funds - self.debt
        return self.credit_limit - self.receivable - self.debt


class WalletChange(db.Model):
    """Audit trail: who changed a wallet's mode, credit limit or threshold, when and why."""

    __tablename__ = "wallet_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    field: Mapped[str] = mapped_column(sa.String(40))
    old_value: Mapped[str | None] = mapped_column(sa.String(100))
    new_value: Mapped[str | None] = mapped_column(sa.String(100))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class LedgerTransfer(db.Model):
    """A balanced set of entries. Sealed on insert (the DB checks the sum), never changed."""

    __tablename__ = "ledger_transfers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    reverses: Mapped[str | None] = mapped_column(sa.String(200))
    actor: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (
        sa.Index("ix_ledger_transfers_reseller_id_id", "reseller_id", "id"),
        sa.Index("ix_ledger_transfers_created_at", "created_at"),
    )


class LedgerEntry(db.Model):
    """One leg: a signed amount on one account (positive = debit, see ``wallet.ledger``)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Entries are written before their transfer seals them, hence the deferred key.
    transfer_reference: Mapped[str] = mapped_column(
        sa.ForeignKey("ledger_transfers.reference", deferrable=True, initially="DEFERRED"),
        index=True)
    account: Mapped[str] = mapped_column(sa.String(40))
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"))
    amount: Mapped[Decimal] = mapped_column(Cents)

    __table_args__ = (
        sa.Index("ix_ledger_entries_reseller_account", "reseller_id", "account"),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.CheckConstraint(
            "(account LIKE 'reseller.%' AND reseller_id IS NOT NULL)"
            " OR (account LIKE 'operator.%' AND reseller_id IS NULL)",
            name="account_owner"),
    )


class Hold(db.Model):
    """Money set aside for one purchase until it is captured, released or expires."""

    __tablename__ = "wallet_holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    reference: Mapped[str] = mapped_column(sa.String(200), unique=True)
    state: Mapped[str] = mapped_column(sa.String(10), default="active")
    source: Mapped[str] = mapped_column(sa.String(12))  # "funds" | "receivable"
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    net_amount: Mapped[Decimal] = mapped_column("net", Cents)
    vat_amount: Mapped[Decimal] = mapped_column("vat", Cents)
    gross_amount: Mapped[Decimal] = mapped_column("gross", Cents)
    vat_rate: Mapped[Decimal] = mapped_column(sa.Numeric(6, 4))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    item: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # Times expiry found the purchase still open and kept the hold (see expire_holds).
    extensions: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    __table_args__ = (
        sa.CheckConstraint("state IN ('active', 'captured', 'released', 'expired')",
                           name="state"),
        sa.CheckConstraint("source IN ('funds', 'receivable')", name="source"),
        sa.CheckConstraint("gross = net + vat AND gross > 0", name="gross"),
        sa.Index("ix_wallet_holds_active_expiry", "state", "expires_at"),
    )

    @property
    def net(self) -> Money:
        return Money(self.net_amount, self.currency)

    @property
    def vat(self) -> Money:
        return Money(self.vat_amount, self.currency)

    @property
    def gross(self) -> Money:
        return Money(self.gross_amount, self.currency)


class Purchase(db.Model):
    """A captured purchase: what the monthly invoice lists (and credits when refunded)."""

    __tablename__ = "wallet_purchases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"))
    reference: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    item: Mapped[dict | None] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(12))  # "funds" (prepaid) | "receivable"
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    net_amount: Mapped[Decimal] = mapped_column("net", Cents)
    vat_amount: Mapped[Decimal] = mapped_column("vat", Cents)
    gross_amount: Mapped[Decimal] = mapped_column("gross", Cents)
    vat_rate: Mapped[Decimal] = mapped_column(sa.Numeric(6, 4))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    refunded: Mapped[bool] = mapped_column(default=False)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refund_reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_wallet_purchases_reseller_captured", "reseller_id", "captured_at"),
        sa.Index("ix_wallet_purchases_reseller_refunded", "reseller_id", "refunded_at"),
        sa.CheckConstraint("gross = net + vat", name="gross"),
    )

    @property
    def net(self) -> Money:
        return Money(self.net_amount, self.currency)

    @property
    def vat(self) -> Money:
        return Money(self.vat_amount, self.currency)

    @property
    def gross(self) -> Money:
        return Money(self.gross_amount, self.currency)

    @property
    def prepaid(self) -> bool:
        return self.source == "funds"


class TopUp(db.Model):
    """A payment into the wallet: created pending, credited once when the provider says paid."""

    __tablename__ = "wallet_topups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(20))
    provider: Mapped[str] = mapped_column(sa.String(20))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    amount: Mapped[Decimal] = mapped_column(Cents)
    surcharge: Mapped[Decimal] = mapped_column(Cents, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Cents)
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    provider_reference: Mapped[str | None] = mapped_column(sa.String(120))
    # The provider's hosted checkout page, once created (live providers).
    checkout_url: Mapped[str | None] = mapped_column(sa.String(2000))
    # Of ``total``, what refunds and chargebacks have taken back (``wallet.reversals``).
    reversed_amount: Mapped[Decimal] = mapped_column(Cents, default=Decimal(0))
    # Set when the payment settles a postpaid invoice instead of funding the wallet.
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "idempotency_key", name="uq_wallet_topups_key"),
        sa.CheckConstraint("state IN ('pending', 'paid', 'cancelled', 'failed')", name="state"),
        sa.CheckConstraint("amount > 0 AND surcharge >= 0 AND total = amount + surcharge",
                           name="amounts"),
        sa.CheckConstraint("reversed_amount >= 0 AND reversed_amount <= total",
                           name="reversed_amount"),
        sa.Index("ix_wallet_topups_provider_reference", "provider", "provider_reference"),
    )


class PaymentNotice(db.Model):
    """Every provider callback we accepted, once per (provider, event id): replays are no-ops."""

    __tablename__ = "wallet_payment_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(200))
    topup_id: Mapped[int | None] = mapped_column(sa.ForeignKey("wallet_topups.id"))
    status: Mapped[str] = mapped_column(sa.String(20))
    payload: Mapped[Any] = mapped_column(sa.JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)

    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id", name="uq_wallet_payment_notices_event"),
    )


class PaymentIssue(db.Model):
    """The operator's queue for provider payments: money refused (another currency, an
    unexpected sum), taken back (refunds, chargebacks) or disputed. Nothing here was
    converted or credited silently; staff settle it at the provider and mark it handled."""

    __tablename__ = "wallet_payment_issues"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))
    topup_id: Mapped[int | None] = mapped_column(sa.ForeignKey("wallet_topups.id"))
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    # As the provider stated it (never converted).
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[str] = mapped_column(sa.String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(sa.String(100))
    note: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id", name="uq_wallet_payment_issues_event"),
        sa.CheckConstraint("kind IN ('currency', 'amount', 'refund', 'chargeback', "
                           "'reinstated', 'dispute', 'unknown_payment')", name="kind"),
        sa.CheckConstraint("state IN ('open', 'resolved')", name="state"),
        sa.Index("ix_wallet_payment_issues_state", "state"),
    )


class Withdrawal(db.Model):
    """A request to pay unused prepaid funds back; held until approved or cancelled."""

    __tablename__ = "wallet_withdrawals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    amount: Mapped[Decimal] = mapped_column(Cents)
    state: Mapped[str] = mapped_column(sa.String(10), default="requested")
    requested_by: Mapped[str | None] = mapped_column(sa.String(100))
    decided_by: Mapped[str | None] = mapped_column(sa.String(100))
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("reseller_id", "idempotency_key", name="uq_wallet_withdrawals_key"),
        sa.CheckConstraint("state IN ('requested', 'approved', 'cancelled', 'rejected')",
                           name="state"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )


class BankEntry(db.Model):
    """A payment from an imported bank statement (camt.054/053), imported once.

    One row per payment: a batch entry's payments each get a row (``entry_key`` is the
    entry's key plus ``/<position>``), all sharing ``entry_ref``, the entry's key (account
    + archive reference + booking date + amount) by which a statement imported again is
    recognised. ``direction`` "reversal" rows are returned payments (a debit with
    ``RvslInd``), linked to the credit they take back by ``reverses_id``.
    """

    __tablename__ = "wallet_bank_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    entry_ref: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    account: Mapped[str | None] = mapped_column(sa.String(34))
    direction: Mapped[str] = mapped_column(sa.String(10), default="credit")
    end_to_end_id: Mapped[str | None] = mapped_column(sa.String(35))
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("wallet_bank_entries.id"))
    statement_id: Mapped[str | None] = mapped_column(sa.String(120))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    amount: Mapped[Decimal] = mapped_column(Cents)
    reference: Mapped[str | None] = mapped_column(sa.String(40))
    debtor_name: Mapped[str | None] = mapped_column(sa.String(200))
    booked_on: Mapped[str | None] = mapped_column(sa.String(10))
    state: Mapped[str] = mapped_column(sa.String(10), default="unmatched")
    reseller_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    allocated_by: Mapped[str | None] = mapped_column(sa.String(100))
    note: Mapped[str | None] = mapped_column(sa.Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("state IN ('matched', 'unmatched', 'allocated', 'ignored', "
                           "'reversed')", name="state"),
        sa.CheckConstraint("direction IN ('credit', 'reversal')", name="direction"),
        sa.Index("ix_wallet_bank_entries_state", "state"),
    )


class Card(db.Model):
    """A card on file that pays a reseller's invoices on their due date.

    At most one is active per reseller; adding another replaces it, and a replaced or
    removed card is deleted at the provider and its payment-method id wiped here. Only
    the provider's payment-method id (encrypted), the brand, the last four digits and the
    expiry are kept, never the card number.
    """

    __tablename__ = "wallet_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    setup_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    payment_method: Mapped[str | None] = mapped_column(EncryptedText)
    # The provider's customer the card is attached to (off-session charges name it).
    provider_customer: Mapped[str | None] = mapped_column(sa.String(100))
    brand: Mapped[str | None] = mapped_column(sa.String(20))
    last4: Mapped[str | None] = mapped_column(sa.String(4))
    exp_month: Mapped[int | None] = mapped_column()
    exp_year: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'active', 'removed', 'failed')",
                           name="state"),
        sa.Index("uq_wallet_cards_one_active", "reseller_id", unique=True,
                 sqlite_where=sa.text("state = 'active'"),
                 postgresql_where=sa.text("state = 'active'")),
    )

    def expired_on(self, today) -> bool:
        return (self.exp_year, self.exp_month) < (today.year, today.month)
