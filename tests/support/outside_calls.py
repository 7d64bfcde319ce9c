"""Spies on the calls that leave the process (the registry, payment providers): each call
is recorded with whether the caller's session had a database transaction open at that
moment, and on PostgreSQL whether any row was locked by the calling connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reseller.core.extensions import db


def session_state() -> bool:
    """Whether the calling session holds a transaction open right now."""
    return db.session().in_transaction()


class RegistrySpy:
    """Stands in front of the app's registry (``app.extensions["tunnus.registry"]``, as
    the EPP tests swap registries) and passes every call through."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.calls: list[tuple[str, bool]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.registry, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, session_state()))
            return attr(*args, **kwargs)

        return call

    def made(self, name: str) -> list[bool]:
        """``in_transaction`` at each call of ``name``."""
        return [open_ for called, open_ in self.calls if called == name]

    def in_transaction(self) -> list[str]:
        return [name for name, open_ in self.calls if open_]


@contextmanager
def spy_on_registry(app: Any) -> Iterator[RegistrySpy]:
    original = app.extensions["tunnus.registry"]
    spy = RegistrySpy(original)
    app.extensions["tunnus.registry"] = spy
    try:
        yield spy
    finally:
        app.extensions["tunnus.registry"] = original


def spy_on_methods(monkeypatch: Any, cls: type, *names: str) -> list[tuple[str, bool]]:
    """Record ``(name, in_transaction)`` at each call of ``cls.<name>`` (payment adapters:
    ``wallet.payments.adapter`` builds a new instance per call)."""
    calls: list[tuple[str, bool]] = []
    for name in names:
        original = getattr(cls, name)

        def call(self: Any, *args: Any, _name: str = name, _original: Any = original,
                 **kwargs: Any) -> Any:
            calls.append((_name, session_state()))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, call)
    return calls
