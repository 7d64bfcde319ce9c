"""Demo data steps the features add to ``flask demo load`` (the embedded default only).

A feature's ``init_app`` adds a step: ``seed(reseller, spec, config)`` runs for each demo
reseller once it exists, ``info(config)`` returns keys to merge into ``demo.json``. Steps
run by ``order`` (the wallet opens first so later steps can spend; the zone comes after
the domain it is for), and ``info`` keys land in ``demo.json`` in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

Seed = Callable[[Any, dict[str, Any], Any], None]
Info = Callable[[Any], dict[str, Any]]
_STEPS = "tunnus.demo_steps"


@dataclass(frozen=True)
class DemoStep:
    order: int
    seed: Seed | None = None
    info: Info | None = None


def add_demo_step(app: Flask, *, order: int, seed: Seed | None = None,
                  info: Info | None = None) -> None:
    app.extensions.setdefault(_STEPS, []).append(DemoStep(order, seed, info))


def demo_steps(app: Flask) -> list[DemoStep]:
    """Every feature's steps, by ``order`` (then in the order they were added)."""
    return sorted(app.extensions.get(_STEPS, []), key=lambda step: step.order)
