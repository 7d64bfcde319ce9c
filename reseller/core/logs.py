"""Logging for every process (web, ``flask worker``, ``flask scheduler``): the level and
format from config (``LOG_LEVEL``, ``LOG_FORMAT=text|json``), a request id on every record
of a request and of the jobs it queued, and one access-log line per request.

The access log names method, path, status, duration, request id, remote address and the
reseller when known; never headers, query strings, tokens or bodies.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain (no spaces, quotes or newlines that
# could forge log lines); anything else is replaced by our own.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@+=-]{1,128}$")
# Path parts that are secrets (single-use link tokens, checkout tokens) are not logged.
_SECRET_ARGS = ("token", "secret")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                         default=None)
access_log = logging.getLogger("tunnus.access")
_HANDLER_NAME = "tunnus"
# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def current_request_id() -> str | None:
    return _request_id.get()


def use_request_id(value: str | None) -> contextvars.Token:
    """Tag what runs from here on (a job queued by a request) with ``value``."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


def accept_request_id(incoming: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is sane, else a new one."""
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def _install_record_factory() -> None:
    """Every record made from now on carries the current request id (any handler sees it)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "tunnus", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get()
        return record

    factory.tunnus = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_id":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test runner swaps it)."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.fixed = stream

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return self.fixed or sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self.fixed = value


def configure_logging(config: Mapping[str, Any], stream: Any = None) -> logging.Handler:
    """Install our one handler on the root logger (replacing an earlier one of ours)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = _Stderr(stream)
    handler.set_name(_HANDLER_NAME)
    _install_record_factory()
    handler.setFormatter(JsonFormatter() if config.get("LOG_FORMAT") == "json"
                         else TextFormatter())
    root.addHandler(handler)
    root.setLevel(config.get("LOG_LEVEL", "INFO"))
    # werkzeug's own request lines would duplicate the access log
    logging.getLogger("werkzeug").setLevel(max(logging.WARNING, root.level))
    return handler


def init_app(app: Flask) -> None:
    """Request ids and the access log; registered before any other request hook."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.teardown_request(_forget_request)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_id_token = _request_id.set(g.request_id)


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or accept_request_id(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    if started is not None and _access_log_enabled():
        duration = round((time.perf_counter() - started) * 1000, 1)
        path = _loggable_path()
        access_log.info(
            "%s %s %s %.1fms", request.method, path, response.status_code, duration,
            extra={"method": request.method, "path": path, "status": response.status_code,
                   "duration_ms": duration, "remote_addr": request.remote_addr,
                   "reseller_id": _reseller_id()})
    return response


def _forget_request(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            _request_id.reset(token)
        except ValueError:  # set in another context (a streamed response): nothing to undo
            pass


def _loggable_path() -> str:
    path = request.path
    for name, value in (request.view_args or {}).items():
        if any(word in name for word in _SECRET_ARGS) and value:
            path = path.replace(str(value), "[redacted]")
    return path


def _access_log_enabled() -> bool:
    from flask import current_app

    return bool(current_app.config.get("ACCESS_LOG", True))


def note_reseller(reseller_id: int | None) -> None:
    """Name the reseller a client-area request acts for in its access-log line."""
    g.log_reseller_id = reseller_id


def _reseller_id() -> int | None:
    """The reseller the request acted for, if it authenticated; never loads anything."""
    principal = request.environ.get("tunnus.principal")
    if principal is not None:
        return principal.reseller_id
    return g.get("log_reseller_id")
