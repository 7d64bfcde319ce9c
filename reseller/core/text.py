"""User text in line-based output (WHOIS, RDAP jCard, mail headers, CSV): which characters
end or disturb a line, the one-line escape of stored values, and the CSV formula guard."""

from __future__ import annotations

import re
import unicodedata

# Cc: C0 (NUL … US, so also TAB, LF, CR, ESC), DEL and C1 (NEL U+0085 …);
# Zl/Zp: U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR. Together they are every
# character ``str.splitlines`` breaks on, and every one a terminal acts on.
_LINE_BREAKING = frozenset(("Cc", "Zl", "Zp"))
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
# A spreadsheet reads a cell starting with these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_control(char: str) -> bool:
    return unicodedata.category(char) in _LINE_BREAKING


def has_control_characters(text: str) -> bool:
    return any(is_control(char) for char in text)


def one_line(value: object) -> str:
    """``value`` as text on one line: each control character becomes its visible escape
    (``\\n``, ``\\x1b``, ``\\u2028``), so a stored value that predates the input rule
    shows what it holds and cannot start a line of its own."""
    text = "" if value is None else str(value)
    if not has_control_characters(text):
        return text
    return "".join(char.encode("unicode_escape").decode("ascii") if is_control(char)
                   else char for char in text)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading
    apostrophe (OWASP's advice); plain numbers such as ``-12.40`` stay numbers."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
