"""Test helpers for money: fund a wallet the way the console's manual adjustment does."""

from __future__ import annotations

import itertools

from reseller.core.db import unit_of_work
from wallet import credit, services
from wallet.money import Money

_seq = itertools.count(1)


def fund(reseller_id: int, amount: str) -> None:
    with unit_of_work():
        services.adjust_funds(reseller_id=reseller_id, amount=Money.of(amount),
                              reason="test funds", actor="test",
                              reference=f"test-fund-{reseller_id}-{next(_seq)}")


def make_postpaid(reseller_id: int, limit: str) -> None:
    with unit_of_work():
        credit.set_payment_mode(reseller_id=reseller_id, payment_mode="postpaid",
                                  credit_limit=Money.of(limit), note="test review",
                                  actor="test")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def camt054(*entries: tuple[str, str, str], booked: str = "2026-11-20") -> bytes:
    """A camt.054.001.02 notification with credits (archive id, amount, reference)."""
    rows = "".join(f"""
      <Ntry><NtryRef>{ref_id}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts><BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{ref_id}</AcctSvcrRef>
        <NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref_id}</AcctSvcrRef></Refs>
          <AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>
          <RltdPties><Dbtr><Nm>Payer Oy</Nm></Dbtr></RltdPties>
          <RmtInf><Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls></Ntry>""" for ref_id, amount, reference in entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>MSG1</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
  <Ntfctn><Id>NTF1</Id><Acct><Id><IBAN>FI2112345600000785</IBAN></Id></Acct>{rows}
    <Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts></Ntry>
  </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>""".encode()
