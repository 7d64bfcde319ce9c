"""Documents one package keeps and another sends: loaders registered by kind.

The outbox attaches ``{"kind", "ref"}`` named in a message (``whitelabel.outbox``) and
loads it when the message is sent, so a document rendered after the message was queued is
found; the package that owns the document registers its loader (the wallet: invoice PDFs).
Neither knows the other.
"""

from __future__ import annotations

from collections.abc import Callable

Loaded = tuple[str, str, bytes]  # (filename, mimetype, content)
Loader = Callable[[str], Loaded | None]
_LOADERS: dict[str, Loader] = {}


def document_loader(kind: str) -> Callable[[Loader], Loader]:
    """Register ``loader(ref) -> (filename, mimetype, bytes) | None`` for ``kind``."""

    def register(loader: Loader) -> Loader:
        _LOADERS[kind] = loader
        return loader

    return register


def load_document(kind: str, ref: str) -> Loaded | None:
    """The document, or None when ``kind`` has no loader or ``ref`` names nothing."""
    loader = _LOADERS.get(kind)
    return loader(ref) if loader is not None else None
