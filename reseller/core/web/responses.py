"""Response headers shared by the API and the client area."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, make_response


def no_store(response: Response) -> Response:
    """Keep a response carrying a secret out of every cache (RFC 9111 §5.2.2.5)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"  # HTTP/1.0 caches
    return response


def secret_response(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send the view's answer (and its errors' answers) with ``Cache-Control: no-store``."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return no_store(make_response(view(*args, **kwargs)))

    wrapper._secret = True  # read by the OpenAPI builder
    return wrapper
