"""Crawl the client area or console as a signed-in user, and find English left on a page
that should be Finnish or Swedish: catalogue messages shown untranslated, raw enum values,
and English sentences that never went through gettext."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from babel.messages.pofile import read_po
from lxml import html as lxml_html

I18N = Path(__file__).resolve().parents[2] / "i18n"
SKIP_PREFIXES = ("/api/", "/oauth/", "/whmcs/", "/rdap/", "/acme/", "/_dev/", "/payments/",
                 "/static/", "/go/", "/logout", "/problems/", "/favicon")
SKIP_SUFFIXES = (".pdf", ".xml", ".zone", "/zonefile", ".csv", "/pdf", "/ubl", "/peppol")
# Elements whose text is data (code, records, addresses), not the page's language.
DATA_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "textarea"}
ENGLISH_WORDS = {"the", "and", "your", "is", "are", "of", "with", "this", "that", "was",
                 "has", "you", "will", "been", "must", "not", "from", "into", "cannot"}
WORD = re.compile(r"[A-Za-zÅÄÖåäö]+")


def crawl(client, starts: Iterable[str], *, per_endpoint: int = 2,
          limit: int = 250) -> dict[str, str]:
    """GET every same-site page reachable from ``starts`` (at most ``per_endpoint`` pages of
    one view, ``limit`` in all): ``{path: html}`` of the HTML pages that answered 200."""
    app = client.application
    adapter = app.url_map.bind("localhost")
    queue: deque[str] = deque(starts)
    seen: set[str] = set(queue)
    per: dict[str, int] = {}
    pages: dict[str, str] = {}
    while queue and len(pages) < limit:
        path = queue.popleft()
        try:
            endpoint, _ = adapter.match(urlsplit(path).path, method="GET")
        except Exception:  # noqa: BLE001 (a link to something that is not a GET page)
            continue
        if per.get(endpoint, 0) >= per_endpoint:
            continue
        per[endpoint] = per.get(endpoint, 0) + 1
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        body = response.get_data(as_text=True)
        pages[path] = body
        for link in links(body, path):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return pages


def links(body: str, base: str) -> Iterator[str]:
    tree = lxml_html.fromstring(body)
    for href in tree.xpath("//a/@href"):
        url = urlsplit(urljoin("http://localhost" + base, href))
        if url.netloc != "localhost" or url.path.startswith(SKIP_PREFIXES) \
                or url.path.endswith(SKIP_SUFFIXES):
            continue
        query = "&".join(p for p in url.query.split("&") if p and not p.startswith("lang="))
        yield url.path + (f"?{query}" if query else "")


@cache
def _catalogue(language: str) -> dict[str, str]:
    """English message → its translation, where the translation differs."""
    merged: dict[str, str] = {}
    for po in I18N.glob(f"*/{language}/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if isinstance(message.id, str) and message.string \
                        and message.string != message.id and "%(" not in message.id:
                    merged.setdefault(message.id.strip(), message.string)
    return merged


def visible_texts(body: str) -> Iterator[str]:
    """Text a reader sees (and labels a screen reader reads), without data elements and
    without parts marked as another language or as not to be translated."""
    tree = lxml_html.fromstring(body)
    page_lang = tree.get("lang")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if _is_data(element, page_lang):
            continue
        for text in (element.text,):
            if text and text.strip():
                yield " ".join(text.split())
        for attribute in ("placeholder", "title", "aria-label", "alt"):
            if element.get(attribute):
                yield element.get(attribute)
        if element.tag == "input" and element.get("type") in ("submit", "button") \
                and element.get("value"):
            yield element.get("value")
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tail and element.tail.strip() \
                and element.getparent() is not None \
                and not _is_data(element.getparent(), page_lang):
            yield " ".join(element.tail.split())


def _is_data(element, page_lang: str | None) -> bool:
    for node in (element, *element.iterancestors()):
        if node.tag in DATA_TAGS or node.get("translate") == "no" \
                or (node.get("lang") and node.get("lang") != page_lang):
            return True
    return False


def english_left(texts: Iterable[str], language: str, raw_values: Iterable[str] = ()) -> list[str]:
    """Texts that are English on a page in ``language``: a catalogue message shown as its
    English source, a raw enum value, or a sentence of English function words."""
    catalogue = _catalogue(language)
    words = set(catalogue.values())  # Swedish "Register" is also English "Register"
    raw = set(raw_values)
    found = []
    for text in texts:
        if text in words:
            continue
        tokens = {word.lower() for word in WORD.findall(text)}
        if text in catalogue or text.rstrip(".:") in raw or text in raw \
                or len(tokens & ENGLISH_WORDS) >= 2:
            found.append(text)
    return found
