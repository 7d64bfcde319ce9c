"""WHMCS request bodies: JSON, or form bodies with PHP-style nested keys.

PHP's ``http_build_query`` turns ``['contacts' => ['registrant' => ['firstname' => 'A']]]``
into ``contacts[registrant][firstname]=A`` and lists into ``ns[0]=a&ns[1]=b`` (or
``ns[]=a``); ``nest`` rebuilds the structure, lists included.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from reseller.core.errors import DomainError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
MAX_DEPTH = 6


class MalformedParams(DomainError):
    status = 400
    code = "malformed_params"
    title = "The parameters could not be read"


def _parts(key: str) -> list[str]:
    match = _KEY.match(key)
    if not match:
        return [key]
    parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
    if len(parts) > MAX_DEPTH:
        raise MalformedParams(f"{key!r} nests too deep.")
    return parts


def _listify(value: Any) -> Any:
    """Dicts whose keys are 0..n-1 become lists, as PHP arrays would read."""
    if not isinstance(value, dict):
        return value
    value = {k: _listify(v) for k, v in value.items()}
    if value and all(k.isdigit() for k in value) and \
            sorted(int(k) for k in value) == list(range(len(value))):
        return [value[str(i)] for i in range(len(value))]
    return value


def nest(form: MultiDict) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in form.items(multi=True):
        parts = _parts(key)
        node = root
        for part in parts[:-1]:
            if part == "":  # name[][field]: a new list item
                part = str(len(node))
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = parts[-1]
        if last == "":  # name[] appends
            last = str(len(node))
        node[last] = value
    return _listify(root)
