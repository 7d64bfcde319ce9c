"""The client-area dashboard's panels. Each feature adds the panel it owns (funds, expiring
domains, zones that need attention …) in its ``init_app``; the dashboard page renders those
the signed-in user may see, in order. The kernel knows no feature, only this list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from reseller.core.permissions import Permission

_PANELS = "tunnus.dashboard_panels"


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable[[int], dict[str, Any] | None]  # reseller id → template values or None
    permission: Permission | None = None


def add_panel(app: Flask, *, order: int, template: str,
              context: Callable[[int], dict[str, Any] | None],
              permission: Permission | None = None) -> None:
    """Show ``template`` on the dashboard with ``context(reseller_id)`` (None: hide it)."""
    app.extensions.setdefault(_PANELS, []).append(Panel(order, template, context, permission))
    app.extensions[_PANELS].sort(key=lambda panel: panel.order)


def panels_for(app: Flask, reseller_id: int,
               allowed: Callable[[Permission], bool]) -> list[tuple[str, dict[str, Any]]]:
    """``(template, values)`` of each panel the user may see and that has something to say."""
    shown = []
    for panel in app.extensions.get(_PANELS, []):
        if panel.permission is not None and not allowed(panel.permission):
            continue
        values = panel.context(reseller_id)
        if values is not None:
            shown.append((panel.template, values))
    return shown
