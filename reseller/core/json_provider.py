"""Flask's JSON provider with limits: what a request body may hold before a view sees it.

Every ``request.get_json()`` parses through here. A body nested deeper than
``MAX_JSON_DEPTH``, one the parser cannot even descend (``RecursionError`` on 10,000
brackets) and the non-JSON literals ``NaN``/``Infinity`` are a ``ValueError``, which
Flask turns into a 400 — never a 500 from deep in a view or a schema.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_JSON_DEPTH = 32  # our deepest body (a zone's records) nests 3 levels


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests objects/arrays deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) \
            else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads_strict(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that raises ``ValueError`` for every body we refuse."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, **kwargs)
    except RecursionError as error:
        raise ValueError("the JSON nests too deep") from error
    if too_deep(value):
        raise ValueError(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return value


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_strict(s, **kwargs)
