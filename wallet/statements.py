"""Bank statements (ISO 20022 camt.054 / camt.053): each statement entry is imported once.

A credit whose structured reference (Finnish or RF) is an open invoice's pays that invoice
and is booked against the reseller's receivable; one matching a wallet's permanent
reference funds the wallet; the rest wait for the operator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from lxml import etree

from reseller.core.clock import clock
from reseller.core.events import record_event
from reseller.core.extensions import db
from wallet import ledger, services
from wallet.errors import BankEntryAllocated, BankEntryNotFound, InvalidStatement
from wallet.invoices import services as invoices
from wallet.invoices.errors import InvoiceNotPayable
from wallet.invoices.periods import HELSINKI
from wallet.invoices.settings import InvoicingSettings
from wallet.models import BankEntry, TopUp, Wallet
from wallet.money import LEDGER_CURRENCY, round_money
from wallet.references import from_rf, is_valid_finnish_reference, normalize


@dataclass(frozen=True)
class StatementCredit:
    key: str
    statement_id: str | None
    amount: Decimal
    currency: str
    reference: str | None
    debtor_name: str | None
    booked_on: str | None


@dataclass
class ImportResult:
    matched: int = 0  # wallet top-ups and invoice payments
    unmatched: int = 0
    duplicates: int = 0
    invoices: int = 0  # of ``matched``, the ones that paid an invoice


def _local(node, path: str):
    """XPath by local names, so every camt version's namespace works."""
    steps = "/".join(f"*[local-name()='{step}']" for step in path.split("/"))
    return node.xpath(steps)


def _text(node, path: str) -> str | None:
    found = _local(node, path)
    return found[0].text.strip() if found and found[0].text else None


