"""Reading ISO 20022 bank-to-customer messages: camt.054 (.001.02 to .001.08 and later)
and camt.053, as Finnish banks send them. Pure parsing: what each booked entry says.

An entry (``Ntry``) is one booking on the account; a batch entry carries several payments
(``NtryDtls/TxDtls``). Each payment's amount is its ``TxDtls/Amt`` (camt.054.001.08 and
later), else ``AmtDtls/TxAmt``, else ``AmtDtls/InstdAmt``; a single payment without one
takes the entry's amount. When the payments' amounts do not add up to the entry's, the
entry is not split at all (``Entry.problem``): it goes to the operator whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from lxml import etree

from wallet.errors import InvalidStatement

CREDIT, REVERSAL, DEBIT = "credit", "reversal", "debit"


@dataclass(frozen=True)
class Payment:
    """One payment (``TxDtls``) inside an entry."""

    amount: Decimal | None
    currency: str | None
    reference: str | None  # the creditor reference (RF or Finnish), else free text
    debtor_name: str | None
    end_to_end_id: str | None
    archive: str | None  # the payment's own archive reference, if the bank gives one


@dataclass(frozen=True)
class Entry:
    """One booked entry of a statement, with its payments."""

    key: str  # account + archive reference + booking date + amount: the de-duplication key
    account: str | None
    archive: str | None
    statement_id: str | None
    amount: Decimal
    currency: str
    # "credit" (money in), "reversal" (a debit reversing an earlier credit: a returned
    # payment, RvslInd=true) or "debit" (money out: not the wallet's business).
    direction: str
    booked_on: str | None
    payments: tuple[Payment, ...]

    def entry_key_for(self, position: int, *, whole: bool = False) -> str:
        """The stored row's key: the entry's own, plus ``/<position>`` in a batch."""
        return self.key if whole or len(self.payments) == 1 else f"{self.key}/{position}"

    @property
    def problem(self) -> str | None:
        """Why the payments cannot be taken as they are (None when they can)."""
        if len(self.payments) == 1:
            return None
        if any(payment.amount is None for payment in self.payments):
            return "a payment in the batch has no amount"
        if any(payment.currency != self.currency for payment in self.payments):
            return "a payment in the batch is in another currency"
        parts = sum((payment.amount or Decimal(0) for payment in self.payments), Decimal(0))
        if parts != self.amount:
            return f"the payments add up to {parts}, the entry is {self.amount}"
        return None


def _local(node, path: str) -> list:
    """XPath by local names, so every camt version's namespace works."""
    steps = "/".join(f"*[local-name()='{step}']" for step in path.split("/"))
    return node.xpath(steps)


def _text(node, path: str) -> str | None:
    found = _local(node, path)
    return found[0].text.strip() if found and found[0].text and found[0].text.strip() else None


def _amount(node, paths: tuple[str, ...]) -> tuple[Decimal | None, str | None]:
    for path in paths:
        found = _local(node, path)
        if found and found[0].text:
            try:
                return Decimal(found[0].text.strip()), found[0].get("Ccy")
            except InvalidOperation as error:
                raise InvalidStatement(_l("A statement entry has no readable amount.")) \
                    from error
    return None, None


PAYMENT_AMOUNT = ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt")


def parse(data: bytes) -> list[Entry]:
    """Every booked entry in a camt.054/053 document (credits, reversals and debits)."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise InvalidStatement(str(error)) from error
    statements = root.xpath("//*[local-name()='Ntfctn' or local-name()='Stmt']")
    if not statements:
        raise InvalidStatement(_l("This is not a camt.054 or camt.053 statement."))
    entries = []
    for statement in statements:
        statement_id = _text(statement, "Id")
        account = _text(statement, "Acct/Id/IBAN") or _text(statement, "Acct/Id/Othr/Id")
        for index, node in enumerate(_local(statement, "Ntry")):
            status = _text(node, "Sts/Cd") or _text(node, "Sts") or "BOOK"
            if status.upper() not in {"BOOK", "BOOKED"}:
                continue  # pending or informational: not money on the account yet
            entries.append(_entry(node, statement_id, account, index))
    return entries


def _entry(node, statement_id: str | None, account: str | None, index: int) -> Entry:
    amount, currency = _amount(node, ("Amt",))
    if amount is None:
        raise InvalidStatement(_l("A statement entry has no readable amount."))
    reversal = (_text(node, "RvslInd") or "").lower() in {"true", "1"}
    debit = _text(node, "CdtDbtInd") == "DBIT"
    # A credit with RvslInd reverses a debit (say a returned payout): money in, for the
    # operator to place; a debit with RvslInd reverses a credit we booked.
    direction = REVERSAL if debit and reversal else DEBIT if debit else CREDIT
    booked = _text(node, "BookgDt/Dt") or (_text(node, "BookgDt/DtTm") or "")[:10] or None
    archive = _text(node, "AcctSvcrRef") or _text(node, "NtryRef")
    details = _local(node, "NtryDtls/TxDtls")
    payments = tuple(_payment(tx) for tx in details) or (
        Payment(amount, currency, None, None, None, archive),)
    if len(payments) == 1:  # one payment: what was booked on the account is its amount
        payments = (Payment(amount, currency, *_fields(payments[0])),)
    if archive:
        key = f"{account or '-'}|{archive}|{booked or '-'}|{amount}{currency or ''}"
    else:  # no archive reference at all: the entry's own content identifies it
        key = hashlib.sha256(etree.tostring(node) + f"{account}:{statement_id}:{index}"
                             .encode()).hexdigest()
    return Entry(key=key, account=account, archive=archive, statement_id=statement_id,
                 amount=amount, currency=currency or "EUR", direction=direction,
                 booked_on=booked, payments=payments)


def _fields(payment: Payment) -> tuple:
    return (payment.reference, payment.debtor_name, payment.end_to_end_id, payment.archive)


def _payment(tx) -> Payment:
    amount, currency = _amount(tx, PAYMENT_AMOUNT)
    return Payment(
        amount=amount, currency=currency,
        reference=_text(tx, "RmtInf/Strd/CdtrRefInf/Ref") or _text(tx, "RmtInf/Ustrd"),
        debtor_name=(_text(tx, "RltdPties/Dbtr/Nm") or _text(tx, "RltdPties/Dbtr/Pty/Nm")),
        end_to_end_id=_text(tx, "Refs/EndToEndId"),
        archive=_text(tx, "Refs/AcctSvcrRef"))
