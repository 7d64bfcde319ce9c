"""Bulk renew and the CSV import of a portfolio to transfer in, each with a per-row report.

Every row runs in its own savepoint: one refused row never undoes the others. Row
idempotency keys derive from the request's key, so re-sending the same batch with the
same key returns the same orders.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from reseller.catalog.errors import UnsupportedTld
from reseller.core.errors import DomainError, ValidationFailed
from reseller.core.extensions import db
from reseller.domains import names, orders, services

MAX_ROWS = 500


def _attempt(action: Callable[[], Any]) -> tuple[Any, dict | None]:
    try:
        with db.session.begin_nested():
            return action(), None
    except DomainError as refused:
        problem = refused.to_problem()
        return None, {key: problem[key] for key in ("code", "detail") if key in problem} | (
            {"errors": problem["errors"]} if "errors" in problem else {})


def ask_premium_fees(names: list[str], command: str, years: int = 1
                     ) -> dict[str, Decimal | None]:
    """Each name's premium fee for ``command``, asked of the registry with no transaction
    open (``orders.ask_premium_fee``) before the rows are placed; a name that is not valid
    is left out (its row's order reports it)."""
    fees: dict[str, Decimal | None] = {}
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        try:
            fees[name] = orders.ask_premium_fee(name, command, years)
        except DomainError:
            continue
    return fees


def bulk_renew(*, reseller_id: int, names: list[str], period: int, idempotency_key: str,
               premium_fees: dict[str, Decimal | None] | None = None) -> list[dict[str, Any]]:
    """``premium_fees``: each name's renewal fee asked before (``ask_premium_fees``)."""
    results, fees = [], premium_fees or {}
    for index, name in enumerate(dict.fromkeys(n.strip() for n in names if n.strip())):
        order, error = _attempt(lambda name=name, index=index: orders.order_renew(
            reseller_id=reseller_id, name=name, period=period,
            idempotency_key=f"{idempotency_key}:renew:{index}",
            premium_fee=fees.get(name, orders.ASK_REGISTRY)))
        results.append({"name": name, "order": order, "error": error})
    return results


def parse_transfer_csv(text: str) -> list[tuple[int, str, str]]:
    """Rows of (row number, name, auth code); a header row naming the columns is optional."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = []
    for number, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in ("name", "domain", "domain_name"):
            continue
        rows.append((number, cells[0] if cells else "", cells[1] if len(cells) > 1 else ""))
    if not rows:
        raise ValidationFailed({"csv": [_l("The file has no rows (columns: name, auth_code).")]})
    if len(rows) > MAX_ROWS:
        raise ValidationFailed({"csv": [_l("At most %(n)s rows per file.", n=MAX_ROWS)]})
    return rows


def import_transfers(*, reseller_id: int, text: str, idempotency_key: str,
                     premium_fees: dict[str, Decimal | None] | None = None) -> dict[str, Any]:
    """``premium_fees``: each name's transfer fee asked before (``ask_premium_fees``)."""
    report, fees = [], premium_fees or {}
    for number, name, auth_code in parse_transfer_csv(text):
        order, error = _attempt(lambda number=number, name=name, auth_code=auth_code:
                                orders.order_transfer(
                                    reseller_id=reseller_id, name=name, auth_code=auth_code,
                                    idempotency_key=f"{idempotency_key}:import:{number}",
                                    premium_fee=fees.get(name, orders.ASK_REGISTRY)))
        report.append({"row": number, "name": name, "order": order, "error": error})
    accepted = sum(1 for row in report if row["order"] is not None)
    return {"accepted": accepted, "rejected": len(report) - accepted, "rows": report}


def search_names(*, reseller_id: int, names_text: list[str],
                 period: int = 1) -> list[dict[str, Any]]:
    """Availability name by name, in the order given: one name that is not valid, or whose
    ending we do not offer, is a row saying so (``state`` ``invalid`` / ``unsupported``)
    and the others are still checked in one registry call (``available`` / ``taken``)."""
    rows: list[dict[str, Any]] = []
    valid: list[str] = []
    for text in dict.fromkeys(t.strip() for t in names_text if t.strip()):
        try:
            name = names.parse(text)
        except UnsupportedTld as refused:
            rows.append({"name": text, "unicode_name": text, "state": "unsupported",
                         "reason": str(refused.detail or refused.title)})
            continue
        except DomainError as refused:
            rows.append({"name": text, "unicode_name": text, "state": "invalid",
                         "reason": str(refused.detail or refused.title)})
            continue
        rows.append({"name": name.ascii})
        valid.append(name.ascii)
    checked = {}
    if valid:
        checked = {r["name"]: r for r in services.check_availability(
            reseller_id=reseller_id, names_text=valid, period=period)}
    for row in rows:
        if "state" not in row:
            found = checked[row["name"]]
            row.update(found, state="available" if found["available"] else "taken")
    return rows
