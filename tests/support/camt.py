"""Bank statements as Finnish banks send them: camt.054.001.02 and .001.08 notifications
and camt.053.001.02 statements, each checked against ISO's own XSD (``iso20022/``).

``Tx`` is one payment; ``Ntry`` one booked entry (a batch when it has several payments);
``build`` writes the document and validates it, so a test can never feed the importer a
file no bank could send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

XSD_DIR = Path(__file__).parent / "iso20022"
ACCOUNT = "FI2112345600000785"
OTHER_ACCOUNT = "FI5542345670000081"
_SCHEMAS: dict[str, etree.XMLSchema] = {}


@dataclass
class Tx:
    """One payment: its amount in ``TxAmt`` (or only ``InstdAmt``, or neither)."""

    reference: str | None
    amount: str | None = None
    where: str = "TxAmt"  # "TxAmt" | "InstdAmt" | "Amt" (camt.054.001.08 TxDtls/Amt) | ""
    currency: str = "EUR"
    end_to_end: str | None = None
    archive: str | None = None
    debtor: str = "Maksaja Oy"


@dataclass
class Ntry:
    archive: str | None
    amount: str
    txs: list[Tx] = field(default_factory=list)
    credit: bool = True
    reversal: bool = False
    booked: str = "2026-11-20"
    currency: str = "EUR"
    status: str = "BOOK"


def schema(message: str) -> etree.XMLSchema:
    if message not in _SCHEMAS:
        _SCHEMAS[message] = etree.XMLSchema(etree.parse(str(XSD_DIR / f"{message}.xsd")))
    return _SCHEMAS[message]


def validate(data: bytes, message: str) -> None:
    """Raise unless ``data`` is valid against ISO's XSD for ``message``."""
    schema(message).assertValid(etree.fromstring(data))


def _amt(tag: str, amount: str, currency: str) -> str:
    return f'<{tag} Ccy="{currency}">{amount}</{tag}>'


def _tx(tx: Tx, v08: bool) -> str:
    refs = "".join(filter(None, [
        tx.archive and f"<AcctSvcrRef>{tx.archive}</AcctSvcrRef>",
        tx.end_to_end and f"<EndToEndId>{tx.end_to_end}</EndToEndId>"]))
    direct = _amt("Amt", tx.amount, tx.currency) if tx.where == "Amt" and tx.amount else ""
    details = ""
    if tx.amount and tx.where in ("TxAmt", "InstdAmt"):
        details = f"<AmtDtls><{tx.where}>{_amt('Amt', tx.amount, tx.currency)}</{tx.where}></AmtDtls>"
    debtor = (f"<Dbtr><Pty><Nm>{escape(tx.debtor)}</Nm></Pty></Dbtr>" if v08
              else f"<Dbtr><Nm>{escape(tx.debtor)}</Nm></Dbtr>")
    remittance = ""
    if tx.reference:
        kind = "<Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>" + (
            "<Issr>ISO</Issr>" if tx.reference.startswith("RF") else "") + "</Tp>"
        remittance = (f"<RmtInf><Strd><CdtrRefInf>{kind}<Ref>{tx.reference}</Ref>"
                      "</CdtrRefInf></Strd></RmtInf>")
    return (f"<TxDtls>{refs and f'<Refs>{refs}</Refs>'}{direct}{details}"
            f"<RltdPties>{debtor}</RltdPties>{remittance}</TxDtls>")


def _entry(entry: Ntry, v08: bool) -> str:
    status = f"<Sts><Cd>{entry.status}</Cd></Sts>" if v08 else f"<Sts>{entry.status}</Sts>"
    family = ("RRTN", "ESCT") if entry.reversal else ("RCDT", "ESCT") if entry.credit \
        else ("ICDT", "ESCT")
    details = "".join(_tx(tx, v08) for tx in entry.txs)
    return "".join(filter(None, [
        "<Ntry>", entry.archive and f"<NtryRef>{entry.archive}</NtryRef>",
        _amt("Amt", entry.amount, entry.currency),
        f"<CdtDbtInd>{'CRDT' if entry.credit else 'DBIT'}</CdtDbtInd>",
        entry.reversal and "<RvslInd>true</RvslInd>", status,
        f"<BookgDt><Dt>{entry.booked}</Dt></BookgDt><ValDt><Dt>{entry.booked}</Dt></ValDt>",
        entry.archive and f"<AcctSvcrRef>{entry.archive}</AcctSvcrRef>",
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family[0]}</Cd><SubFmlyCd>{family[1]}"
        "</SubFmlyCd></Fmly></Domn></BkTxCd>",
        details and f"<NtryDtls>{details}</NtryDtls>", "</Ntry>"]))


def build(*entries: Ntry, message: str = "camt.054.001.02", account: str = ACCOUNT,
          message_id: str = "MSG-1") -> bytes:
    """A valid ``message`` (camt.054.001.02/.001.08 or camt.053.001.02) with ``entries``."""
    v08 = message.endswith(".08")
    rows = "".join(_entry(entry, v08) for entry in entries)
    header = f"<GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-11-20T18:00:00</CreDtTm></GrpHdr>"
    acct = f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
    if message.startswith("camt.053"):
        balance = ('<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>'
                   '<Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
                   '<Dt><Dt>2026-11-20</Dt></Dt></Bal>')
        body = (f"<BkToCstmrStmt>{header}<Stmt><Id>STMT-1</Id><CreDtTm>2026-11-20T18:00:00"
                f"</CreDtTm>{acct}{balance}{rows}</Stmt></BkToCstmrStmt>")
    else:
        body = (f"<BkToCstmrDbtCdtNtfctn>{header}<Ntfctn><Id>NTF-1</Id><CreDtTm>"
                f"2026-11-20T18:00:00</CreDtTm>{acct}{rows}</Ntfctn></BkToCstmrDbtCdtNtfctn>")
    data = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns='
            f'"urn:iso:std:iso:20022:tech:xsd:{message}">{body}</Document>').encode()
    validate(data, message)
    return data
