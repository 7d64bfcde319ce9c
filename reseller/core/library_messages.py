"""Messages libraries write (marshmallow's validators, IDNA, python-stdnum) turned into our
own, translated ones: a reseller never reads "Codepoint U+005F at position 4" or a
formatted English sentence gettext cannot look up."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# marshmallow formats its validators' messages before we see them, so gettext cannot find
# them: each known shape is matched and said again in our words.
_MARSHMALLOW: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
     lambda m: _("Use %(min)s to %(max)s characters.", min=m[1], max=m[2])),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"),
     lambda m: _("Use at least %(min)s characters.", min=m[1])),
    (re.compile(r"^Longer than maximum length (\d+)\.$"),
     lambda m: _("Use at most %(max)s characters.", max=m[1])),
    (re.compile(r"^Length must be (\d+)\.$"),
     lambda m: _("Use exactly %(n)s characters.", n=m[1])),
    (re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
     lambda m: _("Give a number from %(min)s to %(max)s.", min=m[1], max=m[2])),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"),
     lambda m: _("Give a number of at least %(min)s.", min=m[1])),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"),
     lambda m: _("Give a number of at most %(max)s.", max=m[1])),
    (re.compile(r"^Must be greater than (\S+)\.$"),
     lambda m: _("Give a number greater than %(min)s.", min=m[1])),
    (re.compile(r"^Must be one of: (.+)\.$"),
     lambda m: _("Choose one of: %(choices)s.", choices=m[1])),
    (re.compile(r"^Text input is malformed\.$"), lambda m: _("The value is not valid.")),
    (re.compile(r"^The number has an invalid format\.$"),
     lambda m: _("The number is not in a valid format.")),
    (re.compile(r"^The number's checksum or check digit is invalid\.$"),
     lambda m: _("The number's check digit does not match: check for a typing error.")),
    (re.compile(r"^The number has an invalid length\.$"),
     lambda m: _("The number has too many or too few digits.")),
    (re.compile(r"^One of the parts of the number are invalid or unknown\.$"),
     lambda m: _("Part of the number is not valid.")),
]


def library_message(text: str) -> str | None:
    """Our translated message for a library's formatted one, or None if not one we know."""
    for pattern, render in _MARSHMALLOW:
        if match := pattern.match(text):
            return render(match)
    return None


_CODEPOINT = re.compile(r"Codepoint (U\+[0-9A-F]{4,6})")


def idna_reason(error: Exception) -> Any:
    """Why IDNA refused a name, in the page's language."""
    text = str(error)
    if match := _CODEPOINT.search(text):
        char = chr(int(match[1][2:], 16))
        shown = char if char.isprintable() and not char.isspace() else match[1]
        return _l("The character “%(char)s” cannot be used in a domain name.", char=shown)
    lowered = text.lower()
    if "too long" in lowered:
        return _l("A part of the name is longer than 63 characters.")
    if "empty label" in lowered:
        return _l("The name has an empty part: two dots in a row, or a dot at the start.")
    if "hyphen" in lowered:
        return _l("A part of the name cannot start or end with a hyphen, nor have hyphens "
                 "as its third and fourth characters.")
    return _l("The name has characters that cannot be used together in a domain name.")


def translate_text(text: Any) -> str:
    """gettext for a message that may be a library's formatted one."""
    plain = str(text)
    if not plain:
        return plain
    return library_message(plain) or _(plain)
