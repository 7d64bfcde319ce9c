"""Test helpers for invoices: buy things at a sandbox time, run the month end, read PDFs."""

from __future__ import annotations

import io
import itertools
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.identity import vat_status
from wallet import services as wallet
from wallet import vat as wallet_vat
from wallet.money import Money

_seq = itertools.count(1)


def at(moment: str) -> datetime:
    """Set the sandbox clock to ``moment`` (ISO 8601, UTC if no offset) and return it."""
    parsed = datetime.fromisoformat(moment)
    with unit_of_work():
        return clock.set(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def buy(reseller, domain: str, net: str = "9.90", *, operation: str = "register",
        years: int = 1) -> str:
    """Hold and capture a purchase now (by the sandbox clock); returns its reference."""
    rate = wallet_vat.vat_rate(vat_status=vat_status(reseller.country, reseller.vat_id),
                               on=clock.now().date())
    reference = f"test-order-{next(_seq)}"
    with unit_of_work():
        wallet.hold_funds(reseller_id=reseller.id, net=Money.of(net), vat_rate=rate,
                          reference=reference, description=f"{operation} {domain}",
                          item={"domain": domain, "operation": operation, "period": years})
    with unit_of_work():
        wallet.capture_hold(reference=reference)
    return reference


def pdf_text(content: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(content)
        file.flush()
        return subprocess.run(["pdftotext", "-layout", file.name, "-"], check=True,
                              capture_output=True, text=True).stdout


def first_page_png(content: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invoice.pdf"
        path.write_bytes(content)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(path),
                        str(Path(folder) / "page")], check=True, capture_output=True)
        return next(Path(folder).glob("page*.png")).read_bytes()


def is_blank(png: bytes) -> bool:
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    darkest, _ = image.getextrema()
    return not (darkest < 128 and ImageStat.Stat(image).stddev[0] > 5)
