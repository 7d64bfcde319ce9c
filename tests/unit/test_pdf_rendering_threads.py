"""weasyprint (Pango) is not safe to run in two threads of a process at once: a month-end
render beside the in-process job thread rendering an invoice e-mail's attachment aborted
the process ("corrupted double-linked list", SIGABRT in ``get_first_line``; stop 44, two
runs of five of ``bench/invoice_month.py``). ``wallet.invoices.pdf`` renders one PDF at
a time per process; these tests hold it to that without waiting for a crash."""

from __future__ import annotations

import threading
import time

import weasyprint

from wallet.invoices import pdf


def _watch_overlap(monkeypatch) -> dict[str, int]:
    """Count weasyprint layouts running at once (each held a little, to give two threads
    the chance to meet)."""
    seen = {"now": 0, "most": 0}
    lock = threading.Lock()
    render = weasyprint.HTML.render

    def watched(self, *args, **kwargs):
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(0.02)
            return render(self, *args, **kwargs)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(weasyprint.HTML, "render", watched)
    return seen


def _in_threads(work, count: int = 4) -> list:
    results: list = [None] * count

    def run(index: int) -> None:
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_pdfs_rendered_from_several_threads_are_laid_out_one_at_a_time(monkeypatch):
    seen = _watch_overlap(monkeypatch)
    documents = _in_threads(lambda n: pdf.html_to_pdf(f"<p>Lasku {n} ä ö å €</p>"))
    assert all(document.startswith(b"%PDF-") for document in documents)
    assert seen["most"] == 1


def test_an_invoice_with_an_appendix_holds_the_lock_for_all_its_documents(monkeypatch):
    """Its pages are laid out a document at a time and joined: no other render may come
    in between, or the pages would be laid out beside another thread's."""
    seen = _watch_overlap(monkeypatch)
    parts = pdf.Rendition(invoice_html="<p>Lasku</p>",
                          appendix_html=[f"<pre>rivi {n}</pre>" for n in range(3)])
    documents = _in_threads(lambda n: pdf.rendition_to_pdf(parts) if n % 2
                            else pdf.html_to_pdf("<p>Hyvityslasku</p>"))
    assert all(document.startswith(b"%PDF-") for document in documents)
    assert seen["most"] == 1
