"""Holds their owners still need: the wallet's expiry asks before it lets one go.

A purchase whose outcome is open (an order the registry has not answered, or answered in
a way nobody has read yet) must keep its money set aside, however long it takes: the
wallet cannot know that, so the feature that owns the purchase says which references it
still needs (``keep_holds``), and expiry extends those instead of releasing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask, current_app

_KEEPERS = "tunnus.hold_keepers"


def keep_holds(app: Flask, still_needed: Callable[[list[str]], set[str]]) -> None:
    """Register ``still_needed(references)``: the subset of hold references whose
    purchase is still open."""
    app.extensions.setdefault(_KEEPERS, []).append(still_needed)


def holds_still_needed(references: Iterable[str]) -> set[str]:
    references = list(references)
    needed: set[str] = set()
    for keeper in current_app.extensions.get(_KEEPERS, []) if references else []:
        needed |= set(keeper(references))
    return needed