def parse_statement(data: bytes) -> list[StatementCredit]:
    """Every booked credit in a camt.054/053 document, one per transaction."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise InvalidStatement(str(error)) from error
    statements = root.xpath("//*[local-name()='Ntfctn' or local-name()='Stmt']")
    if not statements:
        raise InvalidStatement(_l("This is not a camt.054 or camt.053 statement."))
    credits = []
    for statement in statements:
        statement_id = _text(statement, "Id")
        for index, entry in enumerate(_local(statement, "Ntry")):
            if _text(entry, "CdtDbtInd") != "CRDT" or (_text(entry, "Sts") or _text(
                    entry, "Sts/Cd") or "BOOK").upper() not in {"BOOK", "BOOKED"}:
                continue
            credits += _entry_credits(entry, statement_id, index)
    return credits


def _entry_credits(entry, statement_id: str | None, index: int) -> list[StatementCredit]:
    details = _local(entry, "NtryDtls/TxDtls") or [entry]
    booked = _text(entry, "BookgDt/Dt") or (_text(entry, "BookgDt/DtTm") or "")[:10] or None
    result = []
    for position, tx in enumerate(details):
        amount_node = (_local(tx, "Amt") or _local(tx, "AmtDtls/TxAmt/Amt")
                       or _local(entry, "Amt"))
        try:
            amount = Decimal(amount_node[0].text.strip())
        except (IndexError, InvalidOperation, AttributeError) as error:
            raise InvalidStatement(_l("A statement entry has no readable amount.")) from error
        currency = amount_node[0].get("Ccy", LEDGER_CURRENCY)
        reference = (_text(tx, "RmtInf/Strd/CdtrRefInf/Ref") or _text(tx, "RmtInf/Ustrd"))
        debtor = _text(tx, "RltdPties/Dbtr/Nm") or _text(tx, "RltdPties/Dbtr/Pty/Nm")
        archive = (_text(tx, "Refs/AcctSvcrRef") or _text(entry, "AcctSvcrRef")
                   or _text(entry, "NtryRef"))
        if archive and len(details) > 1 and not _text(tx, "Refs/AcctSvcrRef"):
            archive = f"{archive}/{position}"
        key = archive or hashlib.sha256(etree.tostring(tx) + f"{statement_id}:{index}:"
                                        f"{position}".encode()).hexdigest()
        result.append(StatementCredit(key, statement_id, amount, currency, reference,
                                      debtor, booked))
    return result


def _national_reference(raw: str | None) -> str | None:
    """The Finnish reference (digits, no leading zeros) in a Finnish or RF reference."""
    if not raw:
        return None
    value = normalize(raw)
    value = (from_rf(value) or value).lstrip("0")
    return value if is_valid_finnish_reference(value) else None


def match_reference(raw: str | None) -> int | None:
    """The reseller whose permanent wallet reference (Finnish or RF form) this is."""
    value = _national_reference(raw)
    if value is None:
        return None
    return db.session.scalar(sa.select(Wallet.reseller_id)
                             .where(Wallet.reference_number == value))


def import_statement(data: bytes, *, settings: InvoicingSettings) -> ImportResult:
    """Record each credit once; pay the invoices and fund the wallets it references.

    ``settings`` are the invoicing settings (late interest when an invoice is paid late);
    the entry points build them from the config (``wallet.invoices.invoicing``).
    """
    result = ImportResult()
    for credit in parse_statement(data):
        if db.session.scalar(sa.select(BankEntry.id).where(BankEntry.entry_key == credit.key)):
            result.duplicates += 1
            continue
        usable = credit.currency == LEDGER_CURRENCY and credit.amount > 0 \
            and round_money(credit.amount) == credit.amount
        reference = _national_reference(credit.reference) if usable else None
        entry = BankEntry(entry_key=credit.key, statement_id=credit.statement_id,
                          currency=credit.currency, amount=credit.amount,
                          reference=credit.reference and credit.reference[:40],
                          debtor_name=credit.debtor_name and credit.debtor_name[:200],
                          booked_on=credit.booked_on, state="unmatched",
                          imported_at=clock.now())
        db.session.add(entry)
        db.session.flush()
        if reference is None:
            result.unmatched += 1
        elif _pay_invoice(entry, reference, settings):
            result.matched += 1
            result.invoices += 1
        elif (reseller_id := match_reference(reference)) is not None:
            _credit(entry, reseller_id, state="matched", actor="statement")
            result.matched += 1
        else:
            result.unmatched += 1
    return result


def _paid_at(entry: BankEntry) -> datetime:
    """When the money arrived: the booking date (noon in Helsinki), else now.

    The booking date decides late-payment interest, not the day the file was imported.
    """
    now = clock.now()
    try:
        booked = date.fromisoformat(entry.booked_on or "")
    except ValueError:
        return now
    moment = datetime.combine(booked, time(12), tzinfo=HELSINKI).astimezone(UTC)
    return min(moment, now)


def _pay_invoice(entry: BankEntry, reference: str, settings: InvoicingSettings) -> bool:
    """Pay the open invoice ``reference`` names and book the payment; False if none.

    The ledger transfer (``bank:<entry id>``): clearing.bank is debited, the reseller's
    receivable credited, so postpaid exposure drops and the credit becomes available
    again. An overpayment is booked in full (the receivable may go below zero: money on
    account, used by the next purchases). A reference to an invoice that is already paid
    or credited is left for the operator, as is a credit note's reference.
    """
    paid_at = _paid_at(entry)
    try:
        with db.session.begin_nested():
            invoice = invoices.pay_by_reference(reference=reference, amount=entry.amount,
                                                paid_at=paid_at, settings=settings)
    except InvoiceNotPayable:
        return False
    if invoice is None:
        return False
    rid = invoice.reseller_id
    legs = [ledger.debit(ledger.clearing("bank"), entry.amount),
            ledger.credit(ledger.RECEIVABLE, entry.amount, rid)]
    services.credit_funds(reseller_id=rid, legs=legs, reference=f"bank:{entry.id}",
                          kind="invoice_payment",
                          description=f"Invoice {invoice.number} paid by bank transfer",
                          actor="statement")
    entry.state, entry.reseller_id, entry.allocated_by = "matched", rid, "statement"
    entry.allocated_at = paid_at
    entry.note = f"invoice {invoice.number}"
    db.session.flush()
    return True


def _credit(entry: BankEntry, reseller_id: int, *, state: str, actor: str) -> None:
    legs = [ledger.debit(ledger.clearing("bank"), entry.amount),
            ledger.credit(ledger.FUNDS, entry.amount, reseller_id)]
    services.credit_funds(reseller_id=reseller_id, legs=legs, reference=f"bank:{entry.id}",
                          kind="bank_transfer", description=f"Bank transfer {entry.reference or ''}",
                          actor=actor)
    entry.state = state
    entry.reseller_id = reseller_id
    entry.allocated_by = actor
    entry.allocated_at = clock.now()
    pending = db.session.scalar(sa.select(TopUp).where(
        TopUp.reseller_id == reseller_id, TopUp.method == "bank_transfer",
        TopUp.state == "pending", TopUp.amount == entry.amount).order_by(TopUp.id).limit(1))
    if pending is not None:  # the announced bank top-up has arrived
        pending.state = "paid"
        pending.settled_at = clock.now()
        pending.provider_reference = entry.entry_key[:120]
    record_event(reseller_id=reseller_id, type="wallet.topup_received",
                 dedupe_key=f"wallet.topup_received:bank:{entry.id}", data={
                     "amount": f"{entry.amount:.2f}", "currency": entry.currency,
                     "method": "bank_transfer"})
    db.session.flush()


def unmatched_entries() -> list[BankEntry]:
    return list(db.session.scalars(sa.select(BankEntry).where(BankEntry.state == "unmatched")
                                   .order_by(BankEntry.id)))


def allocate_entry(*, entry_id: int, reseller_id: int, actor: str, note: str = "") -> BankEntry:
    """The operator assigns an unmatched credit to a reseller (funds it, once)."""
    entry = db.session.scalar(sa.select(BankEntry).where(BankEntry.id == entry_id)
                              .with_for_update().execution_options(populate_existing=True))
    if entry is None:
        raise BankEntryNotFound()
    if entry.state != "unmatched":
        raise BankEntryAllocated()
    services.get_wallet(reseller_id=reseller_id)
    entry.note = note or None
    _credit(entry, reseller_id, state="allocated", actor=actor)
    return entry


def ignore_entry(*, entry_id: int, actor: str, note: str) -> BankEntry:
    """Not ours to credit (e.g. returned to the payer); kept for the record."""
    entry = db.session.scalar(sa.select(BankEntry).where(BankEntry.id == entry_id)
                              .with_for_update().execution_options(populate_existing=True))
    if entry is None:
        raise BankEntryNotFound()
    if entry.state != "unmatched":
        raise BankEntryAllocated()
    entry.state, entry.allocated_by, entry.note = "ignored", actor, note
    entry.allocated_at = clock.now()
    db.session.flush()
    return entry
