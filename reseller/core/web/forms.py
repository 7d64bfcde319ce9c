"""A refusal turned into what a client-area form shows: each field's messages beside that
field (``templates/_form.html``), in the page's language, and what belongs to no field said
once above the form, never "Correct the fields listed in errors. phone: …"."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from reseller.core.errors import DomainError, ValidationFailed, translate_messages


def field_errors(error: DomainError, *, known: set[str] | frozenset[str] = frozenset(),
                 prefix: str = "", aliases: dict[str, str] | None = None
                 ) -> tuple[dict[str, list[str]], str | None]:
    """``(errors by field, message for the form)`` for a refusal. Field keys are the
    refusal's own, nested keys joined with ``-`` (``records-1-ttl``), ``prefix`` put in
    front, ``aliases`` renaming a refusal's key to the form's field
    (``contacts.registrant`` → ``registrant``); a key outside ``known`` (when given) goes to the form message instead, so
    nothing the reseller must fix is hidden. A refusal without fields is the form message."""
    if not isinstance(error, ValidationFailed):
        return {}, str(error.detail or error.title)
    by_field: dict[str, list[str]] = {}
    stray: list[str] = []
    for key, messages in flatten(translate_messages(error.errors)):
        name = prefix + (aliases or {}).get(key, key)
        if key and (not known or name in known):
            by_field.setdefault(name, []).extend(messages)
        else:
            stray.extend(messages)
    if stray:
        return by_field, " ".join(stray)
    return by_field, (None if by_field else str(error.detail or error.title))


def flatten(errors: Any, path: str = "") -> list[tuple[str, list[str]]]:
    """marshmallow's nested messages as ``(dash-joined key, [messages])`` pairs."""
    if isinstance(errors, dict):
        found: list[tuple[str, list[str]]] = []
        for key, value in errors.items():
            key = "" if key == "_schema" else str(key)
            found.extend(flatten(value, f"{path}-{key}" if path and key else path or key))
        return found
    if isinstance(errors, (list, tuple)):
        if all(isinstance(item, str) for item in errors):
            return [(path, [str(item) for item in errors])]
        found = []
        for item in errors:
            found.extend(flatten(item, path))
        return found
    return [(path, [str(errors)])]


def refusal_text(error: DomainError) -> str:
    """A refusal in one line for a page without per-field messages: each field's messages
    after its name (in the page's language), else the problem's detail."""
    errors = getattr(error, "errors", None)
    if errors:
        return "; ".join(
            f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in translate_messages(errors).items())
    return str(error.detail or error.title)


def form_problem() -> str:
    """The message above a form whose fields say what is wrong."""
    return _("Some fields need correcting: see the messages beside them.")
