"""Benchmark: one reseller's month of 10,000 lines, issued and rendered.

    .venv/bin/python bench/invoice_month.py [--lines 10000]

Starts its own PostgreSQL (tests/support/servers.py), seeds one reseller's October 2026
purchases with bulk SQL (the rows the ledger leaves: four kinds of supply at five prices,
1% refunded), then, in a fresh process that builds the app as a worker does, runs the
month-end job's two steps and times them: issuing the invoice (one unit of work: lines,
totals, ledger booking) and its PDF (the HTML built, weasyprint outside any transaction,
stored). Prints the lines, the grouped lines the invoice states, the seconds of each
step, the PDF's pages and size, the CSV's size and time, and the worker's peak RSS.
Last line: ``issue_s=… pdf_s=… peak_rss_mb=… pages=…`` (targets: seconds; ≤ 20 s;
≤ 400 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)
# (zone, operation, years, net)
SUPPLIES = [("fi", "register", 1, "9.90"), ("fi", "renew", 1, "9.90"),
            ("com", "register", 1, "11.20"), ("se", "transfer", 1, "14.00"),
            ("fi", "register", 1, "8.95")]


def _app(database_url: str, instance: str):
    from reseller.app import create_app

    os.environ.update(DATABASE_URL=database_url, INSTANCE_DIR=instance, TUNNUS_ENV="sandbox",
                      JOBS_MODE="thread")
    return create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 2}})


def seed(app, lines: int) -> int:
    import sqlalchemy as sa

    from reseller.accounts.models import Reseller
    from reseller.core.clock import clock
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from wallet.models import Purchase, Wallet
    from wallet.references import wallet_reference

    start = datetime(2026, 10, 1, 8, tzinfo=UTC)
    step = timedelta(seconds=int(30 * 24 * 3600 / max(lines, 1)))
    with app.app_context(), unit_of_work():
        rid = db.session.scalar(sa.insert(Reseller).returning(Reseller.id).values(
            company_name="Bench Month Oy", country="FI", business_id="2464491-9",
            vat_id="FI24644919", street="Katu 1", postal_code="00100", city="Helsinki",
            contact_email="month@bench.example", language="fi", tier="standard",
            status="active"))
        db.session.execute(sa.insert(Wallet).values(
            reseller_id=rid, payment_mode="prepaid", funds_amount=Decimal("1000.00"),
            reference_number=wallet_reference(rid)))
        rows = []
        for n in range(lines):
            zone, operation, years, net = SUPPLIES[n % len(SUPPLIES)]
            net = Decimal(net)
            vat = (net * Decimal("0.255")).quantize(Decimal("0.01"))
            captured = start + step * n
            refunded = n % 100 == 7
            rows.append({
                "reseller_id": rid, "reference": f"month-{n}", "source": "funds",
                "description": f"{operation} bench-{n}.{zone}",
                "item": {"domain": f"bench-{n}.{zone}", "operation": operation, "period": years},
                "currency": "EUR", "net_amount": net, "vat_amount": vat, "gross_amount": net + vat,
                "vat_rate": Decimal("0.255"), "captured_at": captured, "refunded": refunded,
                "refunded_at": captured + timedelta(hours=1) if refunded else None})
        for chunk in range(0, len(rows), 5000):
            db.session.execute(sa.insert(Purchase), rows[chunk:chunk + 5000])
        clock.set(NOW)
    return rid


def child(rid: int) -> None:
    """The worker's side, in a process of its own so its peak RSS is the job's."""
    import logging

    from reseller.core.db import unit_of_work
    from reseller.core.directory import reseller_profile
    from reseller.core.extensions import db
    from wallet.invoices import invoicing, monthly, pdf, specification
    from wallet.invoices.grouping import group_lines
    from wallet.invoices.models import Invoice
    from wallet.invoices.periods import Month
    from wallet.services import payment_mode_of

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    app = _app(os.environ["DATABASE_URL"], os.environ["INSTANCE_DIR"])
    with app.app_context():
        pdf.html_to_pdf("<p>warm-up ä ö å €</p>")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        reseller = reseller_profile(rid)
        started = time.perf_counter()
        with unit_of_work():
            invoice = monthly.issue_month(
                reseller_id=rid, month=Month.parse("2026-10"), buyer=invoicing.buyer_of(reseller),
                vat_status=reseller.vat_status, language=reseller.language,
                payment_mode=payment_mode_of(rid), settings=invoicing.invoicing_settings(),
                now=NOW)
            invoice_id = invoice.id
        issue_s = time.perf_counter() - started
        db.session.remove()
        started = time.perf_counter()
        if os.environ.get("BENCH_DUMP"):
            with unit_of_work():
                parts = pdf.rendition(db.session.get(Invoice, invoice_id))
            for n, html in enumerate([parts.invoice_html, *parts.appendix_html]):
                Path(os.environ["BENCH_DUMP"], f"part{n}.html").write_text(html)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            cProfile.runctx("pdf.render_and_store(invoice_id)", globals(), locals(),
                            os.environ["BENCH_PROFILE"])
        else:
            pdf.render_and_store(invoice_id)
        pdf_s = time.perf_counter() - started
        with unit_of_work():
            invoice = db.session.get(Invoice, invoice_id)
            document = pdf.stored_pdf(invoice_id)
            size, lines = len(document.content), len(invoice.lines)
            groups = len(group_lines(invoice.lines))
            pages = _pages(document.content)
            started = time.perf_counter()
            csv_bytes = len(specification.specification_csv(invoice).encode())
            csv_s = time.perf_counter() - started
    print(json.dumps({"issue_s": issue_s, "pdf_s": pdf_s, "lines": lines, "groups": groups,
                      "pdf_bytes": size, "pages": pages,
                      "csv_bytes": csv_bytes, "csv_s": csv_s, "rss_before_mb": rss_before,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


def _pages(content: bytes) -> int:
    """Pages per ``pdfinfo`` (poppler)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(content)
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, text=True).stdout
    return next((int(line.split()[-1]) for line in info.splitlines()
                 if line.startswith("Pages:")), 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from flask_migrate import upgrade

    from tests.support import servers

    postgres = servers.start_postgres()
    instance = tempfile.mkdtemp(prefix="bench-instance-")
    try:
        app = _app(postgres.url, instance)
        with app.app_context():
            upgrade(directory=str(ROOT / "reseller/migrations"), revision="heads")
        started = time.monotonic()
        rid = seed(app, args.lines)
        print(f"seeded {args.lines} purchases in {time.monotonic() - started:.1f}s", flush=True)
        env = {**os.environ, "DATABASE_URL": postgres.url, "INSTANCE_DIR": instance,
               "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, __file__, "--child", str(rid)], cwd=ROOT, env=env,
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        print(f"lines={figures['lines']} stated as {figures['groups']} grouped lines")
        print(f"issue {figures['issue_s']:.2f}s; PDF {figures['pdf_s']:.2f}s, "
              f"{figures['pages']} pages, {figures['pdf_bytes'] // 1024} KiB; CSV "
              f"{figures['csv_s']:.2f}s, {figures['csv_bytes'] // 1024} KiB; worker RSS "
              f"{figures['rss_before_mb']} MB after start-up, peak {figures['peak_rss_mb']} MB")
        print(f"issue_s={figures['issue_s']:.2f} pdf_s={figures['pdf_s']:.2f} "
              f"peak_rss_mb={figures['peak_rss_mb']} pages={figures['pages']}")
    finally:
        postgres.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
